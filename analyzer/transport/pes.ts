/**
 * PES packets (ISO/IEC 13818-1 §2.4.3.6): the PTS of each and, for the one video PID whose
 * captions are read, its elementary stream bytes handed on piece by piece as the packets arrive.
 */

/** The PTS of the PES packet that starts at payload[at] (90 kHz ticks; the payload ends at `end`), or null when it has none. */
export function pesPts(payload: Uint8Array, at = 0, end = payload.length): number | null {
  if (end - at < 14 || payload[at] !== 0 || payload[at + 1] !== 0 || payload[at + 2] !== 1) return null;
  const streamId = payload[at + 3] ?? 0;
  if (!hasOptionalHeader(streamId)) return null;
  if (((payload[at + 7] ?? 0) & 0x80) === 0) return null;
  return readTimestamp(payload, at + 9);
}

/** The DTS of the PES packet that starts at payload[at] (its PTS where it carries no DTS), or null when it has neither. */
export function pesDts(payload: Uint8Array, at = 0, end = payload.length): number | null {
  const pts = pesPts(payload, at, end);
  if (pts === null || ((payload[at + 7] ?? 0) & 0xc0) !== 0xc0 || end - at < 19) return pts;
  return readTimestamp(payload, at + 14);
}

/** Offset, from payload[at], of the PES payload (the elementary stream bytes) of a PES packet that starts at payload[at]. */
export function pesDataOffset(payload: Uint8Array, at = 0, end = payload.length): number | null {
  if (end - at < 9 || payload[at] !== 0 || payload[at + 1] !== 0 || payload[at + 2] !== 1) return null;
  if (!hasOptionalHeader(payload[at + 3] ?? 0)) return 6;
  return 9 + (payload[at + 8] ?? 0);
}

const NO_OPTIONAL_HEADER = new Set([0xbc, 0xbe, 0xbf, 0xf0, 0xf1, 0xf2, 0xf8, 0xff]);

/** Stream ids without the optional PES header (§2.4.3.7 table 2-22: padding, private 2, ECM, EMM, DSM-CC, H.222.1 E). */
function hasOptionalHeader(streamId: number): boolean {
  return !NO_OPTIONAL_HEADER.has(streamId);
}

function readTimestamp(b: Uint8Array, i: number): number {
  return (
    (((b[i] ?? 0) >> 1) & 0x07) * 2 ** 30 +
    (((b[i + 1] ?? 0) << 7) | ((b[i + 2] ?? 0) >> 1)) * 2 ** 15 +
    (((b[i + 3] ?? 0) << 7) | ((b[i + 4] ?? 0) >> 1))
  );
}

/** Where a PES packet's elementary stream bytes go, piece by piece (the captions scanner). */
export interface ElementaryStreamSink {
  /** The next piece of the PES packet in progress: bytes[from, to). */
  push(bytes: Uint8Array, from: number, to: number): void;
  /** The PES packet in progress is complete. */
  finish(): void;
  /** The PES packet in progress is dropped. */
  reset(): void;
}

/**
 * Hands the elementary-stream bytes of each PES packet on one PID to a sink as the packets
 * arrive, and tells it when the PES ends (the next one starts). A lost packet drops the PES in
 * progress (its bytes would not join). Nothing is copied here: the sink keeps what it needs.
 */
export class PesAssembler {
  private collecting = false;

  constructor(private readonly sink: ElementaryStreamSink) {}

  reset(): void {
    this.collecting = false;
    this.sink.reset();
  }

  /** One packet's payload: bytes[offset, end). */
  push(bytes: Uint8Array, offset: number, end: number, unitStart: boolean): void {
    if (unitStart) {
      this.finish();
      const data = pesDataOffset(bytes, offset, end);
      if (data === null || offset + data > end) return;
      this.collecting = true;
      this.sink.push(bytes, offset + data, end);
      return;
    }
    if (this.collecting) this.sink.push(bytes, offset, end);
  }

  /** Hand over the PES in progress (end of input). */
  finish(): void {
    if (this.collecting) this.sink.finish();
    this.reset();
  }
}
