/**
 * The transport checks' Prometheus series, per the metrics contract (prefix `streamqc_`, the
 * `stream` label, base units, counters in `_total`). PID labels are bounded: a TS has at most
 * 8192 PIDs. Registered on the analyzer's registry (report/metrics.ts).
 */
import { Counter, Gauge, type Registry } from '../report/prom.js';
import { CHECK_NAMES, CHECKS, type CheckName } from './checks.js';

export class TransportMetrics {
  readonly applicable: Gauge;
  readonly errors: Counter;
  readonly pidBitrate: Gauge;
  readonly pidContinuityErrors: Counter;
  readonly cues: Counter;
  readonly sinceCue: Gauge;
  readonly captionsPresent: Gauge;

  constructor(
    registry: Registry,
    private readonly stream: string,
  ) {
    const registers = [registry];
    this.applicable = new Gauge({
      name: 'streamqc_transport_checks_applicable',
      help: '1 when the source is an MPEG-TS whose bytes the analyzer checks as received, 0 when the checks do not apply',
      labelNames: ['stream'],
      registers,
    });
    this.errors = new Counter({
      name: 'streamqc_transport_errors_total',
      help: 'ETSI TR 101 290 errors by check and priority',
      labelNames: ['stream', 'check', 'priority'],
      registers,
    });
    this.pidBitrate = new Gauge({
      name: 'streamqc_transport_pid_bitrate_bits_per_second',
      help: 'Bit rate of each PID over the last second',
      labelNames: ['stream', 'pid'],
      registers,
    });
    this.pidContinuityErrors = new Counter({
      name: 'streamqc_transport_pid_continuity_errors_total',
      help: 'Continuity count errors of each PID',
      labelNames: ['stream', 'pid'],
      registers,
    });
    this.cues = new Counter({
      name: 'streamqc_scte35_cues_total',
      help: 'Ad cues by splice command (source ts) or HLS playlist tag and direction (source hls)',
      labelNames: ['stream', 'command', 'source'],
      registers,
    });
    this.sinceCue = new Gauge({
      name: 'streamqc_scte35_since_last_cue_seconds',
      help: 'Seconds since the last SCTE-35 cue (since the start while none has come)',
      labelNames: ['stream'],
      registers,
    });
    this.captionsPresent = new Gauge({
      name: 'streamqc_captions_present',
      help: '1 while a 608 channel or 708 service carried data in the last 10 s',
      labelNames: ['stream', 'channel'],
      registers,
    });
    this.applicable.set({ stream }, 0);
    for (const check of CHECK_NAMES) this.error(check, 0);
  }

  error(check: CheckName, n = 1): void {
    this.errors.inc({ stream: this.stream, check, priority: String(CHECKS[check].priority) }, n);
  }

  continuityError(pid: number): void {
    this.pidContinuityErrors.inc({ stream: this.stream, pid: String(pid) });
  }

  cue(command: string, source: 'ts' | 'hls'): void {
    this.cues.inc({ stream: this.stream, command, source });
  }

  setApplicable(applicable: boolean): void {
    this.applicable.set({ stream: this.stream }, applicable ? 1 : 0);
  }

  pid(pid: number, bitrate: number): void {
    this.pidBitrate.set({ stream: this.stream, pid: String(pid) }, bitrate);
  }

  since(seconds: number): void {
    this.sinceCue.set({ stream: this.stream }, seconds);
  }

  caption(channel: string, present: boolean): void {
    this.captionsPresent.set({ stream: this.stream, channel }, present ? 1 : 0);
  }
}
