/**
 * Every audio measurement of one stream segment behind one call per decoded block: sample
 * levels, clipping, true peak and EBU R128 loudness. The analyzer feeds it the interleaved f32
 * blocks ffmpeg decodes (1024 frames, the last one possibly shorter) and calls reset() when a
 * new segment starts (reconnect, sample-rate or channel-layout change).
 */
import { defaultsOf, num, type OptionTable, type OptionValues } from '../options.js';
import { measureLevels, DEFAULT_CLIP_LEVEL } from './levels.js';
import { channelWeightsFor, LoudnessMeter } from './loudness.js';
import { TruePeakMeter } from './true-peak.js';

export const AUDIO_METER_OPTIONS = {
  // 0.1..1 is -20..0 dBFS, the range the clipping detector's levelDbfs option allows.
  clipLevel: num(
    DEFAULT_CLIP_LEVEL,
    0.1,
    1,
    'sample magnitude, as a fraction of full scale, at or above which a sample counts as clipped',
  ),
} as const satisfies OptionTable;

export type AudioMeterOptions = OptionValues<typeof AUDIO_METER_OPTIONS>;

/** Measurements of one pushed block; loudness is as of the end of the block. */
export interface AudioBlockMeasures {
  /** Per channel sample peak, dBFS; -Infinity for digital silence. */
  peakDbfs: number[];
  /** Per channel RMS, dBFS (a full-scale sine reads -3.01); -Infinity for digital silence. */
  rmsDbfs: number[];
  /** Samples of this block, all channels, at or above the clip level. */
  clippedSamples: number;
  /** True peak of this block over all channels, dBTP. */
  truePeakDbtp: number;
  /** EBU R128 momentary loudness (400 ms), LUFS; -Infinity before 400 ms of audio. */
  momentaryLufs: number;
  /** EBU R128 short-term loudness (3 s), LUFS; -Infinity before 3 s of audio. */
  shortTermLufs: number;
}

export class AudioMeter {
  private readonly loudness: LoudnessMeter;
  private readonly truePeak: TruePeakMeter;
  private readonly clipLevel: number;

  /**
   * @param sampleRate 8000..768000 Hz
   * @param channels 1..64, in the order of `channelLayout`
   * @param channelLayout the layout as ffmpeg reports it (`5.1(side)`, `FL+FR+LFE`); it sets each
   *   channel's BS.1770 weight. null or unknown: ffmpeg's default layout for the count (5.1: L R C LFE Ls Rs)
   */
  constructor(
    readonly sampleRate: number,
    readonly channels: number,
    opts: AudioMeterOptions = defaultsOf(AUDIO_METER_OPTIONS),
    channelLayout: string | null = null,
  ) {
    const { min, max } = AUDIO_METER_OPTIONS.clipLevel;
    if (!(opts.clipLevel >= min && opts.clipLevel <= max)) {
      throw new RangeError(`clipLevel ${opts.clipLevel} is not allowed: a number from ${min} to ${max}`);
    }
    this.clipLevel = opts.clipLevel;
    this.loudness = new LoudnessMeter(sampleRate, channels, channelWeightsFor(channelLayout, channels));
    this.truePeak = new TruePeakMeter(sampleRate, channels);
  }

  push(interleaved: Float32Array): AudioBlockMeasures {
    const { peakDbfs, rmsDbfs, clippedSamples } = measureLevels(interleaved, this.channels, this.clipLevel);
    this.truePeak.push(interleaved);
    this.loudness.push(interleaved);
    return {
      peakDbfs,
      rmsDbfs,
      clippedSamples,
      truePeakDbtp: this.truePeak.blockTruePeakDbtp,
      momentaryLufs: this.loudness.momentaryLufs,
      shortTermLufs: this.loudness.shortTermLufs,
    };
  }

  /** Gated integrated loudness of the segment, LUFS; -Infinity until a 400 ms block passes the gates. */
  get integratedLufs(): number {
    return this.loudness.integratedLufs;
  }

  /** Momentary loudness as of the last 100 ms boundary, LUFS; -Infinity before 400 ms. */
  get momentaryLufs(): number {
    return this.loudness.momentaryLufs;
  }

  /** Short-term loudness as of the last 100 ms boundary, LUFS; -Infinity before 3 s. */
  get shortTermLufs(): number {
    return this.loudness.shortTermLufs;
  }

  /** Highest momentary loudness of the segment on a 10 ms grid, LUFS; -Infinity before 400 ms. */
  get maxMomentaryLufs(): number {
    return this.loudness.maxMomentaryLufs;
  }

  /** Highest short-term loudness of the segment on a 10 ms grid, LUFS; -Infinity before 3 s. */
  get maxShortTermLufs(): number {
    return this.loudness.maxShortTermLufs;
  }

  /** BS.1770 weight of each channel, as the layout set them. */
  get channelWeights(): readonly number[] {
    return this.loudness.channelWeights;
  }

  /** Receives every 100 ms gating block and short-term energy (see LoudnessMeter.onStep). */
  set onLoudnessStep(listener: LoudnessMeter['onStep']) {
    this.loudness.onStep = listener;
  }

  /** EBU Tech 3342 loudness range of the segment, LU; 0 until enough audio passes the gates. */
  get loudnessRangeLu(): number {
    return this.loudness.loudnessRangeLu;
  }

  /** Highest true peak of the segment, dBTP. */
  get truePeakMaxDbtp(): number {
    return this.truePeak.maxTruePeakDbtp;
  }

  /** Bytes held by the loudness meter's arrays: fixed, whatever the stream's length. */
  get retainedBytes(): number {
    return this.loudness.retainedBytes;
  }

  /** Start a new segment (after a reconnect or a format change). */
  reset(): void {
    this.loudness.reset();
    this.truePeak.reset();
  }
}
