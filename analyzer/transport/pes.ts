/**
 * PES packets (ISO/IEC 13818-1 §2.4.3.6): the PTS of each and, for the one video PID whose
 * captions are read, the whole payload reassembled from the packets that carry it.
 */

/** The PTS of the PES packet that starts in this payload (90 kHz ticks), or null when it has none. */
export function pesPts(payload: Uint8Array): number | null {
  if (payload.length < 14 || payload[0] !== 0 || payload[1] !== 0 || payload[2] !== 1) return null;
  const streamId = payload[3] ?? 0;
  if (!hasOptionalHeader(streamId)) return null;
  if (((payload[7] ?? 0) & 0x80) === 0) return null;
  return readTimestamp(payload, 9);
}

/** Offset of the PES payload (the elementary stream bytes) in a payload that starts a PES packet. */
export function pesDataOffset(payload: Uint8Array): number | null {
  if (payload.length < 9 || payload[0] !== 0 || payload[1] !== 0 || payload[2] !== 1) return null;
  if (!hasOptionalHeader(payload[3] ?? 0)) return 6;
  return 9 + (payload[8] ?? 0);
}

/** Stream ids without the optional PES header (§2.4.3.7 table 2-22: padding, private 2, ECM, EMM, DSM-CC, H.222.1 E). */
function hasOptionalHeader(streamId: number): boolean {
  return ![0xbc, 0xbe, 0xbf, 0xf0, 0xf1, 0xf2, 0xf8, 0xff].includes(streamId);
}

function readTimestamp(b: Uint8Array, i: number): number {
  return (
    (((b[i] ?? 0) >> 1) & 0x07) * 2 ** 30 +
    (((b[i + 1] ?? 0) << 7) | ((b[i + 2] ?? 0) >> 1)) * 2 ** 15 +
    (((b[i + 3] ?? 0) << 7) | ((b[i + 4] ?? 0) >> 1))
  );
}

/**
 * Collects the elementary-stream bytes of each PES packet on one PID and hands them over
 * when the next one starts. A lost packet drops the PES in progress (its bytes would not join).
 */
export class PesAssembler {
  private chunks: Uint8Array[] = [];
  private collecting = false;

  constructor(private readonly onPes: (data: Uint8Array) => void) {}

  reset(): void {
    this.chunks = [];
    this.collecting = false;
  }

  push(payload: Uint8Array, unitStart: boolean): void {
    if (unitStart) {
      this.finish();
      const offset = pesDataOffset(payload);
      if (offset === null || offset > payload.length) return;
      this.collecting = true;
      this.chunks.push(payload.slice(offset));
      return;
    }
    if (this.collecting) this.chunks.push(payload.slice());
  }

  /** Hand over the PES in progress (end of input). */
  finish(): void {
    if (this.collecting && this.chunks.length > 0) {
      const total = this.chunks.reduce((n, c) => n + c.length, 0);
      const data = new Uint8Array(total);
      let at = 0;
      for (const c of this.chunks) {
        data.set(c, at);
        at += c.length;
      }
      this.onPes(data);
    }
    this.reset();
  }
}
