/**
 * What every detector shares: the defect vocabulary, the event shape, the observation a
 * detector is fed, and the onset/clear state machine with hysteresis they all use.
 * A detector is fed observations and emits events; it knows nothing of where they come from.
 */
import type { VideoFeatures } from '../features/types.js';

export const DEFECT_TYPES = [
  'black',
  'freeze',
  'silence',
  'loudness',
  'clipping',
  'blockiness',
  'blur',
  'stall',
  'decode_error',
  'av_sync',
  'format_change',
] as const;
export type DefectType = (typeof DEFECT_TYPES)[number];

/** A defect as it is reported: `end` is null while it is still active. */
export interface DefectEvent {
  type: DefectType;
  /** Timeline seconds of the first defective frame or sample. */
  start: number;
  /** Timeline seconds of the first good frame after it; null while active. */
  end: number | null;
  /** Optional facts for people (e.g. the measured value that tripped the detector). */
  detail?: Record<string, number | string>;
}

export interface DefectSink {
  started(event: DefectEvent): void;
  ended(event: DefectEvent): void;
}

/** One analysed video frame, as detectors see it. */
export interface VideoObservation {
  /** Timeline seconds of this frame. */
  t: number;
  /** Nominal frame duration in seconds. */
  duration: number;
  features: VideoFeatures;
  /** The decoder marked this frame a keyframe (an intra refresh that ends error propagation). */
  keyframe?: boolean;
  /**
   * Mean absolute luma difference (0..255, sparse grid) to a held reference frame: the last
   * keyframe or the last frame that moved past the freeze noise floor (features/stillness.ts).
   * NaN or absent when there is no reference yet.
   */
  drift?: number;
}

/** Audio measurements for one block of samples (about 21 ms), as detectors see them. */
export interface AudioObservation {
  /** Timeline seconds of the block's first sample. */
  t: number;
  /** Block duration in seconds. */
  duration: number;
  /** Per-channel sample peak, dBFS (-Infinity for digital silence). */
  peakDbfs: readonly number[];
  /** Samples at or above the clip level in this block, all channels. */
  clippedSamples: number;
  /** EBU R128 momentary (400 ms) loudness, LUFS; -Infinity before 400 ms of audio. */
  momentaryLufs: number;
  /** EBU R128 short-term (3 s) loudness, LUFS; -Infinity before 3 s of audio. */
  shortTermLufs: number;
}

/** What the stream carries; a change of any field is a `format_change`. */
export interface StreamFormat {
  videoCodec: string | null;
  width: number | null;
  height: number | null;
  frameRate: number | null;
  audioCodec: string | null;
  sampleRate: number | null;
  channels: number | null;
  channelLayout: string | null;
}

export interface Detector {
  readonly type: DefectType;
  onVideo?(obs: VideoObservation): void;
  onAudio?(obs: AudioObservation): void;
  /** Periodic wall-clock tick: `t` is timeline now, `sinceMedia` seconds since media last arrived. */
  onTick?(t: number, sinceMedia: number): void;
  /** Media arrived again at timeline `t` (after any gap). */
  onMedia?(t: number): void;
  /** The decoder reported corrupt data at timeline `t`. */
  onDecodeError?(t: number, message: string): void;
  /** The stream's format as of timeline `t` (sent at start and on every change). */
  onFormat?(t: number, format: StreamFormat): void;
  /** Audio minus video presentation time at the same point of the stream, seconds. */
  onAvOffset?(t: number, offset: number): void;
  /**
   * Close whatever is active at timeline second `t` (end of input, shutdown, or a segment
   * boundary such as a reconnect), reporting `t` as its end.
   */
  flush(t: number): void;
}

/**
 * Onset/clear state machine shared by the duration-based detectors. A defect is reported
 * once the condition has held for `minDuration` seconds, with `start` at the first bad
 * sample; it clears after `clearAfter` consecutive good observations (hysteresis against
 * one-frame blips), with `end` at the first of those good observations.
 */
export class DefectTracker {
  private firstBad: number | null = null;
  private firstGood: number | null = null;
  private goodRun = 0;
  private active: DefectEvent | null = null;

  constructor(
    readonly type: DefectType,
    private readonly sink: DefectSink,
    private readonly minDuration: number,
    private readonly clearAfter = 1,
  ) {}

  get isActive(): boolean {
    return this.active !== null;
  }

  /** Feed one observation that lasts from `t` to `t + duration`. */
  update(t: number, duration: number, bad: boolean, detail?: () => Record<string, number | string>): void {
    if (bad) {
      this.goodRun = 0;
      this.firstGood = null;
      if (this.firstBad === null) this.firstBad = t;
      if (!this.active && t + duration - this.firstBad >= this.minDuration - 1e-9) {
        this.active = { type: this.type, start: this.firstBad, end: null, detail: detail?.() };
        this.sink.started({ ...this.active });
      }
      return;
    }
    if (this.firstBad === null) return;
    if (this.firstGood === null) this.firstGood = t;
    this.goodRun++;
    if (this.goodRun >= this.clearAfter) this.close(this.firstGood);
  }

  /** A good observation at `t` that clears at once, whatever `clearAfter` asks: the end is the run's first good one. */
  clearNow(t: number): void {
    this.close(this.firstGood ?? t);
  }

  /** End whatever is in progress at `t` (a pending run that never reached minDuration is dropped). */
  close(t: number): void {
    if (this.active) {
      this.active.end = Math.max(t, this.active.start);
      this.sink.ended({ ...this.active });
    }
    this.active = null;
    this.firstBad = null;
    this.firstGood = null;
    this.goodRun = 0;
  }
}
