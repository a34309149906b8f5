/**
 * Scoring of the delivery benchmark (delivery.ts): faults injected on a known rendition at a
 * known time against the events the delivery detectors reported. Pure, so a unit test pins it.
 *
 * An event is a true positive when it has the type of an expected finding on the same
 * rendition and starts within that finding's window; several events of one finding are one
 * finding found. An event that matches no expected finding but falls within an injected
 * fault's window on its rendition is a consequence of that fault (a frozen rendition is also
 * behind the ladder): listed apart, neither found nor a false alarm. Any other event is a
 * false alarm.
 */

/** An event the injected fault must raise: `type` on `rendition`, starting in [from, to]. */
export interface ExpectedFinding {
  type: string;
  rendition: string;
  from: number;
  to: number;
  /** The fault that should raise it, for the report. */
  fault: string;
}

/** Where an injected fault may have effects: its rendition over [from, to]. */
export interface FaultWindow {
  rendition: string;
  from: number;
  to: number;
}

export interface FoundEvent {
  type: string;
  /** detail.rendition of the event; null when it names none. */
  rendition: string | null;
  start: number;
}

export interface CheckScore {
  type: string;
  /** Expected findings of this type. */
  expected: number;
  /** Expected findings with at least one matching event. */
  found: number;
  /** Events of this type that matched an expected finding. */
  matchedEvents: number;
  /** Events of this type within a fault's window that match no expected finding. */
  consequences: number;
  /** Events of this type outside every fault's window. */
  falseAlarms: number;
  /** matchedEvents / (matchedEvents + falseAlarms); null without any such event. */
  precision: number | null;
  /** found / expected; null when nothing of this type was expected. */
  recall: number | null;
  /** The expected findings no event matched, e.g. "segment_slow on 144p at 12.0 s (segments 2x slower)". */
  missed: string[];
}

const within = (t: number, w: { from: number; to: number }): boolean => t >= w.from && t <= w.to;

/** When an expected finding is due: as the fault is injected, or as it is cleared (a sequence that jumps back). */
export type FindingDue = 'inject' | 'clear';

/**
 * Where an expected finding may start: one due at injection from `before` seconds ahead of it
 * (a stale playlist's defect starts when it last advanced) to `afterClear` past the clearing;
 * one due at clearing from the clearing on, since nothing sees a change before it happens.
 * Else a finding of the injection that took longer than the hold less `before` went to the
 * clearing (a dropped discontinuity tag held 3 s and found 1.2 s after injection, as the
 * reload's phase allows, left the injection missed).
 */
export function findingWindow(
  due: FindingDue,
  fault: { injectedAt: number; clearedAt: number },
  before: number,
  afterClear: number,
): { from: number; to: number } {
  return { from: due === 'inject' ? fault.injectedAt - before : fault.clearedAt, to: fault.clearedAt + afterClear };
}

/** Per check type (those in `types`, in that order): what was expected, found, missed and raised falsely. */
export function scoreDelivery(
  types: readonly string[],
  expected: readonly ExpectedFinding[],
  windows: readonly FaultWindow[],
  events: readonly FoundEvent[],
): CheckScore[] {
  const foundFindings = new Set<ExpectedFinding>();
  const matched = new Map<string, number>();
  const consequences = new Map<string, number>();
  const falseAlarms = new Map<string, number>();
  const bump = (m: Map<string, number>, type: string): void => {
    m.set(type, (m.get(type) ?? 0) + 1);
  };
  for (const e of events) {
    // Of overlapping windows (a fault found as it is injected and again as it is cleared), the
    // latest one that has begun: an event belongs to the most recent change that can explain it.
    const finding = expected
      .filter((x) => x.type === e.type && x.rendition === e.rendition && within(e.start, x))
      .reduce<ExpectedFinding | undefined>(
        (best, x) => (best === undefined || x.from > best.from ? x : best),
        undefined,
      );
    if (finding) {
      foundFindings.add(finding);
      bump(matched, e.type);
    } else if (windows.some((w) => w.rendition === e.rendition && within(e.start, w))) {
      bump(consequences, e.type);
    } else {
      bump(falseAlarms, e.type);
    }
  }
  return types.map((type) => {
    const ofType = expected.filter((x) => x.type === type);
    const found = ofType.filter((x) => foundFindings.has(x)).length;
    const hits = matched.get(type) ?? 0;
    const alarms = falseAlarms.get(type) ?? 0;
    return {
      type,
      expected: ofType.length,
      found,
      matchedEvents: hits,
      consequences: consequences.get(type) ?? 0,
      falseAlarms: alarms,
      precision: hits + alarms === 0 ? null : hits / (hits + alarms),
      recall: ofType.length === 0 ? null : found / ofType.length,
      missed: ofType
        .filter((x) => !foundFindings.has(x))
        .map((x) => `${x.type} on ${x.rendition} at ${x.from.toFixed(1)}-${x.to.toFixed(1)} s (${x.fault})`),
    };
  });
}

/** CPU and bytes of following a ladder over those of decoding its top rendition alone. */
export function costRatios(
  ladder: { cpuSeconds: number; bytes: number },
  top: { cpuSeconds: number; bytes: number },
): { cpu: number | null; bytes: number | null } {
  return {
    cpu: top.cpuSeconds > 0 ? ladder.cpuSeconds / top.cpuSeconds : null,
    bytes: top.bytes > 0 ? ladder.bytes / top.bytes : null,
  };
}

/** The target: following a six-rendition ladder costs at most this much more than decoding its top. */
export const DELIVERY_COST_TARGET = 1.15;

export interface FaultRun {
  fault: string;
  rendition: string;
  injectedAt: number;
  clearedAt: number;
}

/** One run's cost: CPU seconds (GNU time), bytes the origin sent, and CPU seconds by process name (sampled). */
export interface RunCost {
  cpuSeconds: number;
  bytes: number;
  /** e.g. node, ffmpeg, ffprobe: the last CPU time read of each process, so up to one sampling interval short. */
  cpuByProcess?: Record<string, number>;
  /** Processes of each name the sampler saw: a short-lived one (an ffprobe of 0.3 s) can slip between samples, so at least this many. */
  processesSeen?: Record<string, number>;
}

/** Following the ladder against decoding its top alone, side by side, at one segment duration. */
export interface DeliveryCost {
  /** The origin's segment duration (absent in reports before it was a parameter: 1 s). */
  segmentSeconds?: number;
  seconds: number;
  ladder: RunCost;
  top: RunCost;
  cpuRatio: number | null;
  bytesRatio: number | null;
  /** Delivery events of the ladder run (a healthy origin: each a false alarm); absent in earlier reports. */
  falseAlarms?: number;
}

export interface DeliveryBenchResult {
  rounds: number;
  ladder: string[];
  faults: FaultRun[];
  /** Every event of the fault rounds, for a reader who wants to check the scoring. */
  events: FoundEvent[];
  scores: CheckScore[];
  healthy: {
    seconds: number;
    renditions: number;
    /** Delivery events of a healthy origin: each a false alarm. */
    falseAlarms: FoundEvent[];
    /** Other events of the decoded rendition (picture, sound, decoder), listed for the record. */
    otherEvents: Record<string, number>;
  };
  /** With 1 s segments, the harshest case (a playlist reload per rendition every second). */
  cost: DeliveryCost;
  /** The same at longer segment durations (6 s: Apple's HLS authoring spec); absent in earlier reports. */
  longerSegments?: DeliveryCost[];
}
