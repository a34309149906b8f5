/**
 * Closed captions carried in the video elementary stream: ATSC A/53 Part 4 cc_data() inside
 * ITU-T T.35 registered user data (country 0xB5, provider 0x0031, user_identifier 'GA94',
 * user_data_type_code 0x03), found in H.264 SEI (payload type 4, ITU-T H.264 §D.1.6), HEVC
 * prefix/suffix SEI (ITU-T H.265 §D.2.6) and MPEG-2 user_data (start code 0xB2). Each cc_data
 * triple is a CEA-608 byte pair (field 1 or 2) or a piece of a CEA-708 DTVCC packet
 * (CTA-708-E §5-6): this file tells which 608 channels and 708 services carry anything.
 */

export type VideoCodec = 'h264' | 'hevc' | 'mpeg2';

/** PMT stream_type (ISO/IEC 13818-1 table 2-34) to the codecs whose captions are read. */
export function captionCodecOf(streamType: number): VideoCodec | null {
  if (streamType === 0x1b) return 'h264';
  if (streamType === 0x24) return 'hevc';
  if (streamType === 0x02 || streamType === 0x01) return 'mpeg2';
  return null;
}

/** One cc_data() construct triple (A/53 Part 4 §6.2.3.1, table 6.9). */
export interface CcTriple {
  valid: boolean;
  /** 0: 608 field 1, 1: 608 field 2, 2: DTVCC packet data, 3: DTVCC packet start. */
  type: number;
  data1: number;
  data2: number;
}

const GA94 = 0x47413934;
const A53_CC_DATA = 0x03;

/** Every cc_data triple in one access unit's (PES packet's) worth of elementary stream. */
export function ccTriplesOf(es: Uint8Array, codec: VideoCodec): CcTriple[] {
  const out: CcTriple[] = [];
  for (const unit of startCodeUnits(es)) readUnit(unit, codec, out);
  return out;
}

/** Whether a unit whose first byte (NAL header, MPEG-2 start code value) is `first` can carry captions. */
function unitWanted(first: number, codec: VideoCodec): boolean {
  if (codec === 'mpeg2') return first === 0xb2;
  if (codec === 'h264') return (first & 0x1f) === 6;
  const nalType = (first >> 1) & 0x3f;
  return nalType === 39 || nalType === 40;
}

/** The cc_data triples of one start-code unit (the bytes after its start code). */
function readUnit(unit: Uint8Array, codec: VideoCodec, out: CcTriple[]): void {
  if (!unitWanted(unit[0] ?? 0, codec)) return;
  if (codec === 'mpeg2') readA53UserData(unit, 1, out);
  else readSeiMessages(unescapeRbsp(unit.subarray(codec === 'h264' ? 1 : 2)), out);
}

/**
 * ccTriplesOf for an elementary stream that arrives in pieces (the payloads of the TS packets
 * of one PES packet): it finds the start codes as the bytes pass, across piece boundaries, and
 * copies only the units that can carry captions (SEI, user data), so that a video PES is never
 * copied whole. The triples are the same as ccTriplesOf on the joined bytes.
 */
export class CaptionScanner {
  /** Bytes of this PES so far. */
  private length = 0;
  /** Zero bytes that end the bytes so far (at most 2): a start code may span pieces. */
  private zeros = 0;
  /** Offset of the current unit's first byte; -1 before the first start code. */
  private unitStart = -1;
  /** The current unit: not yet known (its first byte has not come), kept, or skipped. */
  private unitState: 'unknown' | 'kept' | 'skipped' = 'skipped';
  private unit = new Uint8Array(1024);
  private unitLength = 0;
  private triples: CcTriple[] = [];

  constructor(
    private readonly codec: VideoCodec,
    /** The triples of each complete PES packet, in order (only those that carry any). */
    private readonly onTriples: (triples: CcTriple[]) => void,
  ) {}

  /** A new PES packet starts: forget the previous one. */
  reset(): void {
    this.length = 0;
    this.zeros = 0;
    this.unitStart = -1;
    this.unitState = 'skipped';
    this.unitLength = 0;
    this.triples = [];
  }

  /** The next piece of elementary stream: bytes[from, to). */
  push(bytes: Uint8Array, from: number, to: number): void {
    const base = this.length - from; // offset in the PES of bytes[0]
    let kept = from;
    // Only a 0x01 can end a start code, and a byte above 1 rules out the next two positions
    // too (they would need it to be 0): most of a picture's bytes are stepped over three at a time.
    for (let i = from; i < to;) {
      const b = bytes[i] ?? 0;
      if (b === 0) {
        i += 1;
        continue;
      }
      if (b === 1 && this.startCodeEndsAt(bytes, from, i)) {
        this.keep(bytes, kept, i + 1);
        kept = i + 1;
        this.endUnit(base + i - 2);
        this.unitStart = base + i + 1;
        this.unitState = 'unknown';
      }
      i += 3;
    }
    this.keep(bytes, kept, to);
    this.length = base + to;
    this.zeros = trailingZeros(bytes, from, to, this.zeros);
  }

  /** End of the PES packet: hand over the triples of its units. */
  finish(): void {
    this.endUnit(this.length);
    const out = this.triples;
    this.reset();
    if (out.length > 0) this.onTriples(out);
  }

  /** Whether bytes[one] (a 0x01) ends a 00 00 01 start code, counting zeros that ended earlier pieces. */
  private startCodeEndsAt(bytes: Uint8Array, from: number, one: number): boolean {
    if (one - from >= 2) return bytes[one - 1] === 0 && bytes[one - 2] === 0;
    if (one - from === 1) return bytes[one - 1] === 0 && this.zeros >= 1;
    return this.zeros >= 2;
  }

  /** Keep bytes[start, end) when they belong to a kept unit (deciding a unit whose first byte is among them). */
  private keep(bytes: Uint8Array, start: number, end: number): void {
    if (this.unitState === 'unknown' && start < end) {
      this.unitState = unitWanted(bytes[start] ?? 0, this.codec) ? 'kept' : 'skipped';
    }
    if (this.unitState !== 'kept' || start >= end) return;
    const needed = this.unitLength + end - start;
    if (needed > this.unit.length) {
      const grown = new Uint8Array(Math.max(needed, this.unit.length * 2));
      grown.set(this.unit.subarray(0, this.unitLength));
      this.unit = grown;
    }
    this.unit.set(bytes.subarray(start, end), this.unitLength);
    this.unitLength = needed;
  }

  /** The current unit ends before offset `end` of the PES (its trailing zeros belong to no unit, as in startCodeUnits). */
  private endUnit(end: number): void {
    if (this.unitState === 'kept') {
      let length = Math.min(this.unitLength, end - this.unitStart);
      while (length > 0 && this.unit[length - 1] === 0) length--;
      readUnit(this.unit.subarray(0, length), this.codec, this.triples);
    }
    this.unitState = 'skipped';
    this.unitLength = 0;
  }
}

/** The zero bytes that end bytes[from, to), adding those before it when the piece is all zeros (capped at 2). */
function trailingZeros(bytes: Uint8Array, from: number, to: number, before: number): number {
  let n = 0;
  for (let i = to - 1; i >= from && n < 2 && bytes[i] === 0; i--) n++;
  return n === to - from ? Math.min(2, before + n) : n;
}

/** The byte runs between 00 00 01 start codes (each beginning after its start code). */
function startCodeUnits(es: Uint8Array): Uint8Array[] {
  const starts: number[] = [];
  for (let i = 0; i + 2 < es.length; i++) {
    if (es[i] === 0 && es[i + 1] === 0 && es[i + 2] === 1) {
      starts.push(i + 3);
      i += 2;
    }
  }
  return starts.map((s, k) => {
    let end = k + 1 < starts.length ? (starts[k + 1] ?? es.length) - 3 : es.length;
    while (end > s && es[end - 1] === 0) end--; // a 4-byte start code's leading zero
    return es.subarray(s, end);
  });
}

/** Drop emulation_prevention_three_byte (H.264 §7.4.1, H.265 §7.4.2): 00 00 03 -> 00 00. */
export function unescapeRbsp(nal: Uint8Array): Uint8Array {
  const out = new Uint8Array(nal.length);
  let n = 0;
  let zeros = 0;
  for (const b of nal) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/** sei_message() loop (H.264 §7.3.2.3.1): the T.35 user data ones (payload type 4). */
function readSeiMessages(rbsp: Uint8Array, out: CcTriple[]): void {
  let i = 0;
  while (i < rbsp.length && !(rbsp[i] === 0x80 && i === rbsp.length - 1)) {
    let type = 0;
    while (rbsp[i] === 0xff) {
      type += 255;
      i++;
    }
    type += rbsp[i++] ?? 0;
    let size = 0;
    while (rbsp[i] === 0xff) {
      size += 255;
      i++;
    }
    size += rbsp[i++] ?? 0;
    if (i + size > rbsp.length) return;
    if (type === 4) readT35(rbsp.subarray(i, i + size), out);
    i += size;
  }
}

/** user_data_registered_itu_t_t35 (A/53 Part 4 §6.2.2 / SCTE 128-1 §8.1): USA, ATSC, GA94. */
function readT35(payload: Uint8Array, out: CcTriple[]): void {
  if (payload[0] !== 0xb5) return;
  const provider = ((payload[1] ?? 0) << 8) | (payload[2] ?? 0);
  if (provider !== 0x0031) return;
  readA53UserData(payload, 3, out);
}

/** 'GA94', user_data_type_code 0x03, then cc_data() (A/53 Part 4 table 6.8). */
function readA53UserData(b: Uint8Array, at: number, out: CcTriple[]): void {
  const identifier =
    (((b[at] ?? 0) << 24) | ((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0)) >>> 0;
  if (identifier !== GA94 || b[at + 4] !== A53_CC_DATA) return;
  const flags = b[at + 5] ?? 0;
  if ((flags & 0x40) === 0) return; // process_cc_data_flag: the triples are not to be used
  const count = flags & 0x1f;
  for (let k = 0, i = at + 7; k < count && i + 3 <= b.length; k++, i += 3) {
    const head = b[i] ?? 0;
    out.push({ valid: (head & 0x04) !== 0, type: head & 0x03, data1: b[i + 1] ?? 0, data2: b[i + 2] ?? 0 });
  }
}

/**
 * Which 608 channels (CC1-CC4) and 708 services (1-63) carry data. 608 pairs belong to the
 * channel the last control code selected (CEA-608-E §8.4: the channel bit of the first control
 * byte); XDS on field 2 belongs to none. 708 services are read from the service block headers
 * of each complete DTVCC packet (CTA-708-E §6.2).
 */
export class CaptionPresence {
  /** Timeline seconds each channel or service first and last carried data, and how many pairs/blocks. */
  readonly seen = new Map<string, { first: number; last: number; count: number }>();
  private readonly fieldChannel: ('1' | '2' | 'xds' | null)[] = [null, null];
  private dtvcc: number[] | null = null;
  private readonly marked = new Set<string>();

  /** Feed one access unit's triples; returns the channels and services that carried data in them. */
  feed(triples: readonly CcTriple[], t: number): string[] {
    this.marked.clear();
    for (const triple of triples) {
      if (!triple.valid) continue;
      if (triple.type <= 1) this.feed608(triple.type, triple.data1 & 0x7f, triple.data2 & 0x7f, t);
      else this.feed708(triple, t);
    }
    return [...this.marked];
  }

  private feed608(field: number, b1: number, b2: number, t: number): void {
    if (b1 === 0 && b2 === 0) return; // padding
    if (b1 >= 0x10 && b1 <= 0x1f) this.fieldChannel[field] = (b1 & 0x08) !== 0 ? '2' : '1';
    else if (field === 1 && b1 >= 0x01 && b1 <= 0x0f) this.fieldChannel[field] = 'xds';
    const channel = this.fieldChannel[field] ?? '1';
    if (channel === 'xds') return;
    this.mark(`CC${String(field * 2 + Number(channel))}`, t);
  }

  private feed708(triple: CcTriple, t: number): void {
    if (triple.type === 3) {
      this.dtvccDone(t);
      this.dtvcc = [triple.data1, triple.data2];
    } else if (this.dtvcc) {
      this.dtvcc.push(triple.data1, triple.data2);
    }
    const size = this.dtvcc ? dtvccPacketSize(this.dtvcc[0] ?? 0) : 0;
    if (this.dtvcc && this.dtvcc.length >= size) this.dtvccDone(t);
  }

  private dtvccDone(t: number): void {
    const packet = this.dtvcc;
    this.dtvcc = null;
    if (!packet) return;
    const size = Math.min(packet.length, dtvccPacketSize(packet[0] ?? 0));
    for (let i = 1; i < size;) {
      const head = packet[i] ?? 0;
      let service = head >> 5;
      const blockSize = head & 0x1f;
      if (service === 0 || blockSize === 0) break; // null service block: the rest is padding
      if (service === 7) service = (packet[++i] ?? 0) & 0x3f; // extended service number
      this.mark(`service${String(service)}`, t);
      i += 1 + blockSize;
    }
  }

  private mark(name: string, t: number): void {
    this.marked.add(name);
    const entry = this.seen.get(name);
    if (entry) {
      entry.last = t;
      entry.count++;
    } else this.seen.set(name, { first: t, last: t, count: 1 });
  }
}

/** packet_size_code (CTA-708-E §5): 0 means 128 bytes, otherwise twice the code, header included. */
function dtvccPacketSize(header: number): number {
  const code = header & 0x3f;
  return code === 0 ? 128 : code * 2;
}
