/**
 * Rewrites presentation timestamps of one kind of elementary stream inside an MPEG-TS file,
 * leaving every packet where it is: what a live encoder with a drifting audio clock sends.
 * ffmpeg's muxers always re-interleave by timestamp, so this fault cannot be made with them.
 */

const PACKET = 188;
const PTS_WRAP = 2 ** 33;

function readTimestamp(b: Uint8Array, i: number): number {
  return (
    ((b[i]! >> 1) & 0x07) * 2 ** 30 +
    ((b[i + 1]! << 7) | (b[i + 2]! >> 1)) * 2 ** 15 +
    ((b[i + 3]! << 7) | (b[i + 4]! >> 1))
  );
}

function writeTimestamp(b: Uint8Array, i: number, value: number): void {
  const v = ((value % PTS_WRAP) + PTS_WRAP) % PTS_WRAP;
  const high = Math.floor(v / 2 ** 30) & 0x07;
  const mid = Math.floor(v / 2 ** 15) & 0x7fff;
  const low = v & 0x7fff;
  b[i] = (b[i]! & 0xf0) | (high << 1) | 1;
  b[i + 1] = mid >> 7;
  b[i + 2] = ((mid & 0x7f) << 1) | 1;
  b[i + 3] = low >> 7;
  b[i + 4] = ((low & 0x7f) << 1) | 1;
}

/**
 * Shift the PTS (and DTS) of audio PES packets (stream ids 0xC0-0xDF) whose PTS is at or
 * after `fromSeconds` (relative to the first audio PTS) by `shiftSeconds`. Returns a copy.
 */
export function shiftAudioTimestamps(ts: Uint8Array, fromSeconds: number, shiftSeconds: number): Uint8Array {
  const out = Uint8Array.from(ts);
  let first: number | null = null;
  let shifted = 0;
  for (let p = 0; p + PACKET <= out.length; p += PACKET) {
    if (out[p] !== 0x47 || (out[p + 1]! & 0x40) === 0) continue; // not a sync byte / no PES start
    let i = p + 4;
    const adaptation = (out[p + 3]! >> 4) & 0x03;
    if (adaptation === 2) continue; // adaptation field only
    if (adaptation === 3) i += 1 + out[i]!;
    if (out[i] !== 0 || out[i + 1] !== 0 || out[i + 2] !== 1) continue;
    const streamId = out[i + 3]!;
    if (streamId < 0xc0 || streamId > 0xdf) continue;
    const flags = out[i + 7]! >> 6;
    if ((flags & 0x02) === 0) continue; // no PTS
    const pts = readTimestamp(out, i + 9);
    first ??= pts;
    if ((pts - first) / 90000 < fromSeconds) continue;
    const delta = Math.round(shiftSeconds * 90000);
    writeTimestamp(out, i + 9, pts + delta);
    if (flags === 0x03) writeTimestamp(out, i + 14, readTimestamp(out, i + 14) + delta);
    shifted++;
  }
  if (shifted === 0) throw new Error('no audio PES timestamps found to shift');
  return out;
}
