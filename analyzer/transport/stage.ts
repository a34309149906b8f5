/**
 * The transport stage: one TransportChecker for one MPEG-TS source, fed the bytes as they
 * arrived (ingest/ taps), its events put on the analysis timeline and handed to the
 * detectors, its counters and state written to the metrics and the /status fragment. For a
 * live source the checker runs on arrival time, and an event is placed on the timeline as far
 * before the timeline's now as it was before the checker's now; a file runs on its own PCRs,
 * whose seconds from the start are the timeline's.
 */
import { TransportChecker, type TransportEvent, type TransportSnapshot } from './checker.js';
import type { TransportMetrics } from './metrics.js';

/** A 608 channel or 708 service counts as present while it carried data this recently. */
const CAPTION_PRESENT_SECONDS = 10;

/** The /status fragment: whether the checks apply to this source, and what they found. */
export type TransportStatus =
  | { applicable: false; reason: string }
  | ({ applicable: true; arrivalTimed: boolean } & Omit<TransportSnapshot, 'programmes'> & {
        programmes: TransportSnapshot['programmes'];
      });

export interface TransportStageDeps {
  metrics: TransportMetrics;
  /** Each event, at its timeline second. */
  observe(t: number, event: TransportEvent): void;
  /** The analysis timeline's now (live sources). */
  timelineNow(): number;
  pidErrorPeriod: number;
}

export class TransportStage {
  private readonly checker: TransportChecker;
  private readonly captionsShown = new Set<string>();

  constructor(
    /** Live sources: arrival times mean something (UDP, RTP); files: the stream's own PCRs. */
    readonly arrivalTimed: boolean,
    private readonly deps: TransportStageDeps,
    /** PCR accuracy is judged unless the bytes lost their transport-rate spacing (HLS segments). */
    pcrAccuracy = true,
  ) {
    this.checker = new TransportChecker((e) => this.onEvent(e), { pidErrorPeriod: deps.pidErrorPeriod, pcrAccuracy });
    deps.metrics.setApplicable(true);
  }

  /** Bytes as received; `arrival` in seconds (any origin) for arrival-timed sources. */
  push(chunk: Uint8Array, arrival?: number): void {
    this.checker.push(chunk, this.arrivalTimed ? arrival : undefined);
  }

  /** The analyzer's periodic tick: time passes for the checks even when nothing arrives. */
  tick(arrival: number): void {
    if (this.arrivalTimed) this.checker.advanceTo(arrival);
    const snapshot = this.checker.snapshot();
    const { metrics } = this.deps;
    for (const p of snapshot.pids) metrics.pid(p.pid, p.bitrate);
    metrics.since(snapshot.t - (snapshot.cues.last ?? 0));
    for (const c of snapshot.captions) {
      metrics.caption(c.name, snapshot.t - c.lastSeen <= CAPTION_PRESENT_SECONDS);
      this.captionsShown.add(c.name);
    }
  }

  /** The stream starts again (an HLS discontinuity, a new connection): see TransportChecker.restart. */
  restart(): void {
    this.checker.restart();
  }

  finish(): void {
    this.checker.finish();
  }

  status(): TransportStatus {
    return { applicable: true, arrivalTimed: this.arrivalTimed, ...this.checker.snapshot() };
  }

  private onEvent(event: TransportEvent): void {
    const { metrics } = this.deps;
    if (event.kind === 'error') {
      metrics.error(event.check);
      if (event.check === 'continuity_count_error' && event.pid !== null) metrics.continuityError(event.pid);
    } else if (event.kind === 'cue') metrics.cue(event.info.command, 'ts');
    const t = this.arrivalTimed ? this.deps.timelineNow() - (this.checker.time - event.t) : event.t;
    this.deps.observe(Math.max(0, t), event);
  }
}
