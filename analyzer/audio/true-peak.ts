/**
 * True peak per ITU-R BS.1770-4 Annex 2: the signal is oversampled 4x with the Annex's 48-tap
 * interpolation filter (4 phases of 12 taps) and the largest magnitude is reported in dBTP.
 * This catches inter-sample peaks that a sample-peak meter misses and a DAC or a lossy encoder
 * turns into clipping.
 *
 * Differences from a literal reading of the Annex, each on purpose:
 * - The Annex filter never lands on the original sample instants (its four phases sit between
 *   them), so on its own it can read up to 0.2 dB below the sample peak. The sample itself is
 *   therefore part of the maximum: a true peak never reads below the sample peak.
 * - Input is float, so the Annex's 12.04 dB attenuation (headroom for fixed point) is not needed.
 * - At 176.4 kHz and above the samples are already dense enough; no oversampling is done.
 *   Below that the same normalised filter is used at every rate (4x of 44.1 kHz is 176.4 kHz).
 * The filter delays by about 6 samples, so a block's reading includes the interpolated points
 * up to about 6 samples before its end; the rest count in the next block.
 */
import { amplitudeToDb, assertAudioFormat, framesIn } from './format.js';

/** At or above this rate samples are already 4x of a 44.1 kHz band; no oversampling. */
export const NO_OVERSAMPLING_FROM_HZ = 176400;

const TAPS = 12;
/** Samples of history the filter needs from the previous block. */
const HISTORY = TAPS - 1;

/** One polyphase branch of the interpolation filter: TAPS coefficients. */
type Phase = readonly [number, number, number, number, number, number, number, number, number, number, number, number];
/**
 * A mirrored phase pair: the even (e) and odd (o) halves, TAPS / 2 coefficients each. Named
 * fields, not arrays: array destructuring in the filter loop's function goes through the
 * iterator protocol, which made V8's optimizing compile of it several times longer.
 */
interface MirroredPair {
  readonly e0: number;
  readonly e1: number;
  readonly e2: number;
  readonly e3: number;
  readonly e4: number;
  readonly e5: number;
  readonly o0: number;
  readonly o1: number;
  readonly o2: number;
  readonly o3: number;
  readonly o4: number;
  readonly o5: number;
}

// BS.1770-4 Annex 2, phases 0 and 1, applied as y[n] = sum over k of h[k] x[n - k]. The 48-tap
// prototype is symmetric, so phase 3 is phase 0 reversed and phase 2 is phase 1 reversed.
const ANNEX2_PHASE_0: Phase = [
  0.001708984375, 0.010986328125, -0.0196533203125, 0.033203125, -0.0594482421875, 0.1373291015625, 0.97216796875,
  -0.102294921875, 0.047607421875, -0.026611328125, 0.014892578125, -0.00830078125,
];
const ANNEX2_PHASE_1: Phase = [
  -0.0291748046875, 0.029296875, -0.0517578125, 0.089111328125, -0.16650390625, 0.465087890625, 0.77978515625,
  -0.2003173828125, 0.1015625, -0.0582275390625, 0.0330810546875, -0.0189208984375,
];

/**
 * A phase p and its mirror q (p reversed) give, with u_k = x_k + x_(11-k), v_k = x_k - x_(11-k):
 *   (p + q) / 2 = sum over k < 6 of even_k u_k,   (p - q) / 2 = sum over k < 6 of odd_k v_k,
 * and max(|p|, |q|) = |(p + q) / 2| + |(p - q) / 2|. So one pass of 6 + 6 multiplies per pair
 * yields the larger of both phases: 24 multiplies per sample instead of 48.
 */
function mirroredPair([h0, h1, h2, h3, h4, h5, h6, h7, h8, h9, h10, h11]: Phase): MirroredPair {
  return {
    e0: (h0 + h11) / 2,
    e1: (h1 + h10) / 2,
    e2: (h2 + h9) / 2,
    e3: (h3 + h8) / 2,
    e4: (h4 + h7) / 2,
    e5: (h5 + h6) / 2,
    o0: (h0 - h11) / 2,
    o1: (h1 - h10) / 2,
    o2: (h2 - h9) / 2,
    o3: (h3 - h8) / 2,
    o4: (h4 - h7) / 2,
    o5: (h5 - h6) / 2,
  };
}

const PAIR_0_3 = mirroredPair(ANNEX2_PHASE_0);
const PAIR_1_2 = mirroredPair(ANNEX2_PHASE_1);

export class TruePeakMeter {
  /** 4, or 1 at 176.4 kHz and above. */
  readonly oversampling: 1 | 4;
  /** Per channel: the last HISTORY input samples, oldest first. */
  private readonly history: Float64Array;
  private blockPeak = 0;
  private maxPeak = 0;

  /**
   * @param sampleRate 8000..768000 Hz
   * @param channels 1..64 (every channel counts, LFE included)
   */
  constructor(
    readonly sampleRate: number,
    readonly channels: number,
  ) {
    assertAudioFormat(sampleRate, channels);
    this.oversampling = sampleRate >= NO_OVERSAMPLING_FROM_HZ ? 1 : 4;
    this.history = new Float64Array(HISTORY * channels);
  }

  /** True peak of the last pushed block over all channels, dBTP; -Infinity for digital silence. */
  get blockTruePeakDbtp(): number {
    return amplitudeToDb(this.blockPeak);
  }

  /** Highest true peak of the segment so far, dBTP. */
  get maxTruePeakDbtp(): number {
    return amplitudeToDb(this.maxPeak);
  }

  push(interleaved: Float32Array): void {
    framesIn(interleaved, this.channels);
    let peak = 0;
    for (let c = 0; c < this.channels; c++) {
      const channelPeak =
        this.oversampling === 1
          ? samplePeak(interleaved, c, this.channels)
          : this.oversampledPeak(interleaved, c, this.channels);
      if (channelPeak > peak) peak = channelPeak;
    }
    this.blockPeak = peak;
    if (peak > this.maxPeak) this.maxPeak = peak;
  }

  /** Start a new segment: forget the filter history and the running maximum. */
  reset(): void {
    this.history.fill(0);
    this.blockPeak = 0;
    this.maxPeak = 0;
  }

  /**
   * Largest magnitude of one channel over the 4 oversampled phases and the samples themselves.
   * The 12 samples under the filter slide through locals (x0 newest, x11 oldest), which the
   * JIT keeps in registers: measured faster than re-reading them from a buffer.
   */
  private oversampledPeak(interleaved: Float32Array, channel: number, channels: number): number {
    const history = this.history;
    const h = channel * HISTORY;
    let x11 = history[h] ?? 0;
    let x10 = history[h + 1] ?? 0;
    let x9 = history[h + 2] ?? 0;
    let x8 = history[h + 3] ?? 0;
    let x7 = history[h + 4] ?? 0;
    let x6 = history[h + 5] ?? 0;
    let x5 = history[h + 6] ?? 0;
    let x4 = history[h + 7] ?? 0;
    let x3 = history[h + 8] ?? 0;
    let x2 = history[h + 9] ?? 0;
    let x1 = history[h + 10] ?? 0;
    const { e0, e1, e2, e3, e4, e5, o0, o1, o2, o3, o4, o5 } = PAIR_0_3;
    const { e0: f0, e1: f1, e2: f2, e3: f3, e4: f4, e5: f5, o0: p0, o1: p1, o2: p2, o3: p3, o4: p4, o5: p5 } = PAIR_1_2;
    let peak = 0;
    for (let i = channel; i < interleaved.length; i += channels) {
      const x0 = interleaved[i] ?? 0;
      const u0 = x0 + x11;
      const u1 = x1 + x10;
      const u2 = x2 + x9;
      const u3 = x3 + x8;
      const u4 = x4 + x7;
      const u5 = x5 + x6;
      const v0 = x0 - x11;
      const v1 = x1 - x10;
      const v2 = x2 - x9;
      const v3 = x3 - x8;
      const v4 = x4 - x7;
      const v5 = x5 - x6;
      const phases03 =
        Math.abs(e0 * u0 + e1 * u1 + e2 * u2 + e3 * u3 + e4 * u4 + e5 * u5) +
        Math.abs(o0 * v0 + o1 * v1 + o2 * v2 + o3 * v3 + o4 * v4 + o5 * v5);
      const phases12 =
        Math.abs(f0 * u0 + f1 * u1 + f2 * u2 + f3 * u3 + f4 * u4 + f5 * u5) +
        Math.abs(p0 * v0 + p1 * v1 + p2 * v2 + p3 * v3 + p4 * v4 + p5 * v5);
      const sample = Math.abs(x0);
      // NaN compares false, so a corrupt sample cannot stick in the maximum; it leaves the
      // filter after 11 samples.
      if (phases03 > peak) peak = phases03;
      if (phases12 > peak) peak = phases12;
      if (sample > peak) peak = sample;
      x11 = x10;
      x10 = x9;
      x9 = x8;
      x8 = x7;
      x7 = x6;
      x6 = x5;
      x5 = x4;
      x4 = x3;
      x3 = x2;
      x2 = x1;
      x1 = x0;
    }
    history[h] = x11;
    history[h + 1] = x10;
    history[h + 2] = x9;
    history[h + 3] = x8;
    history[h + 4] = x7;
    history[h + 5] = x6;
    history[h + 6] = x5;
    history[h + 7] = x4;
    history[h + 8] = x3;
    history[h + 9] = x2;
    history[h + 10] = x1;
    return peak;
  }
}

function samplePeak(interleaved: Float32Array, channel: number, channels: number): number {
  let peak = 0;
  for (let i = channel; i < interleaved.length; i += channels) {
    const a = Math.abs(interleaved[i] ?? 0);
    if (a > peak) peak = a;
  }
  return peak;
}
