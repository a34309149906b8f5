/**
 * The transport stream checker: fed the bytes of an MPEG-TS exactly as they arrived (chunks
 * split anywhere, with their arrival time when that means something), it keeps the TR 101 290
 * priority 1 and 2 checks, per-PID bitrate, continuity and presence, the programmes' PMTs,
 * SCTE-35 cues and caption presence, and reports what happens as timestamped events.
 * It knows nothing of where the bytes come from, nor of the decoder.
 */
import {
  type CaptionPresence as CaptionPresenceType,
  CaptionPresence,
  CaptionScanner,
  captionCodecOf,
  type CcTriple,
  type VideoCodec,
} from './captions.js';
import {
  CHECK_NAMES,
  CHECKS,
  type CheckName,
  PAT_PERIOD_SECONDS,
  PCR_ACCURACY_NS,
  PCR_DISCONTINUITY_SECONDS,
  PCR_REPETITION_SECONDS,
  PID_ERROR_PERIOD_SECONDS,
  TABLE_PID_GONE_SECONDS,
  PMT_PERIOD_SECONDS,
  PTS_PERIOD_SECONDS,
} from './checks.js';
import { pcrDeltaSeconds, StreamClock } from './clock.js';
import { emptyPacket, NULL_PID, PACKET_SIZE, PacketReader, readPacket, type TsPacket } from './packet.js';
import { PcrAccuracy } from './pcr-accuracy.js';
import { PesAssembler, pesPts } from './pes.js';
import {
  CAT_PID,
  PAT_PID,
  parsePat,
  parsePmt,
  type Pmt,
  SectionAssembler,
  sectionCrcOk,
  sectionHeader,
  TABLE_CAT,
  TABLE_PAT,
  TABLE_PMT,
} from './psi.js';
import {
  cueDirection,
  type CueDirection,
  parseSpliceInfo,
  type SpliceInfo,
  SpliceInfoError,
  STREAM_TYPE_SCTE35,
} from './scte35.js';

export interface TransportCheckerOptions {
  /** TR 101 290 1.6: seconds a PID the PMT refers to may be absent; also when a PID counts as gone (a table PID: TABLE_PID_GONE_SECONDS if longer). */
  pidErrorPeriod: number;
  /** Check PCR accuracy (2.4). It is measured from byte positions at the transport rate, so only constant-rate streams are judged. */
  pcrAccuracy: boolean;
}

export const DEFAULT_CHECKER_OPTIONS: TransportCheckerOptions = {
  pidErrorPeriod: PID_ERROR_PERIOD_SECONDS,
  pcrAccuracy: true,
};

export type TransportEvent =
  /** `lasting`: a state (a missing table, PID, PCR or PTS; sync loss) that a `cleared` event ends. */
  | {
      kind: 'error';
      check: CheckName;
      t: number;
      pid: number | null;
      lasting: boolean;
      detail: Record<string, number | string>;
    }
  /** Caption data (608 channels, 708 services) arrived in the video. */
  | { kind: 'captions'; t: number; channels: string[] }
  /** A lasting error (sync loss, a missing table, PID, PCR or PTS) is over. */
  | { kind: 'cleared'; check: CheckName; t: number; pid: number | null }
  /** `role`: what the PID carries as far as the tables said at the time (unknown before the PMT names it). */
  | { kind: 'pid_appeared'; t: number; pid: number; role: PidRole }
  | { kind: 'pid_disappeared'; t: number; pid: number; role: PidRole }
  | { kind: 'cue'; t: number; pid: number; direction: CueDirection; info: SpliceInfo }
  /** A cue an HLS playlist marks (EXT-X-CUE-OUT/IN, EXT-X-DATERANGE SCTE35-OUT/IN); the checker never emits it. */
  | {
      kind: 'hls_cue';
      t: number;
      direction: 'out' | 'in';
      /** Seconds of the break, for an out that declares it. */
      duration: number | null;
      /** The EXT-X-DATERANGE ID; null for EXT-X-CUE tags. */
      id: string | null;
      tag: 'EXT-X-CUE' | 'EXT-X-DATERANGE';
      rendition: string;
      msn: number;
    }
  | { kind: 'cue_invalid'; t: number; pid: number; reason: string };

/** Tables whose CRC TR 101 290 2.2 checks: CAT, PAT, PMT, NIT, SDT, BAT, EIT, TOT. */
function crcChecked(tableId: number): boolean {
  return (
    tableId <= 0x02 || (tableId >= 0x40 && tableId <= 0x4a) || (tableId >= 0x4e && tableId <= 0x6f) || tableId === 0x73
  );
}

/** DVB SI PIDs (EN 300 468 §5.1.3) whose sections are reassembled for the CRC check: NIT, SDT/BAT, EIT, RST, TDT/TOT. */
const SI_PIDS = [0x10, 0x11, 0x12, 0x13, 0x14];
/** PIDs that carry tables only: they count as gone after TABLE_PID_GONE_SECONDS. */
const TABLE_ROLES: ReadonlySet<PidRole> = new Set(['pat', 'cat', 'pmt', 'si']);

export type PidRole = 'pat' | 'cat' | 'pmt' | 'si' | 'video' | 'audio' | 'scte35' | 'data' | 'null' | 'unknown';

interface PidState {
  pid: number;
  role: PidRole;
  streamType: number | null;
  packets: number;
  windowBytes: number;
  bitrate: number;
  ccErrors: number;
  lastCc: number | null;
  repeats: number;
  lastSeen: number;
  present: boolean;
  lastPcr: number | null;
  lastPcrAt: number | null;
  lastPtsAt: number | null;
  sections: SectionAssembler | null;
  pes: PesAssembler | null;
  captionCodec: VideoCodec | null;
}

/** Everything the checker knows, for /status and metrics. */
export interface TransportSnapshot {
  synced: boolean;
  /** Timeline seconds of the last packet. */
  t: number;
  bitrate: number;
  errors: Record<CheckName, number>;
  /** The checks whose lasting error is in progress. */
  active: { check: CheckName; pid: number | null; since: number }[];
  pids: {
    pid: number;
    role: PidRole;
    streamType: number | null;
    bitrate: number;
    packets: number;
    continuityErrors: number;
    present: boolean;
  }[];
  programmes: Pmt[];
  captions: { name: string; firstSeen: number; lastSeen: number; count: number }[];
  cues: { total: number; byCommand: Record<string, number>; last: number | null; invalid: number };
}

/** How often (timeline seconds) the lasting checks are swept and the bitrate window rolls. */
const SWEEP_SECONDS = 0.005;
const BITRATE_WINDOW_SECONDS = 1;

export class TransportChecker {
  private readonly reader: PacketReader;
  private readonly clock = new StreamClock();
  private readonly options: TransportCheckerOptions;
  private readonly pids = new Map<number, PidState>();
  /** The same states indexed by PID, for the per-packet lookup; `pids` keeps the order PIDs appeared in. */
  private readonly pidIndex: (PidState | undefined)[] = new Array<PidState | undefined>(8192).fill(undefined);
  /** The one packet object every packet is parsed into. */
  private readonly packet = emptyPacket();
  private readonly counts = Object.fromEntries(CHECK_NAMES.map((c) => [c, 0])) as Record<CheckName, number>;
  private readonly active = new Map<string, { check: CheckName; pid: number | null; since: number }>();
  private readonly pmtPids = new Map<number, number>(); // PMT PID -> programme number
  private readonly pmtLastAt = new Map<number, number>();
  private readonly programmes = new Map<number, Pmt>();
  private readonly referenced = new Map<number, number>(); // ES PID -> time first referenced
  private readonly pcrAccuracy = new Map<number, PcrAccuracy>();
  readonly captions: CaptionPresenceType = new CaptionPresence();
  private readonly cueCounts: Record<string, number> = {};
  private cueInvalid = 0;
  private lastCueAt: number | null = null;
  private clockPid: number | null = null;
  private arrival: number | null = null;
  private now = 0;
  private started: number | null = null;
  private lastPatAt: number | null = null;
  private catSeen = false;
  private nextSweep = 0;
  private windowStart = 0;
  private windowBytes = 0;
  private bitrate = 0;
  private position = 0;

  constructor(
    private readonly emit: (event: TransportEvent) => void,
    options: Partial<TransportCheckerOptions> = {},
  ) {
    this.options = { ...DEFAULT_CHECKER_OPTIONS, ...options };
    this.reader = new PacketReader({
      packet: (bytes, start, position) => {
        this.onPacket(bytes, start, position);
      },
      syncByteError: (position, found) => {
        this.timeAt(position);
        this.error('sync_byte_error', null, { found });
      },
      syncChanged: (inSync, position) => {
        this.timeAt(position);
        if (this.started === null) return; // the first lock is not a recovery
        if (inSync) this.clear('ts_sync_loss', null);
        else this.raise('ts_sync_loss', null, this.now, {});
      },
    });
  }

  /** Feed bytes as received. `arrival` (seconds, any origin) is given for live sources, where arrival times mean something. */
  push(chunk: Uint8Array, arrival?: number): void {
    if (arrival !== undefined) this.arrival = arrival;
    this.reader.push(chunk);
  }

  /** The checker's clock: seconds since the first packet (arrival or stream time). */
  get time(): number {
    return this.now;
  }

  /** A live source's time passes even when nothing arrives: sweep the lasting checks at arrival time `arrival`. */
  advanceTo(arrival: number): void {
    if (this.arrival === null || this.started === null) return;
    this.arrival = Math.max(this.arrival, arrival);
    this.now = this.arrival - this.started;
    this.sweep();
  }

  private timeAt(position: number): number {
    if (this.arrival !== null) {
      this.started ??= this.arrival;
      this.now = Math.max(this.now, this.arrival - this.started);
    } else {
      this.now = this.clock.at(position);
    }
    return this.now;
  }

  private onPacket(bytes: Uint8Array, start: number, position: number): void {
    const packet = readPacket(bytes, start, this.packet) ? this.packet : null;
    this.position = position;
    if (packet?.pcr != null) {
      this.clockPid ??= packet.pid;
      if (packet.pid === this.clockPid && this.arrival === null) this.clock.onPcr(packet.pcr, position);
    }
    const t = this.timeAt(position);
    if (this.started === null) {
      this.started = this.arrival ?? 0;
      this.lastPatAt = t;
    }
    this.countBytes(packet?.pid ?? NULL_PID, t);
    if (packet) this.check(packet, t);
    if (t >= this.nextSweep) {
      this.nextSweep = t + SWEEP_SECONDS;
      this.sweep();
    }
  }

  private check(p: TsPacket, t: number): void {
    const state = this.pidState(p.pid, t);
    if (p.transportError) this.error('transport_error', p.pid, {});
    if (p.pid === NULL_PID) return;
    if (p.scrambling !== 0) this.onScrambled(p.pid);
    if (p.pcr !== null) this.onPcr(state, p, t);
    const fresh = this.continuity(state, p);
    if (!fresh || !p.hasPayload || p.transportError || p.scrambling !== 0) return;
    const payload = p.start + p.payloadOffset;
    const end = p.start + PACKET_SIZE;
    if (p.payloadUnitStart && (state.role === 'video' || state.role === 'audio' || state.role === 'data')) {
      if (pesPts(p.bytes, payload, end) !== null) this.onPts(state);
    }
    state.sections?.push(p.bytes.subarray(payload, end), p.payloadUnitStart);
    state.pes?.push(p.bytes, payload, end, p.payloadUnitStart);
  }

  /** TR 101 290 1.4. Returns false for a packet whose payload must not be used again (a duplicate). */
  private continuity(s: PidState, p: TsPacket): boolean {
    // discontinuity_indicator: the next counter may be anything, whether or not this packet has payload.
    if (p.discontinuity) {
      s.lastCc = p.hasPayload ? p.continuityCounter : null;
      s.repeats = 0;
      return true;
    }
    // ISO/IEC 13818-1 §2.4.3.3: the counter does not advance on packets without payload.
    if (!p.hasPayload) return true;
    if (s.lastCc === null) {
      s.lastCc = p.continuityCounter;
      return true;
    }
    if (p.continuityCounter === s.lastCc) {
      // One duplicate is allowed; a packet occurring more than twice is an error.
      s.repeats++;
      this.restartPcrAccuracy(); // the repeat shifts every later byte position
      if (s.repeats > 1)
        this.ccError(s, { expected: (s.lastCc + 1) & 0x0f, found: p.continuityCounter, reason: 'repeated' });
      return false;
    }
    const expected = (s.lastCc + 1) & 0x0f;
    if (p.continuityCounter !== expected) {
      this.ccError(s, {
        expected,
        found: p.continuityCounter,
        missing: (p.continuityCounter - expected) & 0x0f,
        reason: 'lost or out of order',
      });
    }
    s.lastCc = p.continuityCounter;
    s.repeats = 0;
    return true;
  }

  private ccError(s: PidState, detail: Record<string, number | string>): void {
    s.ccErrors++;
    s.sections?.reset();
    s.pes?.reset();
    this.restartPcrAccuracy(); // a lost packet shifts every later byte position
    this.error('continuity_count_error', s.pid, detail);
  }

  private restartPcrAccuracy(): void {
    for (const accuracy of this.pcrAccuracy.values()) accuracy.restart();
  }

  private onScrambled(pid: number): void {
    if (pid === PAT_PID) this.error('pat_error', pid, { reason: 'scrambled' });
    else if (this.pmtPids.has(pid)) this.error('pmt_error', pid, { reason: 'scrambled' });
    // TR 101 290 2.6: scrambled packets need a CAT to be descrambled.
    if (!this.catSeen) this.raise('cat_error', null, this.now, { reason: 'scrambled packets without a CAT', pid });
  }

  private onPcr(s: PidState, p: TsPacket, t: number): void {
    const pcr = p.pcr ?? 0;
    if (s.lastPcr !== null && s.lastPcrAt !== null) {
      const step = pcrDeltaSeconds(s.lastPcr, pcr);
      if (!p.discontinuity && (step < 0 || step > PCR_DISCONTINUITY_SECONDS)) {
        this.error('pcr_discontinuity_indicator_error', s.pid, { stepMs: round(step * 1000) });
      }
      // The interval as the clock saw it; for a stream-timed input the PCR step itself when it is sane.
      const interval = this.arrival === null && step > 0 && step <= PCR_DISCONTINUITY_SECONDS ? step : t - s.lastPcrAt;
      if (interval > PCR_REPETITION_SECONDS && !this.active.has(activeKey('pcr_repetition_error', s.pid))) {
        this.raise('pcr_repetition_error', s.pid, s.lastPcrAt + PCR_REPETITION_SECONDS, {
          intervalMs: round(interval * 1000),
        });
      }
      this.clear('pcr_repetition_error', s.pid);
    }
    if (p.discontinuity) this.pcrAccuracy.get(s.pid)?.restart();
    if (this.options.pcrAccuracy) this.measureAccuracy(s.pid, pcr);
    s.lastPcr = pcr;
    s.lastPcrAt = t;
  }

  private measureAccuracy(pid: number, pcr: number): void {
    let accuracy = this.pcrAccuracy.get(pid);
    if (!accuracy) {
      accuracy = new PcrAccuracy();
      this.pcrAccuracy.set(pid, accuracy);
    }
    const offsetNs = accuracy.measure(pcr, this.position, PCR_ACCURACY_NS);
    if (offsetNs !== null && Math.abs(offsetNs) > PCR_ACCURACY_NS)
      this.error('pcr_accuracy_error', pid, { offsetNs: Math.round(offsetNs) });
  }

  private onPts(s: PidState): void {
    s.lastPtsAt = this.now;
    this.clear('pts_error', s.pid);
  }

  private onSection(s: PidState, section: Uint8Array): void {
    const { tableId, longForm } = sectionHeader(section);
    if (tableId === 0xff) return;
    if (s.role === 'scte35') {
      this.onSpliceInfo(s.pid, section);
      return;
    }
    if ((longForm || tableId === 0x73) && crcChecked(tableId) && !sectionCrcOk(section)) {
      this.error('crc_error', s.pid, { tableId });
      return;
    }
    if (s.pid === PAT_PID) this.onPatSection(section, tableId);
    else if (s.pid === CAT_PID) {
      if (tableId === TABLE_CAT) {
        this.catSeen = true;
        this.clear('cat_error', null);
      } else this.error('cat_error', s.pid, { reason: 'wrong table_id', tableId });
    } else if (s.role === 'pmt' && tableId === TABLE_PMT) this.onPmtSection(s.pid, section);
  }

  private onPatSection(section: Uint8Array, tableId: number): void {
    if (tableId !== TABLE_PAT) {
      this.error('pat_error', PAT_PID, { reason: 'wrong table_id', tableId });
      return;
    }
    if (((section[5] ?? 0) & 0x01) === 0) return; // not yet applicable (current_next_indicator 0)
    this.lastPatAt = this.now;
    this.clear('pat_error', PAT_PID);
    for (const entry of parsePat(section)) {
      if (this.pmtPids.get(entry.pmtPid) === entry.programNumber) continue;
      this.pmtPids.set(entry.pmtPid, entry.programNumber);
      this.pmtLastAt.set(entry.pmtPid, this.now);
      this.assign(entry.pmtPid, 'pmt', null);
    }
  }

  private onPmtSection(pid: number, section: Uint8Array): void {
    if (((section[5] ?? 0) & 0x01) === 0) return;
    this.pmtLastAt.set(pid, this.now);
    this.clear('pmt_error', pid);
    const pmt = parsePmt(section);
    this.programmes.set(pmt.programNumber, pmt);
    for (const stream of pmt.streams) {
      if (!this.referenced.has(stream.pid)) this.referenced.set(stream.pid, this.now);
      const state = this.pids.get(stream.pid);
      if (state?.streamType === stream.streamType) continue;
      this.assign(stream.pid, roleOf(stream.streamType, stream.registrations), stream.streamType);
    }
  }

  private onSpliceInfo(pid: number, section: Uint8Array): void {
    try {
      const info = parseSpliceInfo(section);
      this.cueCounts[info.command] = (this.cueCounts[info.command] ?? 0) + 1;
      this.lastCueAt = this.now;
      this.emit({ kind: 'cue', t: this.now, pid, direction: cueDirection(info), info });
    } catch (e) {
      if (!(e instanceof SpliceInfoError)) throw e;
      this.cueInvalid++;
      this.emit({ kind: 'cue_invalid', t: this.now, pid, reason: e.message });
    }
  }

  private onCaptionTriples(triples: CcTriple[]): void {
    const channels = this.captions.feed(triples, this.now);
    if (channels.length > 0) this.emit({ kind: 'captions', t: this.now, channels });
  }

  /** Give a PID its role: which of its payloads are read and how. */
  private assign(pid: number, role: PidRole, streamType: number | null): void {
    const state = this.pidState(pid, this.now);
    state.role = role;
    state.streamType = streamType;
    state.sections =
      role === 'pmt' || role === 'scte35' ? new SectionAssembler((s) => this.onSection(state, s)) : state.sections;
    state.captionCodec = role === 'video' && streamType !== null ? captionCodecOf(streamType) : null;
    const codec = state.captionCodec;
    state.pes = codec ? new PesAssembler(new CaptionScanner(codec, (triples) => this.onCaptionTriples(triples))) : null;
  }

  private pidState(pid: number, t: number): PidState {
    let state = this.pidIndex[pid];
    if (state) return state;
    const role: PidRole =
      pid === PAT_PID
        ? 'pat'
        : pid === CAT_PID
          ? 'cat'
          : pid === NULL_PID
            ? 'null'
            : SI_PIDS.includes(pid)
              ? 'si'
              : 'unknown';
    state = {
      pid,
      role,
      streamType: null,
      packets: 0,
      windowBytes: 0,
      bitrate: 0,
      ccErrors: 0,
      lastCc: null,
      repeats: 0,
      lastSeen: t,
      present: false,
      lastPcr: null,
      lastPcrAt: null,
      lastPtsAt: null,
      sections: null,
      pes: null,
      captionCodec: null,
    };
    const s = state;
    if (role === 'pat' || role === 'cat' || role === 'si')
      s.sections = new SectionAssembler((section) => this.onSection(s, section));
    this.pids.set(pid, s);
    this.pidIndex[pid] = s;
    return s;
  }

  private countBytes(pid: number, t: number): void {
    const state = this.pidState(pid, t);
    state.packets++;
    state.windowBytes += PACKET_SIZE;
    this.windowBytes += PACKET_SIZE;
    state.lastSeen = t;
    if (!state.present) {
      state.present = true;
      if (pid !== NULL_PID) this.emit({ kind: 'pid_appeared', t, pid, role: state.role });
    }
  }

  /** The lasting checks: tables, PIDs, PCRs and PTSs that have not come for longer than their period. */
  private sweep(): void {
    const t = this.now;
    this.rollBitrate(t);
    if (this.lastPatAt !== null && t - this.lastPatAt > PAT_PERIOD_SECONDS) {
      this.raise('pat_error', PAT_PID, this.lastPatAt + PAT_PERIOD_SECONDS, { reason: 'no PAT' });
    }
    for (const [pid, last] of this.pmtLastAt) {
      if (t - last > PMT_PERIOD_SECONDS) this.raise('pmt_error', pid, last + PMT_PERIOD_SECONDS, { reason: 'no PMT' });
    }
    const period = this.options.pidErrorPeriod;
    for (const [pid, since] of this.referenced) {
      const s = this.pids.get(pid);
      if (s?.role === 'scte35') continue; // cues come when there is something to say
      const last = s?.present ? s.lastSeen : since;
      if (t - last > period) this.raise('pid_error', pid, last + period, { reason: 'referenced PID absent' });
      else this.clear('pid_error', pid);
    }
    for (const s of this.pids.values()) this.sweepPid(s, t, period);
  }

  private sweepPid(s: PidState, t: number, period: number): void {
    const gone = TABLE_ROLES.has(s.role) ? Math.max(period, TABLE_PID_GONE_SECONDS) : period;
    if (s.present && s.role !== 'null' && s.role !== 'scte35' && t - s.lastSeen > gone) {
      s.present = false;
      this.emit({ kind: 'pid_disappeared', t: s.lastSeen + gone, pid: s.pid, role: s.role });
    }
    // Between PCRs a stream-timed clock is only as good as the byte rate: there the next PCR's own step judges the gap.
    if (this.arrival !== null && s.lastPcrAt !== null && t - s.lastPcrAt > PCR_REPETITION_SECONDS) {
      this.raise('pcr_repetition_error', s.pid, s.lastPcrAt + PCR_REPETITION_SECONDS, { reason: 'no PCR' });
    }
    if (s.lastPtsAt !== null && t - s.lastPtsAt > PTS_PERIOD_SECONDS) {
      this.raise('pts_error', s.pid, s.lastPtsAt + PTS_PERIOD_SECONDS, { reason: 'no PTS' });
    }
  }

  private rollBitrate(t: number): void {
    if (t - this.windowStart < BITRATE_WINDOW_SECONDS) return;
    const seconds = t - this.windowStart;
    this.bitrate = (this.windowBytes * 8) / seconds;
    this.windowBytes = 0;
    for (const s of this.pids.values()) {
      s.bitrate = (s.windowBytes * 8) / seconds;
      s.windowBytes = 0;
    }
    this.windowStart = t;
  }

  /** An error that happens at one instant. */
  private error(check: CheckName, pid: number | null, detail: Record<string, number | string>): void {
    this.counts[check]++;
    this.emit({ kind: 'error', check, t: this.now, pid, lasting: false, detail });
  }

  /** A lasting error starts at `since` (counted once until it clears). */
  private raise(check: CheckName, pid: number | null, since: number, detail: Record<string, number | string>): void {
    const key = activeKey(check, pid);
    if (this.active.has(key)) return;
    this.active.set(key, { check, pid, since });
    this.counts[check]++;
    this.emit({ kind: 'error', check, t: since, pid, lasting: true, detail });
  }

  private clear(check: CheckName, pid: number | null): void {
    // Called for every PCR and PES start: a healthy stream, with nothing active, builds no key.
    if (this.active.size === 0) return;
    const key = activeKey(check, pid);
    if (!this.active.delete(key)) return;
    this.emit({ kind: 'cleared', check, t: this.now, pid });
  }

  /**
   * The stream starts again here, as its source says (an HLS EXT-X-DISCONTINUITY) or because a
   * new connection joins it anew: no counter, PCR or section in progress is expected to go on.
   */
  restart(): void {
    for (const s of this.pids.values()) {
      s.lastCc = null;
      s.repeats = 0;
      s.lastPcr = null;
      s.lastPcrAt = null;
      s.sections?.reset();
      s.pes?.reset();
    }
    this.restartPcrAccuracy();
  }

  /** End of input: hand over the PES packets in progress, and judge the PCRs that stopped before the end. */
  finish(): void {
    for (const s of this.pids.values()) s.pes?.finish();
    this.sweep();
    for (const s of this.pids.values()) this.pcrStoppedBeforeEnd(s);
  }

  /**
   * TR 101 290 2.3.a at the end of the input: no later PCR will judge the gap, so the time of
   * the last packet does. A file has no time after its last PCR but its byte position at the
   * recent rate, which a variable-rate tail (an encoder's final flush) stretches by tens of
   * milliseconds: there the gap counts once it passes the longest step a PCR may make (2.3.b),
   * which no byte-rate error of a sane stream reaches. Live sources are judged by the sweep.
   */
  private pcrStoppedBeforeEnd(s: PidState): void {
    const limit = this.arrival === null ? PCR_DISCONTINUITY_SECONDS : PCR_REPETITION_SECONDS;
    if (s.lastPcrAt === null || this.now - s.lastPcrAt <= limit) return;
    this.raise('pcr_repetition_error', s.pid, s.lastPcrAt + PCR_REPETITION_SECONDS, {
      reason: 'no PCR before the end',
      intervalMs: round((this.now - s.lastPcrAt) * 1000),
    });
  }

  snapshot(): TransportSnapshot {
    return {
      synced: this.reader.synced,
      t: this.now,
      bitrate: this.bitrate,
      errors: { ...this.counts },
      active: [...this.active.values()],
      pids: [...this.pids.values()]
        .sort((a, b) => a.pid - b.pid)
        .map((s) => ({
          pid: s.pid,
          role: s.role,
          streamType: s.streamType,
          bitrate: s.bitrate,
          packets: s.packets,
          continuityErrors: s.ccErrors,
          present: s.present,
        })),
      programmes: [...this.programmes.values()],
      captions: [...this.captions.seen].map(([name, v]) => ({
        name,
        firstSeen: v.first,
        lastSeen: v.last,
        count: v.count,
      })),
      cues: {
        total: Object.values(this.cueCounts).reduce((a, b) => a + b, 0),
        byCommand: { ...this.cueCounts },
        last: this.lastCueAt,
        invalid: this.cueInvalid,
      },
    };
  }

  /** The priority of a check, for callers that group by it. */
  static priorityOf(check: CheckName): 1 | 2 {
    return CHECKS[check].priority;
  }
}

function activeKey(check: CheckName, pid: number | null): string {
  return `${check}:${String(pid)}`;
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

/** ISO/IEC 13818-1 table 2-34 stream types (and the SCTE-35 one) to what the checker does with the PID. */
function roleOf(streamType: number, registrations: readonly string[]): PidRole {
  if (streamType === STREAM_TYPE_SCTE35 || registrations.includes('CUEI')) return 'scte35';
  if ([0x01, 0x02, 0x10, 0x1b, 0x24, 0x42, 0xea].includes(streamType)) return 'video';
  if ([0x03, 0x04, 0x0f, 0x11, 0x1c, 0x81, 0x87].includes(streamType)) return 'audio';
  return 'data';
}
