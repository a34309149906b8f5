/**
 * MPEG-TS continuity counters joined across the segments a decoder is given. Each HLS segment
 * is cut from the stream on its own: after an EXT-X-DISCONTINUITY (an ad splice, an encoder
 * restart), after a segment the client skipped or a slow decoder dropped, a PID's counter
 * jumps where one segment meets the next. A player resets its demuxer there; ffmpeg reading
 * the segments as one stream instead flags the packet it was assembling on that PID as corrupt
 * ("Packet corrupt", "corrupt input packet": the last video frame before the splice), which the
 * analyzer would take for a decode error at every splice. So each segment's counters are shifted, per PID, to go on from the last ones the
 * decoder was given. Only the step between segments is taken out: a jump inside a segment
 * (a packet really lost) stays, and the transport checks see the segments as fetched.
 */
import { emptyPacket, NULL_PID, PACKET_SIZE, readPacket, SYNC_BYTE } from '../transport/packet.js';

/** Whether `bytes` starts as a transport stream: sync bytes at 0 and, if there is one, at 188. */
function looksLikeTs(bytes: Uint8Array): boolean {
  return (
    bytes.length >= PACKET_SIZE &&
    bytes[0] === SYNC_BYTE &&
    (bytes.length < 2 * PACKET_SIZE || bytes[PACKET_SIZE] === SYNC_BYTE)
  );
}

export class ContinuityJoiner {
  /** Per PID, the counter of the last packet with a payload the decoder was given. */
  private readonly last = new Map<number, number>();

  /**
   * The segment as the decoder should read it: a copy with its counters continued, or the
   * segment itself when nothing changes (not a transport stream, or nothing to shift).
   */
  join(segment: Buffer): Buffer {
    if (!looksLikeTs(segment)) return segment;
    const shift = new Map<number, number>();
    const packet = emptyPacket();
    let out: Buffer | null = null;
    for (let at = 0; at + PACKET_SIZE <= segment.length; at += PACKET_SIZE) {
      // Out of sync: the rest is left as it is (the demuxer resyncs, the checks count it).
      if (segment[at] !== SYNC_BYTE) break;
      // The counter counts packets with a payload only (ISO/IEC 13818-1 2.4.3.3).
      if (!readPacket(segment, at, packet) || packet.pid === NULL_PID || !packet.hasPayload) continue;
      const { pid, continuityCounter: counter } = packet;
      let by = shift.get(pid);
      if (by === undefined) {
        const previous = this.last.get(pid);
        by = previous === undefined ? 0 : (previous + 1 - counter) & 0x0f;
        shift.set(pid, by);
      }
      const joined = (counter + by) & 0x0f;
      if (joined !== counter) {
        out ??= Buffer.from(segment);
        out[at + 3] = ((segment[at + 3] ?? 0) & 0xf0) | joined;
      }
      this.last.set(pid, joined);
    }
    return out ?? segment;
  }
}
