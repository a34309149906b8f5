/**
 * What decides a segment probe's answer, read from the segment's first bytes without ffprobe:
 * the programme's streams (PMT stream types) and the video's sequence parameter sets (H.264
 * SPS, HEVC VPS and SPS), which carry the codec's profile, the picture size and, in their VUI,
 * the frame rate. A later period of a rendition whose fingerprint equals that of its last
 * probed segment is the same media, so it is probed again only when the fingerprint differs or
 * cannot be read (not MPEG-TS, another video codec, no parameter set where the segment starts).
 * The same head (readSegmentHead) answers the probe itself where it can (probe-segment.ts).
 */
import { captionCodecOf, type VideoCodec } from '../transport/captions.js';
import { emptyPacket, PACKET_SIZE, readPacket, SYNC_BYTE } from '../transport/packet.js';
import { pesDataOffset, pesDts } from '../transport/pes.js';
import { PAT_PID, parsePat, parsePmt, SectionAssembler, TABLE_PAT, TABLE_PMT, type Pmt } from '../transport/psi.js';

/**
 * Bytes of a segment read for its fingerprint: PAT, PMT and the first video access unit's
 * parameter sets come first in a segment that starts with a key frame (RFC 8216 4.3.3.1's
 * EXT-X-INDEPENDENT-SEGMENTS; Apple's authoring spec asks every segment to start with one).
 */
export const FINGERPRINT_BYTES = 32 * 1024;

/** Elementary stream bytes of the first video PES read for its parameter sets (they precede its first slice). */
const MAX_ES_BYTES = 8 * 1024;

/**
 * Stream types that carry no picture (ISO/IEC 13818-1 table 2-34, ATSC A/52, SCTE 35): MPEG
 * audio, AAC (ADTS, LATM), AC-3, E-AC-3, ID3 timed metadata, SCTE-35 cues. Any other stream
 * without a known video codec is left to ffprobe.
 */
const NOT_VIDEO = new Set([0x03, 0x04, 0x0f, 0x11, 0x81, 0x87, 0x15, 0x86]);

/** NAL unit types of the sequence parameter sets, and whether a type is a slice (the parameter sets are before it). */
const NAL: Record<
  Exclude<VideoCodec, 'mpeg2'>,
  { type: (b: number) => number; sequence: number[]; slice: (t: number) => boolean }
> = {
  // ITU-T H.264 table 7-1: 7 SPS; 1-5 slices.
  h264: { type: (b) => b & 0x1f, sequence: [7], slice: (t) => t >= 1 && t <= 5 },
  // ITU-T H.265 table 7-1: 32 VPS, 33 SPS; 0-31 slice segments.
  hevc: { type: (b) => (b >> 1) & 0x3f, sequence: [32, 33], slice: (t) => t <= 31 },
};

/** What a segment's first bytes say of its media: the first programme's streams and its video's parameter sets. */
export interface SegmentHead {
  /** Programmes the PAT lists; the head is the first one's. */
  programs: number;
  pmt: Pmt;
  /** null: the programme has no video (audio and data only). */
  video: {
    codec: Exclude<VideoCodec, 'mpeg2'>;
    /** The sequence parameter set NAL units before the first slice, header first, as carried (escaped). */
    sets: Uint8Array[];
    /** DTS (PTS where there is none) of the first video PES packets, 90 kHz, as many as were asked for and found. */
    timestamps: number[];
  } | null;
}

/**
 * The head of a segment from its first `limit` bytes (whole packets), reading on past the first
 * video PES for the timestamps of up to `timestamps` video PES packets; null where it cannot be
 * read (not MPEG-TS, another video codec, no parameter set where the segment starts).
 */
export function readSegmentHead(
  bytes: Uint8Array,
  { limit = FINGERPRINT_BYTES, timestamps: wanted = 0 }: { limit?: number; timestamps?: number } = {},
): SegmentHead | null {
  const size = Math.min(bytes.length, limit);
  const end = size - (size % PACKET_SIZE);
  const tables: { programs: number; pmtPid: number | null; pmt: Pmt | null } = { programs: 0, pmtPid: null, pmt: null };
  const pat = new SectionAssembler((section) => {
    if (section[0] !== TABLE_PAT) return;
    const programs = parsePat(section);
    tables.programs = programs.length;
    tables.pmtPid = programs[0]?.pmtPid ?? null;
  });
  const pmts = new SectionAssembler((section) => {
    if (section[0] === TABLE_PMT) tables.pmt = parsePmt(section);
  });
  const packet = emptyPacket();
  let video: { pid: number; codec: Exclude<VideoCodec, 'mpeg2'> } | null = null;
  const es: number[] = [];
  let esComplete = false;
  const timestamps: number[] = [];
  for (let at = 0; at < end; at += PACKET_SIZE) {
    if (bytes[at] !== SYNC_BYTE || !readPacket(bytes, at, packet)) return null;
    if (!packet.hasPayload || packet.transportError) continue;
    const payload = bytes.subarray(at + packet.payloadOffset, at + PACKET_SIZE);
    if (packet.pid === PAT_PID) pat.push(payload, packet.payloadUnitStart);
    else if (packet.pid === tables.pmtPid && tables.pmt === null) {
      pmts.push(payload, packet.payloadUnitStart);
      const found = tables.pmt as Pmt | null;
      if (found === null) continue;
      const stream = found.streams.find((s) => captionCodecOf(s.streamType) !== null);
      const codec = stream ? captionCodecOf(stream.streamType) : null;
      // Audio and data only: their stream types are all a probe would tell (the codecs).
      if (stream === undefined)
        return found.streams.every((s) => NOT_VIDEO.has(s.streamType))
          ? { programs: tables.programs, pmt: found, video: null }
          : null;
      // MPEG-2 video: left to ffprobe.
      if (codec === 'mpeg2' || codec === null) return null;
      video = { pid: stream.pid, codec };
    } else if (video !== null && packet.pid === video.pid) {
      if (packet.payloadUnitStart) {
        if (es.length > 0) esComplete = true; // the first PES ended
        if (esComplete && timestamps.length >= wanted) break;
        const dts = pesDts(payload);
        if (dts !== null && timestamps.length < wanted) timestamps.push(dts);
        if (esComplete) continue;
        const offset = pesDataOffset(payload);
        if (offset === null) return null;
        for (const b of payload.subarray(offset)) es.push(b);
      } else if (es.length > 0 && !esComplete) {
        for (const b of payload) es.push(b);
      }
      if (es.length >= MAX_ES_BYTES) esComplete = true;
      if (esComplete && timestamps.length >= wanted) break;
    }
  }
  const found = tables.pmt;
  if (video === null || found === null) return null;
  const sets = parameterSets(Uint8Array.from(es), NAL[video.codec]);
  return sets === null
    ? null
    : { programs: tables.programs, pmt: found, video: { codec: video.codec, sets, timestamps } };
}

/** The fingerprint of a segment's media from its first bytes, or null when it cannot be read from them. */
export function mediaFingerprint(bytes: Uint8Array): string | null {
  const head = readSegmentHead(bytes);
  if (head === null) return null;
  const streams = head.pmt.streams.map((s) => `${s.streamType}:${s.pid}`).join(',');
  if (head.video === null) return streams;
  return `${streams}|${head.video.sets.map((set) => Buffer.from(set).toString('hex')).join('/')}`;
}

/** The sequence parameter sets before the first slice; null when there are none. */
function parameterSets(es: Uint8Array, nal: (typeof NAL)[keyof typeof NAL]): Uint8Array[] | null {
  const starts: number[] = [];
  for (let i = 0; i + 3 < es.length; i++) {
    if (es[i] === 0 && es[i + 1] === 0 && es[i + 2] === 1) {
      starts.push(i + 3);
      i += 2;
    }
  }
  const sets: Uint8Array[] = [];
  for (const [k, start] of starts.entries()) {
    const type = nal.type(es[start] ?? 0);
    if (nal.slice(type)) break;
    if (!nal.sequence.includes(type)) continue;
    // Up to the next start code; the zero bytes before it are the next unit's (or trailing).
    let stop = k + 1 < starts.length ? (starts[k + 1] ?? es.length) - 3 : es.length;
    while (stop > start && es[stop - 1] === 0) stop--;
    // A unit cut off by the bytes read would compare unequal to the same unit read whole.
    if (k + 1 >= starts.length) return null;
    sets.push(es.subarray(start, stop));
  }
  return sets.length > 0 ? sets : null;
}
