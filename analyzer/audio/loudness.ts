/**
 * Programme loudness per ITU-R BS.1770-4 and EBU R128 (Tech 3341 meters, Tech 3342 loudness
 * range): K-weighting, channel weighting, momentary (400 ms), short-term (3 s) and gated
 * integrated loudness, and loudness range.
 *
 * Cost model: the only per-sample work is two biquads and a square per weighted channel. All
 * windows are built from 10 ms sub-block energies, so momentary and short-term loudness are
 * sums over a ring of 40 and 300 numbers. Their maxima are taken every 10 ms (Tech 3341 cases
 * 13 and 14: a 400 ms tone 20 ms off a 100 ms grid is never whole in one window there, and
 * reads up to 0.45 LU low); the published values, the gating blocks and the loudness range
 * stay on the 100 ms step R128 and Tech 3342 ask for. Integrated loudness and loudness range
 * keep fixed-size histograms (as libebur128 and ffmpeg do), so memory does not grow with the
 * length of a live stream.
 */
import { assertAudioFormat, framesIn } from './format.js';

/** Normalised biquad, a0 = 1: y = b0 x + b1 x[-1] + b2 x[-2] - a1 y[-1] - a2 y[-2]. */
export interface Biquad {
  readonly b0: number;
  readonly b1: number;
  readonly b2: number;
  readonly a1: number;
  readonly a2: number;
}

/** The two K-weighting stages of BS.1770: a high-frequency shelf, then the RLB high-pass. */
export interface KWeighting {
  readonly shelf: Biquad;
  readonly highPass: Biquad;
}

/**
 * K-weighting for any sample rate. BS.1770 tabulates coefficients only for 48 kHz; these are
 * the analog prototypes fitted to that table (the parameters libebur128 uses), mapped to the
 * given rate with the bilinear transform pre-warped at each filter's own frequency. At 48 kHz
 * they reproduce the table to better than 1e-8.
 */
export function kWeightingFor(sampleRate: number): KWeighting {
  // Stage 1: second-order high shelf, about +4 dB above 2 kHz (models the head's acoustics).
  const shelfHz = 1681.974450955533;
  const shelfGainDb = 3.999843853973347;
  const shelfQ = 0.7071752369554196;
  const k = Math.tan((Math.PI * shelfHz) / sampleRate);
  const vh = Math.pow(10, shelfGainDb / 20);
  const vb = Math.pow(vh, 0.4996667741545416);
  const a0 = 1 + k / shelfQ + k * k;
  const shelf: Biquad = {
    b0: (vh + (vb * k) / shelfQ + k * k) / a0,
    b1: (2 * (k * k - vh)) / a0,
    b2: (vh - (vb * k) / shelfQ + k * k) / a0,
    a1: (2 * (k * k - 1)) / a0,
    a2: (1 - k / shelfQ + k * k) / a0,
  };

  // Stage 2: the revised low-frequency B-curve (RLB), a second-order high-pass near 38 Hz.
  // The BS.1770 table keeps its numerator at 1, -2, 1, which is the exact high-pass times a
  // passband gain of a0 at 48 kHz (+0.043 dB, absorbed by the -0.691 dB offset). libebur128
  // keeps 1, -2, 1 at every rate, so its passband gain, and every reading, shifts with the rate
  // (-0.022 dB at 96 kHz). Scaling by a0(48 kHz) / a0(rate) keeps the 48 kHz table exact and
  // makes the same audio read the same at any rate.
  const highPassHz = 38.13547087602444;
  const highPassQ = 0.5003270373238773;
  const highPassA0 = (rate: number): number => {
    const kh = Math.tan((Math.PI * highPassHz) / rate);
    return 1 + kh / highPassQ + kh * kh;
  };
  const kh = Math.tan((Math.PI * highPassHz) / sampleRate);
  const ah = highPassA0(sampleRate);
  const gain = highPassA0(48000) / ah;
  const highPass: Biquad = {
    b0: gain,
    b1: -2 * gain,
    b2: gain,
    a1: (2 * (kh * kh - 1)) / ah,
    a2: (1 - kh / highPassQ + kh * kh) / ah,
  };
  return { shelf, highPass };
}

/** BS.1770 weight of a surround channel (+1.5 dB). */
const SURROUND = 1.41;

/**
 * BS.1770 weight of each channel ffmpeg names (`ffmpeg -layouts`), the convention of ffmpeg's
 * own ebur128 filter: 0 for the low-frequency channels (excluded from loudness), 1.41 (+1.5 dB)
 * for side, back, top-back and surround-direct channels, 1.0 for the rest (front, wide, top
 * front and centre, bottom, downmix).
 */
const CHANNEL_WEIGHTS: Readonly<Record<string, number>> = {
  LFE: 0,
  LFE2: 0,
  BL: SURROUND,
  BR: SURROUND,
  BC: SURROUND,
  SL: SURROUND,
  SR: SURROUND,
  TBL: SURROUND,
  TBC: SURROUND,
  TBR: SURROUND,
  SDL: SURROUND,
  SDR: SURROUND,
};

/**
 * ffmpeg's standard channel layouts (libavutil, `ffmpeg -layouts`), channel by channel in the
 * order its decoder emits them. A test checks this table against the installed ffmpeg.
 */
export const FFMPEG_LAYOUTS: Readonly<Record<string, string>> = {
  mono: 'FC',
  stereo: 'FL+FR',
  '2.1': 'FL+FR+LFE',
  '3.0': 'FL+FR+FC',
  '3.0(back)': 'FL+FR+BC',
  '4.0': 'FL+FR+FC+BC',
  quad: 'FL+FR+BL+BR',
  'quad(side)': 'FL+FR+SL+SR',
  '3.1': 'FL+FR+FC+LFE',
  '5.0': 'FL+FR+FC+BL+BR',
  '5.0(side)': 'FL+FR+FC+SL+SR',
  '4.1': 'FL+FR+FC+LFE+BC',
  '5.1': 'FL+FR+FC+LFE+BL+BR',
  '5.1(side)': 'FL+FR+FC+LFE+SL+SR',
  '6.0': 'FL+FR+FC+BC+SL+SR',
  '6.0(front)': 'FL+FR+FLC+FRC+SL+SR',
  hexagonal: 'FL+FR+FC+BL+BR+BC',
  '6.1': 'FL+FR+FC+LFE+BC+SL+SR',
  '6.1(back)': 'FL+FR+FC+LFE+BL+BR+BC',
  '6.1(front)': 'FL+FR+LFE+FLC+FRC+SL+SR',
  '7.0': 'FL+FR+FC+BL+BR+SL+SR',
  '7.0(front)': 'FL+FR+FC+FLC+FRC+SL+SR',
  '7.1': 'FL+FR+FC+LFE+BL+BR+SL+SR',
  '7.1(wide)': 'FL+FR+FC+LFE+BL+BR+FLC+FRC',
  '7.1(wide-side)': 'FL+FR+FC+LFE+FLC+FRC+SL+SR',
  octagonal: 'FL+FR+FC+BL+BR+BC+SL+SR',
  hexadecagonal: 'FL+FR+FC+BL+BR+BC+SL+SR+TFL+TFC+TFR+TBL+TBC+TBR+WL+WR',
  downmix: 'DL+DR',
  '22.2': 'FL+FR+FC+LFE+BL+BR+FLC+FRC+BC+SL+SR+TC+TFL+TFC+TFR+TBL+TBC+TBR+LFE2+TSL+TSR+BFC+BFL+BFR',
};

/** The channel names of a layout as ffmpeg writes it: a standard name, `FL+FR+LFE`, or `3 channels (FL+FR+LFE)`. */
function channelNamesOf(layout: string): string[] | null {
  const standard = FFMPEG_LAYOUTS[layout];
  if (standard !== undefined) return standard.split('+');
  const spelled = /(?:^|\()([A-Z0-9]+(?:\+[A-Z0-9]+)*)\)?$/.exec(layout.trim());
  return spelled?.[1]?.split('+') ?? null;
}

/**
 * BS.1770 weights by channel index for a channel layout as ffmpeg reports it (probe or
 * decoder). A layout ffmpeg does not name, or one whose channel count differs from what is
 * decoded, falls back to ffmpeg's default layout for the count (defaultChannelWeights).
 */
export function channelWeightsFor(layout: string | null, channels: number): number[] {
  const names = layout === null ? null : channelNamesOf(layout);
  if (names?.length !== channels) return defaultChannelWeights(channels);
  return names.map((name) => CHANNEL_WEIGHTS[name] ?? 1);
}

/** ffmpeg's default layout for each channel count (av_channel_layout_default), as its decoders fall back to. */
const DEFAULT_LAYOUTS: Readonly<Record<number, string>> = {
  1: 'mono',
  2: 'stereo',
  3: '2.1',
  4: '4.0',
  5: '5.0',
  6: '5.1',
  7: '6.1',
  8: '7.1',
};

/**
 * Channel weights by channel index for ffmpeg's default layout of each channel count (the
 * order the analyzer's decoder emits when the source names no layout). Counts above 8 have no
 * standard layout; every channel then weighs 1.0 unless the caller passes weights.
 */
export function defaultChannelWeights(channels: number): number[] {
  const layout = FFMPEG_LAYOUTS[DEFAULT_LAYOUTS[channels] ?? ''];
  if (layout === undefined) return new Array<number>(channels).fill(1);
  return layout.split('+').map((name) => CHANNEL_WEIGHTS[name] ?? 1);
}

/** BS.1770 loudness of a mean-square (channel-weighted, K-weighted) energy; 0 gives -Infinity. */
export function loudnessOfEnergy(energy: number): number {
  return -0.691 + 10 * Math.log10(energy);
}

/** Blocks at or below this loudness never count (BS.1770 absolute gate). */
export const ABSOLUTE_GATE_LUFS = -70;
/** Integrated loudness: blocks more than this far below the absolute-gated mean are dropped. */
export const INTEGRATED_RELATIVE_GATE_LU = -10;
/** Loudness range: short-term values this far below their absolute-gated mean are dropped. */
export const RANGE_RELATIVE_GATE_LU = -20;

/** Sub-blocks per second: 10 ms each. */
const SUB_BLOCKS_PER_SECOND = 100;
/** Sub-blocks between two published readings (and two gating blocks): 100 ms. */
const SUB_BLOCKS_PER_UPDATE = 10;
/** Sub-blocks in the momentary window: 400 ms. */
const MOMENTARY_SUB_BLOCKS = 40;
/** Sub-blocks in the short-term window: 3 s. */
const SHORT_TERM_SUB_BLOCKS = 300;

/** Histogram resolution: 0.01 LU per bin, the grain ffmpeg's ebur128 filter uses. */
const BINS_PER_LU = 100;
/** Top of the histograms. Full-scale programme stays below +10 LUFS; louder blocks share the top bin. */
const HISTOGRAM_TOP_LUFS = 10;
const HISTOGRAM_BINS = (HISTOGRAM_TOP_LUFS - ABSOLUTE_GATE_LUFS) * BINS_PER_LU;

/** Filter state this small is far below any audible level; flushing it avoids slow subnormal math. */
const STATE_FLUSH_LEVEL = 1e-20;

/**
 * The distribution of block loudnesses above the absolute gate, in 0.01 LU bins. Each bin also
 * keeps the exact sum of its blocks' energies, so the gated mean is exact except for the blocks
 * within 0.01 LU of the relative gate.
 */
export class GatedLoudnessHistogram {
  private readonly counts = new Float64Array(HISTOGRAM_BINS);
  private readonly energies = new Float64Array(HISTOGRAM_BINS);
  private totalEnergy = 0;
  private totalCount = 0;

  add(energy: number): void {
    const lufs = loudnessOfEnergy(energy);
    if (!(lufs > ABSOLUTE_GATE_LUFS)) return;
    const bin = Math.min(HISTOGRAM_BINS - 1, Math.floor((lufs - ABSOLUTE_GATE_LUFS) * BINS_PER_LU));
    this.counts[bin] = (this.counts[bin] ?? 0) + 1;
    this.energies[bin] = (this.energies[bin] ?? 0) + energy;
    this.totalEnergy += energy;
    this.totalCount += 1;
  }

  get byteLength(): number {
    return this.counts.byteLength + this.energies.byteLength;
  }

  /**
   * First bin above the relative gate (gate = loudness of the absolute-gated mean + relativeLu).
   * A bin counts when its centre is above the gate.
   */
  firstBinAbove(relativeLu: number): number {
    const gate = loudnessOfEnergy(this.totalEnergy / this.totalCount) + relativeLu;
    const bin = Math.ceil((gate - ABSOLUTE_GATE_LUFS) * BINS_PER_LU - 0.5);
    return Math.max(0, bin);
  }

  /** Loudness of the mean energy of the blocks above the relative gate; -Infinity if none. */
  gatedLoudness(relativeLu: number): number {
    if (this.totalCount === 0) return -Infinity;
    let energy = 0;
    let count = 0;
    for (let bin = this.firstBinAbove(relativeLu); bin < HISTOGRAM_BINS; bin++) {
      energy += this.energies[bin] ?? 0;
      count += this.counts[bin] ?? 0;
    }
    return count > 0 ? loudnessOfEnergy(energy / count) : -Infinity;
  }

  /**
   * EBU Tech 3342 loudness range: the spread between the 10th and 95th percentiles of the
   * values above the relative gate, read at bin centres. 0 when nothing passes the gates.
   */
  range(relativeLu: number, lowPercentile: number, highPercentile: number): number {
    if (this.totalCount === 0) return 0;
    const first = this.firstBinAbove(relativeLu);
    let count = 0;
    for (let bin = first; bin < HISTOGRAM_BINS; bin++) count += this.counts[bin] ?? 0;
    if (count === 0) return 0;
    // Percentile p is the value at sorted index round((count - 1) * p), as libebur128 reads it.
    const low = this.loudnessAtRank(first, Math.round((count - 1) * lowPercentile));
    const high = this.loudnessAtRank(first, Math.round((count - 1) * highPercentile));
    return high - low;
  }

  private loudnessAtRank(first: number, rank: number): number {
    let seen = 0;
    for (let bin = first; bin < HISTOGRAM_BINS; bin++) {
      seen += this.counts[bin] ?? 0;
      if (seen > rank) return ABSOLUTE_GATE_LUFS + (bin + 0.5) / BINS_PER_LU;
    }
    return HISTOGRAM_TOP_LUFS;
  }

  clear(): void {
    this.counts.fill(0);
    this.energies.fill(0);
    this.totalEnergy = 0;
    this.totalCount = 0;
  }
}

/**
 * Streaming BS.1770-4 / EBU R128 loudness meter for one segment of interleaved float PCM.
 * Push any number of frames at a time. The audio is cut into 10 ms sub-blocks, sub-block k
 * ending at sample round(k * rate / 100) of the segment, so none drifts at rates that are not a
 * multiple of 100 Hz. Momentary and short-term readings change at every tenth sub-block (100 ms),
 * so they lag the latest sample by under 100 ms; their maxima are kept on the 10 ms grid.
 */
export class LoudnessMeter {
  /** Sub-blocks between two published readings: the 10 ms grid under the 100 ms one. */
  readonly subBlocksPerUpdate = SUB_BLOCKS_PER_UPDATE;
  /** Nominal frames per 100 ms (the readings' step); the grid itself is exact, see the class doc. */
  readonly samplesPer100ms: number;
  readonly channelWeights: readonly number[];
  private readonly shelf: Biquad;
  private readonly highPass: Biquad;
  /** Per channel: shelf s1, s2 then high-pass s1, s2 (transposed direct form II). */
  private readonly filterState: Float64Array;
  /** Channel-weighted sum of squared K-weighted samples in the current 10 ms sub-block. */
  private subBlockSum = 0;
  private subBlockFrames = 0;
  /** Frames of the current sub-block, and its index within the second (0..99). */
  private subBlockLength: number;
  private subBlockInSecond = 0;
  /** Rings of the last 300 completed sub-blocks (3 s): their sums and their lengths in frames. */
  private readonly recentSums = new Float64Array(SHORT_TERM_SUB_BLOCKS);
  private readonly recentFrames = new Float64Array(SHORT_TERM_SUB_BLOCKS);
  private ringNext = 0;
  private completedSubBlocks = 0;
  /** Sums and lengths of the newest 40 and 300 sub-blocks. */
  private momentaryWindowSum = 0;
  private momentaryWindowFrames = 0;
  private shortTermWindowSum = 0;
  private shortTermWindowFrames = 0;
  private momentary = -Infinity;
  private shortTerm = -Infinity;
  private maxMomentaryEnergy = -1;
  private maxShortTermEnergy = -1;
  private readonly gatingBlocks = new GatedLoudnessHistogram();
  private readonly shortTermValues = new GatedLoudnessHistogram();
  private integratedCache: number | null = null;
  private rangeCache: number | null = null;
  /**
   * Called at every 100 ms step with the gating block's energy and the short-term energy (null
   * before 3 s): what a second accumulator (a programme period) needs to gate on its own.
   */
  onStep: ((gatingEnergy: number, shortTermEnergy: number | null) => void) | null = null;

  /**
   * @param sampleRate 8000..768000 Hz
   * @param channels 1..64, interleaved in the order of `channelWeights`
   * @param channelWeights BS.1770 weight per channel index (0 excludes a channel, e.g. LFE);
   *   defaults to ffmpeg's default layout for the channel count, see channelWeightsFor
   */
  constructor(
    readonly sampleRate: number,
    readonly channels: number,
    channelWeights: readonly number[] = defaultChannelWeights(channels),
  ) {
    assertAudioFormat(sampleRate, channels);
    if (channelWeights.length !== channels || channelWeights.some((w) => !(w >= 0 && w <= 10))) {
      throw new RangeError(
        `channelWeights [${channelWeights.join(', ')}] is not allowed: ${channels} numbers from 0 to 10`,
      );
    }
    this.channelWeights = [...channelWeights];
    this.samplesPer100ms = Math.round(sampleRate / 10);
    this.subBlockLength = this.subBlockEnd(0);
    const { shelf, highPass } = kWeightingFor(sampleRate);
    this.shelf = shelf;
    this.highPass = highPass;
    this.filterState = new Float64Array(4 * channels);
  }

  /** Loudness of the last 400 ms as of the last 100 ms boundary, LUFS; -Infinity before 400 ms. */
  get momentaryLufs(): number {
    return this.momentary;
  }

  /** Loudness of the last 3 s as of the last 100 ms boundary, LUFS; -Infinity before 3 s. */
  get shortTermLufs(): number {
    return this.shortTerm;
  }

  /** Highest momentary loudness of the segment on the 10 ms grid, LUFS; -Infinity before 400 ms. */
  get maxMomentaryLufs(): number {
    return this.maxMomentaryEnergy < 0 ? -Infinity : loudnessOfEnergy(this.maxMomentaryEnergy);
  }

  /** Highest short-term loudness of the segment on the 10 ms grid, LUFS; -Infinity before 3 s. */
  get maxShortTermLufs(): number {
    return this.maxShortTermEnergy < 0 ? -Infinity : loudnessOfEnergy(this.maxShortTermEnergy);
  }

  /** Gated integrated loudness of the segment so far, LUFS; -Infinity until a block passes the gates. */
  get integratedLufs(): number {
    this.integratedCache ??= this.gatingBlocks.gatedLoudness(INTEGRATED_RELATIVE_GATE_LU);
    return this.integratedCache;
  }

  /** EBU Tech 3342 loudness range of the segment so far, LU; 0 until 3 s of audio pass the gates. */
  get loudnessRangeLu(): number {
    this.rangeCache ??= this.shortTermValues.range(RANGE_RELATIVE_GATE_LU, 0.1, 0.95);
    return this.rangeCache;
  }

  /** Bytes held by the meter's arrays: fixed at construction, whatever the stream's length. */
  get retainedBytes(): number {
    return (
      this.filterState.byteLength +
      this.recentSums.byteLength +
      this.recentFrames.byteLength +
      this.gatingBlocks.byteLength +
      this.shortTermValues.byteLength
    );
  }

  push(interleaved: Float32Array): void {
    const frames = framesIn(interleaved, this.channels);
    let frame = 0;
    while (frame < frames) {
      const take = Math.min(frames - frame, this.subBlockLength - this.subBlockFrames);
      this.subBlockSum += this.weightedSquareSum(interleaved, frame, take);
      this.subBlockFrames += take;
      frame += take;
      if (this.subBlockFrames === this.subBlockLength) this.completeSubBlock();
    }
  }

  /** Start a new segment (reconnect, format change): forget all audio and every reading. */
  reset(): void {
    this.filterState.fill(0);
    this.subBlockSum = 0;
    this.subBlockFrames = 0;
    this.subBlockInSecond = 0;
    this.subBlockLength = this.subBlockEnd(0);
    this.recentSums.fill(0);
    this.recentFrames.fill(0);
    this.ringNext = 0;
    this.completedSubBlocks = 0;
    this.momentaryWindowSum = 0;
    this.momentaryWindowFrames = 0;
    this.shortTermWindowSum = 0;
    this.shortTermWindowFrames = 0;
    this.momentary = -Infinity;
    this.shortTerm = -Infinity;
    this.maxMomentaryEnergy = -1;
    this.maxShortTermEnergy = -1;
    this.gatingBlocks.clear();
    this.shortTermValues.clear();
    this.integratedCache = null;
    this.rangeCache = null;
  }

  /**
   * Frames of sub-block `k` of a second (0..99): it ends at sample round((k + 1) * rate / 100)
   * of the second. Whole seconds hold exactly `rate` frames, so indexing within the second
   * keeps the numbers small on a stream that runs for years.
   */
  private subBlockEnd(k: number): number {
    const rate = this.sampleRate;
    return Math.round(((k + 1) * rate) / SUB_BLOCKS_PER_SECOND) - Math.round((k * rate) / SUB_BLOCKS_PER_SECOND);
  }

  /**
   * K-weights `frames` frames from `firstFrame` and returns the channel-weighted sum of their
   * squares. Channel by channel, so each channel's filter state lives in locals for the loop.
   */
  private weightedSquareSum(interleaved: Float32Array, firstFrame: number, frames: number): number {
    const channels = this.channels;
    const state = this.filterState;
    const { b0, b1, b2, a1, a2 } = this.shelf;
    const { b0: hb0, a1: ha1, a2: ha2 } = this.highPass;
    let weighted = 0;
    for (let c = 0; c < channels; c++) {
      const weight = this.channelWeights[c] ?? 0;
      if (weight === 0) continue;
      const s = 4 * c;
      let s1 = state[s] ?? 0;
      let s2 = state[s + 1] ?? 0;
      let h1 = state[s + 2] ?? 0;
      let h2 = state[s + 3] ?? 0;
      let sum = 0;
      const end = (firstFrame + frames) * channels;
      for (let i = firstFrame * channels + c; i < end; i += channels) {
        const x = interleaved[i] ?? 0;
        const y = b0 * x + s1;
        s1 = b1 * x - a1 * y + s2;
        s2 = b2 * x - a2 * y;
        // High-pass numerator is hb0 * (1, -2, 1): one multiply serves all three taps.
        const g = hb0 * y;
        const z = g + h1;
        h1 = -2 * g - ha1 * z + h2;
        h2 = g - ha2 * z;
        sum += z * z;
      }
      if (!Number.isFinite(sum)) {
        // A NaN or infinite sample (a decoder fault) would poison the recursive filter for the
        // rest of the stream; drop this stretch of the channel and restart its filter instead.
        s1 = s2 = h1 = h2 = sum = 0;
      }
      state[s] = Math.abs(s1) < STATE_FLUSH_LEVEL ? 0 : s1;
      state[s + 1] = Math.abs(s2) < STATE_FLUSH_LEVEL ? 0 : s2;
      state[s + 2] = Math.abs(h1) < STATE_FLUSH_LEVEL ? 0 : h1;
      state[s + 3] = Math.abs(h2) < STATE_FLUSH_LEVEL ? 0 : h2;
      weighted += weight * sum;
    }
    return weighted;
  }

  private completeSubBlock(): void {
    const ring = this.recentSums;
    const lengths = this.recentFrames;
    const sum = this.subBlockSum;
    const frames = this.subBlockFrames;
    // The sub-block leaving the 3 s window (zeros while the ring fills) and the one leaving the 400 ms one.
    const next = this.ringNext;
    const leavingShort = ring[next] ?? 0;
    const leavingShortFrames = lengths[next] ?? 0;
    const momentaryOut = (next - MOMENTARY_SUB_BLOCKS + SHORT_TERM_SUB_BLOCKS) % SHORT_TERM_SUB_BLOCKS;
    const leavingMomentary = this.completedSubBlocks >= MOMENTARY_SUB_BLOCKS ? (ring[momentaryOut] ?? 0) : 0;
    const leavingMomentaryFrames = this.completedSubBlocks >= MOMENTARY_SUB_BLOCKS ? (lengths[momentaryOut] ?? 0) : 0;
    ring[next] = sum;
    lengths[next] = frames;
    this.ringNext = (next + 1) % SHORT_TERM_SUB_BLOCKS;
    this.subBlockSum = 0;
    this.subBlockFrames = 0;
    this.subBlockInSecond = (this.subBlockInSecond + 1) % SUB_BLOCKS_PER_SECOND;
    this.subBlockLength = this.subBlockEnd(this.subBlockInSecond);
    if (this.completedSubBlocks < SHORT_TERM_SUB_BLOCKS) this.completedSubBlocks++;
    // Between 100 ms steps the windows slide by a running sum; at each step they are summed afresh,
    // so rounding never builds up over more than 9 sub-blocks.
    this.momentaryWindowSum += sum - leavingMomentary;
    this.momentaryWindowFrames += frames - leavingMomentaryFrames;
    this.shortTermWindowSum += sum - leavingShort;
    this.shortTermWindowFrames += frames - leavingShortFrames;
    const step = this.subBlockInSecond % SUB_BLOCKS_PER_UPDATE === 0;
    if (step) this.sumWindowsAfresh();
    if (this.completedSubBlocks < MOMENTARY_SUB_BLOCKS) return;

    const full = this.completedSubBlocks >= SHORT_TERM_SUB_BLOCKS;
    const momentaryEnergy = Math.max(0, this.momentaryWindowSum / this.momentaryWindowFrames);
    if (momentaryEnergy > this.maxMomentaryEnergy) this.maxMomentaryEnergy = momentaryEnergy;
    const shortTermEnergy = Math.max(0, this.shortTermWindowSum / this.shortTermWindowFrames);
    if (full && shortTermEnergy > this.maxShortTermEnergy) this.maxShortTermEnergy = shortTermEnergy;
    if (!step) return;

    // Each 400 ms window, stepped by 100 ms, is also a BS.1770 gating block (75% overlap).
    this.momentary = loudnessOfEnergy(momentaryEnergy);
    this.gatingBlocks.add(momentaryEnergy);
    this.integratedCache = null;
    if (full) {
      // Tech 3342 feeds the range from short-term values at 10 Hz or more: every 100 ms here.
      this.shortTerm = loudnessOfEnergy(shortTermEnergy);
      this.shortTermValues.add(shortTermEnergy);
      this.rangeCache = null;
    }
    this.onStep?.(momentaryEnergy, full ? shortTermEnergy : null);
  }

  /** The 400 ms and 3 s window sums from the ring itself. */
  private sumWindowsAfresh(): void {
    const ring = this.recentSums;
    const lengths = this.recentFrames;
    let momentarySum = 0;
    let momentaryFrames = 0;
    let shortTermSum = 0;
    let shortTermFrames = 0;
    for (let age = 0, i = this.ringNext - 1; age < this.completedSubBlocks; age++, i--) {
      if (i < 0) i += SHORT_TERM_SUB_BLOCKS;
      const sum = ring[i] ?? 0;
      const length = lengths[i] ?? 0;
      if (age < MOMENTARY_SUB_BLOCKS) {
        momentarySum += sum;
        momentaryFrames += length;
      }
      shortTermSum += sum;
      shortTermFrames += length;
    }
    this.momentaryWindowSum = momentarySum;
    this.momentaryWindowFrames = momentaryFrames;
    this.shortTermWindowSum = shortTermSum;
    this.shortTermWindowFrames = shortTermFrames;
  }
}
