/**
 * Signal events from what the transport checker and the HLS client saw: a PID appearing in
 * the multiplex or disappearing from it, and an ad break's cue out or cue in. They are facts
 * about the stream, not defects: reported in the jsonl output and /status, and by the operator
 * as Kubernetes Events.
 *
 * Which PIDs: the PSI tables (PAT, CAT, PMTs) and the elementary streams the PMTs name, when
 * they go or come back; and any PID (but DVB SI) that first comes after the stream's first
 * `settle` seconds, a new one in the multiplex. The line-up of the first seconds is in /status
 * (transport.pids), not news. SCTE-35 PIDs are left out (their cues are the events); DVB SI tables (NIT, SDT, EIT, TDT/TOT) are left out: they may
 * repeat only every 10 to 30 s (EN 300 468, TR 101 211), far longer than a PID's absence period,
 * and would come and go on every healthy stream.
 */
import type { SignalEvent } from '../contract/status.js';
import type { PidRole, TransportEvent } from './checker.js';
import { cueFacts, isCue } from './cues.js';

/** PIDs whose going and coming back are events: the tables a decoder needs and the streams they name. */
const WATCHED_ROLES: ReadonlySet<PidRole> = new Set(['pat', 'cat', 'pmt', 'video', 'audio', 'data']);
/**
 * PIDs that are never news by their presence: DVB SI (see above) and SCTE-35, whose packets come
 * only when there is a cue to send (the cue itself is the event).
 */
const SILENT_ROLES: ReadonlySet<PidRole> = new Set(['si', 'scte35']);

export type Signal = Omit<SignalEvent, 'wallclock'>;

export class TransportSignals {
  private first: number | null = null;
  private readonly gone = new Set<number>();

  constructor(
    /** Seconds after the first transport event during which PIDs that come are the initial line-up. */
    private readonly settle: number,
  ) {}

  /** The signal event an observation at timeline second `t` is, or null. */
  of(t: number, event: TransportEvent): Signal | null {
    this.first ??= t;
    if (event.kind === 'pid_disappeared') {
      if (!WATCHED_ROLES.has(event.role)) return null;
      this.gone.add(event.pid);
      return instant('pid_disappeared', t, { pid: event.pid, role: event.role });
    }
    if (event.kind === 'pid_appeared') {
      const back = this.gone.delete(event.pid);
      const late = t - this.first > this.settle && !SILENT_ROLES.has(event.role);
      if (!back && !late) return null;
      return instant('pid_appeared', t, { pid: event.pid, role: event.role, ...(back ? { returned: 'yes' } : {}) });
    }
    if (isCue(event)) return cueSignal(t, event);
    return null;
  }
}

function instant(type: SignalEvent['type'], t: number, detail: Record<string, number | string>): Signal {
  return { type, start: t, end: t, detail };
}

/** A cue out or cue in, with what it says of its break; a cue that neither opens nor closes one is no event. */
function cueSignal(t: number, event: Extract<TransportEvent, { kind: 'cue' | 'hls_cue' }>): Signal | null {
  const facts = cueFacts(event);
  if (facts.direction === 'none') return null;
  const detail: Record<string, number | string> = { source: facts.source, command: facts.command };
  if (facts.duration !== null) detail.breakDuration = Math.round(facts.duration * 1000) / 1000;
  if (event.kind === 'hls_cue') {
    if (event.id !== null) detail.id = event.id;
    detail.rendition = event.rendition;
    detail.msn = event.msn;
  } else {
    const { info } = event;
    detail.pid = event.pid;
    if (info.spliceEventId !== null) detail.spliceEventId = info.spliceEventId;
    const segmentation = info.segmentations.find((s) => !s.cancel);
    if (segmentation) {
      detail.segmentationEventId = segmentation.eventId;
      detail.segmentationTypeId = segmentation.typeId;
    }
    if (info.ptsTime !== null) detail.ptsTime = info.ptsTime;
    if (info.breakDuration !== null) detail.autoReturn = info.autoReturn ? 'yes' : 'no';
  }
  return instant(facts.direction === 'out' ? 'cue_out' : 'cue_in', t, detail);
}
