/**
 * A transport stream fault injector for the TR 101 290 tests: it takes an ffmpeg-made TS and
 * drops, duplicates or corrupts packets of a chosen PID, removes a PID for a while, breaks
 * section CRCs, sets the transport error indicator, stops or moves PCRs, scrambles packets,
 * and inserts SCTE-35 sections, each at a known place, so every check has a known truth.
 * Packets are 188-byte copies; nothing here knows the checker.
 */
import { crc32Mpeg2 } from '../../analyzer/transport/psi.js';

export const PACKET = 188;

export function splitPackets(ts: Uint8Array): Uint8Array[] {
  if (ts.length % PACKET !== 0) throw new Error(`not a whole number of 188-byte packets: ${ts.length} bytes`);
  const out: Uint8Array[] = [];
  // Uint8Array.from copies (a Buffer's slice would be a view, and every edit would reach the original).
  for (let i = 0; i < ts.length; i += PACKET) out.push(Uint8Array.from(ts.subarray(i, i + PACKET)));
  return out;
}

export function joinPackets(packets: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(packets.length * PACKET);
  packets.forEach((p, i) => out.set(p, i * PACKET));
  return out;
}

export const pidOf = (p: Uint8Array): number => ((p[1]! & 0x1f) << 8) | p[2]!;
export const hasPayload = (p: Uint8Array): boolean => (p[3]! & 0x10) !== 0;
export const unitStart = (p: Uint8Array): boolean => (p[1]! & 0x40) !== 0;
const hasPcr = (p: Uint8Array): boolean => (p[3]! & 0x20) !== 0 && p[4]! > 0 && (p[5]! & 0x10) !== 0;

function readPcr(p: Uint8Array): number {
  const base = p[6]! * 2 ** 25 + p[7]! * 2 ** 17 + p[8]! * 2 ** 9 + p[9]! * 2 + (p[10]! >> 7);
  return base * 300 + (((p[10]! & 1) << 8) | p[11]!);
}

function writePcr(p: Uint8Array, pcr: number): void {
  const base = Math.floor(pcr / 300) % 2 ** 33;
  const ext = pcr % 300;
  p[6] = Math.floor(base / 2 ** 25) & 0xff;
  p[7] = Math.floor(base / 2 ** 17) & 0xff;
  p[8] = Math.floor(base / 2 ** 9) & 0xff;
  p[9] = Math.floor(base / 2) & 0xff;
  p[10] = ((base & 1) << 7) | 0x7e | (ext >> 8);
  p[11] = ext & 0xff;
}

/** Seconds of each packet from the first PCR (of the first PID carrying one), interpolated between PCRs. */
export function packetTimes(packets: readonly Uint8Array[]): number[] {
  const marks: { index: number; t: number }[] = [];
  let pcrPid: number | null = null;
  let first: number | null = null;
  packets.forEach((p, index) => {
    if (!hasPcr(p)) return;
    pcrPid ??= pidOf(p);
    if (pidOf(p) !== pcrPid) return;
    const pcr = readPcr(p);
    first ??= pcr;
    marks.push({ index, t: (pcr - first) / 27e6 });
  });
  if (marks.length < 2) throw new Error('need two PCRs to time packets');
  const times: number[] = [];
  let k = 0;
  for (let i = 0; i < packets.length; i++) {
    while (k + 2 < marks.length && marks[k + 1]!.index <= i) k++;
    const a = marks[k]!;
    const b = marks[k + 1]!;
    times.push(Math.max(0, a.t + ((i - a.index) * (b.t - a.t)) / (b.index - a.index)));
  }
  return times;
}

/** Indices of the packets of `pid` (with payload when `payloadOnly`). */
export function indicesOf(packets: readonly Uint8Array[], pid: number, payloadOnly = true): number[] {
  const out: number[] = [];
  packets.forEach((p, i) => {
    if (pidOf(p) === pid && (!payloadOnly || hasPayload(p))) out.push(i);
  });
  return out;
}

/** Remove the packets at these indices. */
export function dropAt(packets: readonly Uint8Array[], indices: readonly number[]): Uint8Array[] {
  const drop = new Set(indices);
  return packets.filter((_, i) => !drop.has(i));
}

/** Send the packet at `index` `extra` more times right after itself (a duplicate is allowed once, more is an error). */
export function duplicateAt(packets: readonly Uint8Array[], index: number, extra: number): Uint8Array[] {
  const out = [...packets];
  out.splice(index + 1, 0, ...Array.from({ length: extra }, () => packets[index]!.slice()));
  return out;
}

/** Copies with `change` applied to the packets at these indices. */
export function editAt(
  packets: readonly Uint8Array[],
  indices: readonly number[],
  change: (p: Uint8Array) => void,
): Uint8Array[] {
  const edit = new Set(indices);
  return packets.map((p, i) => {
    if (!edit.has(i)) return p;
    const copy = p.slice();
    change(copy);
    return copy;
  });
}

export const corruptSyncByte = (p: Uint8Array): void => {
  p[0] = 0x46;
};
export const setTransportError = (p: Uint8Array): void => {
  p[1] = p[1]! | 0x80;
};
export const scramble = (p: Uint8Array): void => {
  p[3] = (p[3]! & 0x3f) | 0x80;
};

/** Flip one bit inside the first section that starts in this packet (its CRC no longer holds). */
export const breakSection = (p: Uint8Array): void => {
  const start = (hasAdaptation(p) ? 5 + p[4]! : 4) + 1 + p[payloadStart(p)]!;
  p[start + 4] = p[start + 4]! ^ 0x01;
};

const hasAdaptation = (p: Uint8Array): boolean => (p[3]! & 0x20) !== 0;
const payloadStart = (p: Uint8Array): number => (hasAdaptation(p) ? 5 + p[4]! : 4);

/** Replace the packets in [from, to) that `chosen` picks with what `replace` makes of them; counts them. */
function replaceInWindow(
  packets: readonly Uint8Array[],
  from: number,
  to: number,
  chosen: (p: Uint8Array) => boolean,
  replace: (p: Uint8Array) => Uint8Array,
): { packets: Uint8Array[]; removed: number } {
  const times = packetTimes(packets);
  let removed = 0;
  const out = packets.map((p, i) => {
    if (!chosen(p) || times[i]! < from || times[i]! >= to) return p;
    removed++;
    return replace(p);
  });
  return { packets: out, removed };
}

/**
 * Stop sending `pid` in [from, to): its packets become null packets, as a constant-rate
 * multiplexer would send, so every other packet keeps its place. Returns how many were replaced.
 */
export function removePid(packets: readonly Uint8Array[], pid: number, from: number, to: number) {
  return replaceInWindow(packets, from, to, (p) => pidOf(p) === pid, nullPacket);
}

function nullPacket(): Uint8Array {
  const p = new Uint8Array(PACKET).fill(0xff);
  p.set([0x47, 0x1f, 0xff, 0x10]);
  return p;
}

/** Take the PCR out of every packet of the PCR PID in [from, to): its bytes become adaptation stuffing. */
export function stopPcr(packets: readonly Uint8Array[], from: number, to: number) {
  return replaceInWindow(packets, from, to, hasPcr, (p) => {
    if ((p[5]! & 0x0f) !== 0) throw new Error('adaptation field carries more than a PCR');
    const copy = p.slice();
    copy[5] = copy[5]! & ~0x10;
    copy.fill(0xff, 6, 12);
    return copy;
  });
}

/** Add `offsetTicks` (27 MHz) to the PCR of the PCR-carrying packets at these positions among PCR packets. */
export function movePcrs(
  packets: readonly Uint8Array[],
  pcrNumbers: readonly number[],
  offsetTicks: number,
): Uint8Array[] {
  const chosen = new Set(pcrNumbers);
  let n = -1;
  return packets.map((p) => {
    if (!hasPcr(p)) return p;
    n++;
    if (!chosen.has(n)) return p;
    const copy = p.slice();
    writePcr(copy, readPcr(copy) + offsetTicks);
    return copy;
  });
}

/** Set discontinuity_indicator on a PCR packet (the PCR number among PCR packets). */
export function markDiscontinuity(packets: readonly Uint8Array[], pcrNumber: number): Uint8Array[] {
  let n = -1;
  return packets.map((p) => {
    if (!hasPcr(p) || ++n !== pcrNumber) return p;
    const copy = p.slice();
    copy[5] = copy[5]! | 0x80;
    return copy;
  });
}

/** Seal a section: section_length from its size (header plus body plus CRC) and a fresh CRC_32. */
export function sealSection(tableId: number, flags: number, body: readonly number[]): Uint8Array {
  const length = body.length + 4;
  const bytes = [tableId, flags | ((length >> 8) & 0x0f), length & 0xff, ...body];
  const section = new Uint8Array(bytes.length + 4);
  section.set(bytes);
  const crc = crc32Mpeg2(section, 0, bytes.length);
  section.set([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff], bytes.length);
  return section;
}

/** Packets carrying one section on `pid` (pointer_field 0, 0xFF stuffing), continuity counters from `cc`. */
export function sectionPackets(pid: number, section: Uint8Array, cc: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const data = [0, ...section];
  for (let at = 0, k = 0; at < data.length; at += 184, k++) {
    const p = new Uint8Array(PACKET).fill(0xff);
    p.set([0x47, (k === 0 ? 0x40 : 0) | (pid >> 8), pid & 0xff, 0x10 | ((cc + k) & 0x0f)]);
    p.set(data.slice(at, at + 184), 4);
    out.push(p);
  }
  return out;
}

/** 33-bit PTS field of splice_time() and break_duration() as 5 bytes with the leading flag bits. */
function time33(flagBits: number, ticks: number): number[] {
  const v = Math.round(ticks) % 2 ** 33;
  return [
    flagBits | Math.floor(v / 2 ** 32),
    Math.floor(v / 2 ** 24) & 0xff,
    Math.floor(v / 2 ** 16) & 0xff,
    Math.floor(v / 2 ** 8) & 0xff,
    v & 0xff,
  ];
}

function spliceSection(
  commandType: number,
  command: readonly number[],
  descriptors: readonly number[] = [],
): Uint8Array {
  const body = [
    0x00, // protocol_version
    ...time33(0, 0).map((b, i) => (i === 0 ? b & 0x01 : b)), // encrypted 0, algorithm 0, pts_adjustment 0
    0xff, // cw_index
    0xff,
    (0xf << 4) | (command.length >> 8),
    command.length & 0xff, // tier 0xFFF, splice_command_length
    commandType,
    ...command,
    descriptors.length >> 8,
    descriptors.length & 0xff,
    ...descriptors,
  ];
  return sealSection(0xfc, 0x30, body); // section_syntax_indicator 0, private 0, sap_type 3
}

export interface SpliceInsertSpec {
  eventId: number;
  out: boolean;
  ptsSeconds: number;
  durationSeconds?: number;
}

export function spliceInsert(s: SpliceInsertSpec): Uint8Array {
  const id = [s.eventId >>> 24, (s.eventId >>> 16) & 0xff, (s.eventId >>> 8) & 0xff, s.eventId & 0xff];
  const flags = (s.out ? 0x80 : 0) | 0x40 | (s.durationSeconds !== undefined ? 0x20 : 0) | 0x0f;
  const command = [...id, 0x7f, flags, ...time33(0xfe, s.ptsSeconds * 90000)];
  if (s.durationSeconds !== undefined) command.push(...time33(0xfe, s.durationSeconds * 90000)); // auto_return 1
  command.push(0x00, 0x01, 0x00, 0x00); // unique_program_id 1, avail_num 0, avails_expected 0
  return spliceSection(0x05, command);
}

export interface TimeSignalSpec {
  ptsSeconds: number;
  segmentationEventId: number;
  segmentationTypeId: number;
  durationSeconds?: number;
}

export function timeSignal(s: TimeSignalSpec): Uint8Array {
  const e = s.segmentationEventId;
  const seg = [0x43, 0x55, 0x45, 0x49, e >>> 24, (e >>> 16) & 0xff, (e >>> 8) & 0xff, e & 0xff, 0x7f];
  seg.push(0x80 | (s.durationSeconds !== undefined ? 0x40 : 0) | 0x3f); // program segmentation, delivery not restricted
  if (s.durationSeconds !== undefined) {
    const d = Math.round(s.durationSeconds * 90000);
    seg.push(
      Math.floor(d / 2 ** 32) & 0xff,
      Math.floor(d / 2 ** 24) & 0xff,
      Math.floor(d / 2 ** 16) & 0xff,
      Math.floor(d / 2 ** 8) & 0xff,
      d & 0xff,
    );
  }
  seg.push(0x00, 0x00, s.segmentationTypeId, 0x01, 0x01); // no UPID, type, segment 1 of 1
  return spliceSection(0x06, time33(0xfe, s.ptsSeconds * 90000), [0x02, seg.length, ...seg]);
}

export function spliceNull(): Uint8Array {
  return spliceSection(0x00, []);
}

/**
 * Declare an SCTE-35 PID (stream_type 0x86) in every PMT section on `pmtPid` and send each
 * section in place of the first null packets at or past its time, so a constant-rate clip
 * keeps every other packet where it was. Returns the new packets.
 */
export function insertScte35(
  packets: readonly Uint8Array[],
  pmtPid: number,
  scte35Pid: number,
  cues: readonly { at: number; section: Uint8Array }[],
): { packets: Uint8Array[]; sentAt: number[] } {
  const times = packetTimes(packets);
  let cc = 0;
  const pending = [...cues].sort((a, b) => a.at - b.at);
  const queue: { packet: Uint8Array; last: boolean }[] = [];
  const sentAt: number[] = [];
  const out = packets.map((p, i) => {
    while (pending.length > 0 && times[i]! >= pending[0]!.at) {
      const inserted = sectionPackets(scte35Pid, pending.shift()!.section, cc);
      cc += inserted.length;
      queue.push(...inserted.map((packet, k) => ({ packet, last: k === inserted.length - 1 })));
    }
    const next = pidOf(p) === 0x1fff ? queue.shift() : undefined;
    if (next) {
      if (next.last) sentAt.push(times[i]!);
      return next.packet;
    }
    return pidOf(p) === pmtPid && unitStart(p) ? withScte35Stream(p, scte35Pid) : p;
  });
  if (queue.length > 0) throw new Error('no null packets left to carry the cues');
  if (pending.length > 0) throw new Error(`cues past the end of the clip: ${pending.map((c) => c.at).join(', ')}`);
  return { packets: out, sentAt };
}

/** A PMT packet whose (single-packet) section lists one more stream: `pid` with stream_type 0x86. */
function withScte35Stream(p: Uint8Array, pid: number): Uint8Array {
  const start = payloadStart(p) + 1 + p[payloadStart(p)]!;
  const length = 3 + (((p[start + 1]! & 0x0f) << 8) | p[start + 2]!);
  const section = p.subarray(start, start + length);
  const body = [...section.subarray(3, length - 4), 0x86, 0xe0 | (pid >> 8), pid & 0xff, 0xf0, 0x00];
  const sealed = sealSection(section[0]!, section[1]! & 0xf0, body);
  if (start + sealed.length > PACKET) throw new Error('PMT does not fit one packet');
  const copy = p.slice();
  copy.fill(0xff, start);
  copy.set(sealed, start);
  return copy;
}
