/**
 * The two ISO BMFF (ISO/IEC 14496-12) facts the loopback origins need to loop fragmented MP4
 * media in real time: a track's timescale and a fragment's decode time.
 */

/** The segment with its tfdt (8.8.12) moved later by `units`: the loop's media time runs on. One track per fragment. */
export function withDecodeTimeShift(segment: Buffer, units: number): Buffer {
  const body = Buffer.from(segment);
  const at = body.indexOf('tfdt');
  if (at < 4 || units === 0) return body;
  if (body[at + 4] === 1) body.writeBigUInt64BE(body.readBigUInt64BE(at + 8) + BigInt(units), at + 8);
  else body.writeUInt32BE(body.readUInt32BE(at + 8) + units, at + 8);
  return body;
}

/** The timescale of the first track's media header (mdhd, 8.4.2) in an initialization segment. */
export function mediaTimescale(init: Buffer): number {
  const at = init.indexOf('mdhd');
  if (at < 4) throw new Error('no mdhd box in the initialization segment');
  // After the type: version and flags (4 bytes), then creation and modification times (4 or 8 bytes each).
  return init.readUInt32BE(at + (init[at + 4] === 1 ? 24 : 16));
}
