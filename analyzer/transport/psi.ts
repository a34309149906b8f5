/**
 * Program-specific information (ISO/IEC 13818-1 §2.4.4): sections reassembled from the
 * packets of one PID, their CRC-32 (the MPEG-2 variant: polynomial 0x04C11DB7, initial value
 * 0xFFFFFFFF, no reflection, no final xor), and the PAT, CAT and PMT.
 */

export const PAT_PID = 0x0000;
export const CAT_PID = 0x0001;
export const TABLE_PAT = 0x00;
export const TABLE_CAT = 0x01;
export const TABLE_PMT = 0x02;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC-32/MPEG-2 of bytes[start, end). A section including its CRC_32 field gives 0 when intact. */
export function crc32Mpeg2(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++)
    crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ (bytes[i] ?? 0)) & 0xff] ?? 0)) >>> 0;
  return crc >>> 0;
}

/** table_id, section_syntax_indicator and section_length: the three fields every section starts with. */
export interface SectionHeader {
  tableId: number;
  longForm: boolean;
  /** Whole section length in bytes, header included. */
  length: number;
}

export function sectionHeader(section: Uint8Array): SectionHeader {
  return {
    tableId: section[0] ?? 0xff,
    longForm: ((section[1] ?? 0) & 0x80) !== 0,
    length: 3 + ((((section[1] ?? 0) & 0x0f) << 8) | (section[2] ?? 0)),
  };
}

/**
 * Reassembles the sections carried on one PID from packet payloads (§2.4.4.1 pointer_field),
 * several sections per packet and sections across packets. A lost packet (the caller says so)
 * drops the section in progress rather than splicing two halves together.
 */
export class SectionAssembler {
  private partial: number[] | null = null;

  constructor(private readonly onSection: (section: Uint8Array) => void) {}

  /** Forget the section in progress (a continuity error or a scrambled packet interrupted it). */
  reset(): void {
    this.partial = null;
  }

  push(payload: Uint8Array, unitStart: boolean): void {
    if (!unitStart) {
      if (this.partial) this.append(payload);
      return;
    }
    // pointer_field: the bytes before it end the section in progress.
    const pointer = payload[0] ?? 0;
    if (this.partial) this.append(payload.subarray(1, Math.min(payload.length, 1 + pointer)));
    this.partial = null;
    this.startSections(payload, 1 + pointer);
  }

  private startSections(payload: Uint8Array, from: number): void {
    let i = from;
    while (i < payload.length && payload[i] !== 0xff) {
      const remaining = payload.length - i;
      if (remaining < 3) {
        this.partial = Array.from(payload.subarray(i));
        return;
      }
      const length = 3 + ((((payload[i + 1] ?? 0) & 0x0f) << 8) | (payload[i + 2] ?? 0));
      if (length <= remaining) {
        this.onSection(payload.slice(i, i + length));
        i += length;
        continue;
      }
      this.partial = Array.from(payload.subarray(i));
      return;
    }
  }

  private append(bytes: Uint8Array): void {
    if (!this.partial) return;
    for (const b of bytes) this.partial.push(b);
    if (this.partial.length < 3) return;
    const length = 3 + ((((this.partial[1] ?? 0) & 0x0f) << 8) | (this.partial[2] ?? 0));
    if (this.partial.length >= length) {
      this.onSection(Uint8Array.from(this.partial.slice(0, length)));
      this.partial = null;
    }
  }
}

/** The long-form section fields after section_length (§2.4.4.3): where the table's own body starts. */
const LONG_HEADER = 8;
const CRC_SIZE = 4;

/** One programme of the PAT: programme 0 names the network PID and is left out. */
export interface PatEntry {
  programNumber: number;
  pmtPid: number;
}

export function parsePat(section: Uint8Array): PatEntry[] {
  const { length } = sectionHeader(section);
  const out: PatEntry[] = [];
  for (let i = LONG_HEADER; i + 4 <= length - CRC_SIZE; i += 4) {
    const programNumber = ((section[i] ?? 0) << 8) | (section[i + 1] ?? 0);
    const pid = (((section[i + 2] ?? 0) & 0x1f) << 8) | (section[i + 3] ?? 0);
    if (programNumber !== 0) out.push({ programNumber, pmtPid: pid });
  }
  return out;
}

/** One elementary stream of a PMT. */
export interface PmtStream {
  streamType: number;
  pid: number;
  /** The descriptor tags of its ES_info loop (e.g. 0x52 stream_identifier, 0x8A SCTE-35 cue_identifier). */
  descriptorTags: number[];
  /** registration_descriptor (tag 0x05) format identifiers, e.g. 'CUEI', 'HEVC'. */
  registrations: string[];
}

export interface Pmt {
  programNumber: number;
  pcrPid: number;
  streams: PmtStream[];
  /** The programme's registration_descriptor format identifiers (e.g. 'HDMV', under which some stream types mean other codecs). */
  registrations: string[];
}

export function parsePmt(section: Uint8Array): Pmt {
  const { length } = sectionHeader(section);
  const end = length - CRC_SIZE;
  const programNumber = ((section[3] ?? 0) << 8) | (section[4] ?? 0);
  const pcrPid = (((section[8] ?? 0) & 0x1f) << 8) | (section[9] ?? 0);
  const programInfoLength = (((section[10] ?? 0) & 0x0f) << 8) | (section[11] ?? 0);
  const streams: PmtStream[] = [];
  const programme = descriptorsOf(section, 12, Math.min(end, 12 + programInfoLength));
  let i = 12 + programInfoLength;
  while (i + 5 <= end) {
    const streamType = section[i] ?? 0;
    const pid = (((section[i + 1] ?? 0) & 0x1f) << 8) | (section[i + 2] ?? 0);
    const infoLength = (((section[i + 3] ?? 0) & 0x0f) << 8) | (section[i + 4] ?? 0);
    const { tags, registrations } = descriptorsOf(section, i + 5, Math.min(end, i + 5 + infoLength));
    streams.push({ streamType, pid, descriptorTags: tags, registrations });
    i += 5 + infoLength;
  }
  return { programNumber, pcrPid, streams, registrations: programme.registrations };
}

function descriptorsOf(b: Uint8Array, start: number, end: number): { tags: number[]; registrations: string[] } {
  const tags: number[] = [];
  const registrations: string[] = [];
  for (let i = start; i + 2 <= end; i += 2 + (b[i + 1] ?? 0)) {
    const tag = b[i] ?? 0;
    tags.push(tag);
    if (tag === 0x05 && (b[i + 1] ?? 0) >= 4) registrations.push(String.fromCharCode(...b.subarray(i + 2, i + 6)));
  }
  return { tags, registrations };
}

/** version_number of a long-form section. */
export function sectionVersion(section: Uint8Array): number {
  return ((section[5] ?? 0) >> 1) & 0x1f;
}

/** A section whose table carries a CRC_32: every long-form section, and SCTE-35's short-form one. */
export function sectionCrcOk(section: Uint8Array): boolean {
  return crc32Mpeg2(section, 0, sectionHeader(section).length) === 0;
}
