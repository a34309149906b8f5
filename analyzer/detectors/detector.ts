/**
 * What a detector is (libavfilter's AVFilter, for defects): a descriptor that names its defect
 * type, declares its option table and builds it for one stream; the observations it is fed;
 * the events it emits; and the onset/clear state machine with hysteresis most of them use.
 * A detector is fed observations and emits events; it knows nothing of where they come from,
 * nor of the other detectors: these shapes are generic in the defect type's name, and
 * detectors/index.ts lists the detectors (types.ts binds these shapes to that list's names).
 */
import type { VideoFeatures } from '../features/types.js';
import type { BooleanOption, OptionTable, OptionValues } from '../options.js';
import type { TransportEvent } from '../transport/checker.js';
import type { DeliveryObservation } from '../delivery/observations.js';

/** A defect as it is reported: `end` is null while it is still active. */
export interface DefectEvent<T extends string = string> {
  type: T;
  /** Timeline seconds of the first defective frame or sample. */
  start: number;
  /** Timeline seconds of the first good frame after it; null while active. */
  end: number | null;
  /** Optional facts for people (e.g. the measured value that tripped the detector). */
  detail?: Record<string, number | string>;
}

export interface DefectSink<T extends string = string> {
  started(event: DefectEvent<T>): void;
  ended(event: DefectEvent<T>): void;
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
  /** This frame starts a new shot (features/shot-cut.ts); absent unless a detector needs shot cuts. */
  cut?: boolean;
  /**
   * Share of the picture (0..1) the corruption model calls corrupted (features/corruption.ts).
   * NaN or absent on frames it did not run on (it runs on every `stride`-th frame).
   */
  corruption?: number;
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

/** Why a programme loudness period ended. */
export type PeriodClosedBy = 'period' | 'marker' | 'end';

/** The loudness figures of one programme period (a configured length, or between markers). */
export interface LoudnessPeriod {
  /** Timeline seconds of the period's first and last audio. */
  start: number;
  end: number;
  closedBy: PeriodClosedBy;
  /** Gated integrated loudness of the period, LUFS; null when nothing passed the gates. */
  integratedLufs: number | null;
  /** EBU Tech 3342 loudness range of the period, LU; null when no 3 s window passed the gates. */
  loudnessRangeLu: number | null;
  /** Highest true peak of the period, dBTP; null for digital silence. */
  maxTruePeakDbtp: number | null;
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

/** Values a detector exposes for the analyzer's gauges, read after every video frame. */
export interface DetectorGauges {
  /** Blur score, 0 (as sharp as usual) .. 1 (no detail left): the blur gauge. */
  blur?: number;
}

export interface Detector<T extends string = string> {
  readonly type: T;
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
  /** A programme loudness period closed (its length elapsed, a marker, or the end of input). */
  onLoudnessPeriod?(period: LoudnessPeriod): void;
  /** What the transport stream checker saw (MPEG-TS sources only), at timeline second `t`. */
  onTransport?(t: number, event: TransportEvent): void;
  /** What the HLS client observed (a playlist load, a segment fetch, the ladder): delivery/observations.ts. */
  onDelivery?(observation: DeliveryObservation): void;
  /**
   * Close whatever is active at timeline second `t` (end of input, shutdown, or a segment
   * boundary such as a reconnect), reporting `t` as its end.
   */
  flush(t: number): void;
  /** What this detector exposes for the gauges, as of the last observation. */
  gauges?(): DetectorGauges;
}

/**
 * Settings that one detector's option table holds for the rest of the analysis. They apply
 * whether or not that detector is enabled (freeze skips black pictures by black's measure even
 * when black itself is not reported); each is declared by the detector whose table holds it.
 */
export interface SharedSettings {
  /** Share of dark pixels from which a frame is black: freeze, blur and blockiness do not judge black pictures. */
  blackPictureRatio: number;
  /** Luma level (full-range gray, 0..255) at or below which a pixel is dark: FeatureGeometry.darkThreshold. */
  darkLumaThreshold: number;
  /** Linear sample level at or above which a sample counts as clipped: the audio meter's clip level. */
  clipLevel: number;
  /** Seconds without media after which the analyzer restarts its ingest. */
  reconnectAfter: number;
}

/** What the analysis must measure for a detector, asked only while that detector is enabled. */
export interface DetectorNeeds {
  /** VideoObservation.drift, its reference re-anchored once a frame moves past this mean luma difference. */
  drift?: { reanchorAbove: number };
  /** VideoObservation.cut. */
  shotCuts?: boolean;
  /** VideoObservation.corruption, measured on every `stride`-th frame. */
  corruption?: { stride: number };
}

/** What a detector is given when it is built for one stream. */
export interface DetectorContext<T extends string = string> extends SharedSettings {
  /** Where it reports its events. */
  readonly sink: DefectSink<T>;
}

/** Every detector can be switched off: its table has `enabled`. */
export type DetectorOptionTable = OptionTable & { readonly enabled: BooleanOption };

/**
 * One detector, declared once in its own file: the defect type it reports, its option table
 * (from which the config schema, the CRD and the defaults derive), and how to build it.
 */
export interface DetectorDescriptor<T extends string = string, O extends DetectorOptionTable = DetectorOptionTable> {
  /** The defect type it reports, as the config, the CRD, events and metrics spell it. */
  readonly type: T;
  readonly options: O;
  /** The SharedSettings its table holds. */
  shares?(options: OptionValues<O>): Partial<SharedSettings>;
  /** What the analysis must measure for it while it is enabled. */
  needs?(options: OptionValues<O>): DetectorNeeds;
  /** Build it for one stream (only when `options.enabled`). */
  create(options: OptionValues<O>, context: DetectorContext<T>): Detector<T>;
}

/**
 * End an active defect at `t` (never before its start) and report it; returns null, the
 * detector's next `active`, so `active = endDefect(active, t, sink)` reads as what it does.
 */
export function endDefect<T extends string>(active: DefectEvent<T> | null, t: number, sink: DefectSink<T>): null {
  if (active !== null) {
    active.end = Math.max(t, active.start);
    sink.ended({ ...active });
  }
  return null;
}

/** Declares a descriptor with its type name and option table kept as literal types. */
export function defineDetector<T extends string, O extends DetectorOptionTable>(
  descriptor: DetectorDescriptor<T, O>,
): DetectorDescriptor<T, O> {
  return descriptor;
}

/**
 * Onset/clear state machine shared by the duration-based detectors. A defect is reported
 * once the condition has held for `minDuration` seconds, with `start` at the first bad
 * sample; it clears after `clearAfter` consecutive good observations (hysteresis against
 * one-frame blips), with `end` at the first of those good observations.
 */
export class DefectTracker<T extends string = string> {
  private firstBad: number | null = null;
  private firstGood: number | null = null;
  private goodRun = 0;
  private active: DefectEvent<T> | null = null;

  constructor(
    readonly type: T,
    private readonly sink: DefectSink<T>,
    private readonly minDuration: number,
    private readonly clearAfter = 1,
  ) {}

  get isActive(): boolean {
    return this.active !== null;
  }

  /**
   * Feed one observation that lasts from `t` to `t + duration`. `minDuration` overrides the
   * tracker's own for this observation, for a detector whose evidence decides how long a bad
   * run must last before it is a defect (the run still starts at its first bad observation).
   */
  update(
    t: number,
    duration: number,
    bad: boolean,
    detail?: () => Record<string, number | string>,
    minDuration = this.minDuration,
  ): void {
    if (bad) {
      this.goodRun = 0;
      this.firstGood = null;
      this.firstBad ??= t;
      if (!this.active && t + duration - this.firstBad >= minDuration - 1e-9) {
        this.active = { type: this.type, start: this.firstBad, end: null, detail: detail?.() };
        this.sink.started({ ...this.active });
      }
      return;
    }
    if (this.firstBad === null) return;
    this.firstGood ??= t;
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
