/**
 * SCTE 35 splice_info_section (ANSI/SCTE 35 §9.6, table 5): splice_null, splice_insert and
 * time_signal with its segmentation descriptors (§10.3.3), read into cues: a cue out starts a
 * break (an avail, a placement opportunity), a cue in ends one.
 */
import { sectionCrcOk, sectionHeader } from './psi.js';

export const TABLE_SCTE35 = 0xfc;
/** PMT stream_type of SCTE-35 PIDs (SCTE 35 §8.1). */
export const STREAM_TYPE_SCTE35 = 0x86;

export type SpliceCommand =
  'splice_null' | 'splice_schedule' | 'splice_insert' | 'time_signal' | 'bandwidth_reservation' | 'private_command';

const COMMAND_NAMES: Record<number, SpliceCommand> = {
  0x00: 'splice_null',
  0x04: 'splice_schedule',
  0x05: 'splice_insert',
  0x06: 'time_signal',
  0x07: 'bandwidth_reservation',
  0xff: 'private_command',
};

/** segmentation_type_id values that open a break (table 22: break, ads, placement opportunities, ad overlays). */
const SEGMENT_OUT = new Set([0x22, 0x30, 0x32, 0x34, 0x36, 0x38, 0x3a, 0x44, 0x46]);
/** ... and the ones that close one (each start's id + 1). */
const SEGMENT_IN = new Set([0x23, 0x31, 0x33, 0x35, 0x37, 0x39, 0x3b, 0x45, 0x47]);

export interface SegmentationDescriptor {
  eventId: number;
  cancel: boolean;
  typeId: number;
  /** Seconds, when segmentation_duration_flag is set. */
  duration: number | null;
  upidType: number;
  segmentNum: number;
  segmentsExpected: number;
}

export interface SpliceInfo {
  command: SpliceCommand;
  /** pts_adjustment, 90 kHz ticks. */
  ptsAdjustment: number;
  encrypted: boolean;
  /** splice_insert only. */
  spliceEventId: number | null;
  cancel: boolean;
  outOfNetwork: boolean | null;
  immediate: boolean;
  /** The splice_time()'s pts_time plus pts_adjustment (90 kHz, modulo 2^33), when given. */
  ptsTime: number | null;
  /** break_duration, seconds, when given; autoReturn tells whether the splicer returns by itself. */
  breakDuration: number | null;
  autoReturn: boolean;
  uniqueProgramId: number | null;
  availNum: number | null;
  availsExpected: number | null;
  segmentations: SegmentationDescriptor[];
}

/** What a cue means for a break: out (a break starts), in (it ends), or neither (a heartbeat, a programme boundary). */
export type CueDirection = 'out' | 'in' | 'none';

export function cueDirection(info: SpliceInfo): CueDirection {
  if (info.command === 'splice_insert' && !info.cancel && info.outOfNetwork !== null)
    return info.outOfNetwork ? 'out' : 'in';
  for (const s of info.segmentations) {
    if (s.cancel) continue;
    if (SEGMENT_OUT.has(s.typeId)) return 'out';
    if (SEGMENT_IN.has(s.typeId)) return 'in';
  }
  return 'none';
}

/** Why a section could not be read (a clear error for people and a label for counters). */
export class SpliceInfoError extends Error {}

const PTS_WRAP = 2 ** 33;

/** A bounds-checked big-endian bit reader over one section. */
class Bits {
  private bit = 0;
  constructor(
    private readonly b: Uint8Array,
    private byte: number,
    private readonly end: number,
  ) {}
  get position(): number {
    return this.byte;
  }
  read(n: number): number {
    let v = 0;
    for (let k = 0; k < n; k++) {
      if (this.byte >= this.end)
        throw new SpliceInfoError(`splice_info_section ends inside a field at byte ${String(this.byte)}`);
      v = v * 2 + (((this.b[this.byte] ?? 0) >> (7 - this.bit)) & 1);
      if (++this.bit === 8) {
        this.bit = 0;
        this.byte++;
      }
    }
    return v;
  }
  skipTo(byte: number): void {
    this.byte = byte;
    this.bit = 0;
  }
}

/** Parse one complete section (table_id 0xFC). Throws SpliceInfoError naming what is wrong. */
export function parseSpliceInfo(section: Uint8Array): SpliceInfo {
  const header = sectionHeader(section);
  if (header.tableId !== TABLE_SCTE35)
    throw new SpliceInfoError(`table_id 0x${header.tableId.toString(16)} is not 0xfc`);
  if (header.length > section.length) throw new SpliceInfoError('section shorter than its section_length');
  if (!sectionCrcOk(section)) throw new SpliceInfoError('CRC_32 mismatch');
  const r = new Bits(section, 3, header.length - 4);
  r.read(8); // protocol_version
  const encrypted = r.read(1) === 1;
  r.read(6); // encryption_algorithm
  const ptsAdjustment = r.read(33);
  r.read(8 + 12); // cw_index, tier
  const commandLength = r.read(12);
  const commandType = r.read(8);
  const command = COMMAND_NAMES[commandType];
  if (!command) throw new SpliceInfoError(`splice_command_type 0x${commandType.toString(16)} is reserved`);
  const info: SpliceInfo = {
    command,
    ptsAdjustment,
    encrypted,
    spliceEventId: null,
    cancel: false,
    outOfNetwork: null,
    immediate: false,
    ptsTime: null,
    breakDuration: null,
    autoReturn: false,
    uniqueProgramId: null,
    availNum: null,
    availsExpected: null,
    segmentations: [],
  };
  if (encrypted) return info; // the command and descriptors are encrypted: only the header can be read
  const commandStart = r.position;
  if (command === 'splice_insert') readSpliceInsert(r, info);
  else if (command === 'time_signal') info.ptsTime = readSpliceTime(r, ptsAdjustment);
  // splice_command_length 0xFFF is the legacy "unknown": the command's own syntax told where it ends.
  if (commandLength !== 0xfff) r.skipTo(commandStart + commandLength);
  const loopLength = r.read(16);
  readDescriptors(section, r.position, Math.min(r.position + loopLength, header.length - 4), info);
  return info;
}

function readSpliceTime(r: Bits, adjustment: number): number | null {
  if (r.read(1) === 0) {
    r.read(7);
    return null;
  }
  r.read(6);
  return (r.read(33) + adjustment) % PTS_WRAP;
}

function readBreakDuration(r: Bits, info: SpliceInfo): void {
  info.autoReturn = r.read(1) === 1;
  r.read(6);
  info.breakDuration = r.read(33) / 90000;
}

/** splice_insert() (§9.7.3, table 10). */
function readSpliceInsert(r: Bits, info: SpliceInfo): void {
  info.spliceEventId = r.read(32);
  info.cancel = r.read(1) === 1;
  r.read(7);
  if (info.cancel) return;
  info.outOfNetwork = r.read(1) === 1;
  const programSplice = r.read(1) === 1;
  const hasDuration = r.read(1) === 1;
  info.immediate = r.read(1) === 1;
  r.read(4);
  if (programSplice && !info.immediate) info.ptsTime = readSpliceTime(r, info.ptsAdjustment);
  if (!programSplice) {
    const components = r.read(8);
    for (let k = 0; k < components; k++) {
      r.read(8); // component_tag
      if (!info.immediate) readSpliceTime(r, info.ptsAdjustment);
    }
  }
  if (hasDuration) readBreakDuration(r, info);
  info.uniqueProgramId = r.read(16);
  info.availNum = r.read(8);
  info.availsExpected = r.read(8);
}

const CUEI = 0x43554549;

/** splice_descriptor() loop: segmentation_descriptor (tag 0x02, identifier 'CUEI') is read; others are skipped. */
function readDescriptors(section: Uint8Array, start: number, end: number, info: SpliceInfo): void {
  for (let i = start; i + 2 <= end; i += 2 + (section[i + 1] ?? 0)) {
    const tag = section[i] ?? 0;
    const length = section[i + 1] ?? 0;
    if (tag !== 0x02 || i + 2 + length > end) continue;
    const r = new Bits(section, i + 2, i + 2 + length);
    if (r.read(32) !== CUEI) continue;
    info.segmentations.push(readSegmentation(r));
  }
}

/** segmentation_descriptor() (§10.3.3, table 19). */
function readSegmentation(r: Bits): SegmentationDescriptor {
  const eventId = r.read(32);
  const cancel = r.read(1) === 1;
  r.read(7);
  const out: SegmentationDescriptor = {
    eventId,
    cancel,
    typeId: 0,
    duration: null,
    upidType: 0,
    segmentNum: 0,
    segmentsExpected: 0,
  };
  if (cancel) return out;
  const programSegmentation = r.read(1) === 1;
  const hasDuration = r.read(1) === 1;
  r.read(6); // delivery_not_restricted_flag and its four flags (or reserved bits)
  if (!programSegmentation) {
    const components = r.read(8);
    for (let k = 0; k < components; k++) r.read(8 + 7 + 33);
  }
  if (hasDuration) out.duration = r.read(40) / 90000;
  out.upidType = r.read(8);
  const upidLength = r.read(8);
  r.skipTo(r.position + upidLength);
  out.typeId = r.read(8);
  out.segmentNum = r.read(8);
  out.segmentsExpected = r.read(8);
  return out;
}
