/**
 * What a fetched segment carries (codecs, picture size, frame rate), as ffprobe reports it. An
 * MPEG-TS segment of H.264 or HEVC video whose sequence parameter set carries VUI timing (and
 * of audio codecs its stream types name) is answered from its own bytes; any other is read by
 * ffprobe from the bytes already in memory through its stdin: no second download, no file on a
 * read-only root. ffprobe costs about 0.24 s of CPU per spawn with Debian's (200 shared
 * libraries loaded before it reads a byte): 1.5 s at the start of a six-rendition ladder.
 */
import { spawn } from 'node:child_process';
import { dyingWithParent } from '../ingest/children.js';
import { emptyPacket, PACKET_SIZE, readPacket, SYNC_BYTE } from '../transport/packet.js';
import { pesDataOffset } from '../transport/pes.js';
import { readSegmentHead } from './media-fingerprint.js';
import type { ProbedSegment } from './observations.js';
import { h264Picture, hevcPicture } from './sequence-parameters.js';

/** A segment probe is a few hundred ms of work; more means ffprobe is stuck on the input. */
const PROBE_DEADLINE_MS = 10_000;
const MAX_OUTPUT_BYTES = 1024 * 1024;

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
}

/**
 * The codec ffprobe names for a PMT stream type, where the type alone decides it (ffmpeg's
 * mpegts.c tables; ISO/IEC 13818-1 table 2-34, ATSC A/52 for AC-3 and E-AC-3); null for a data
 * stream (ID3 timed metadata, SCTE-35 cues), which a probe's codecs leave out. MPEG audio
 * (0x03, 0x04) is not here: ffmpeg names it by the layer in its frame headers (MPEG_AUDIO).
 */
const CODEC_OF_STREAM_TYPE = new Map<number, string | null>([
  [0x1b, 'h264'],
  [0x24, 'hevc'],
  [0x0f, 'aac'],
  [0x81, 'ac3'],
  [0x87, 'eac3'],
  [0x15, null],
  [0x86, null],
]);

/** MPEG-1/2 audio stream types, and the codec ffmpeg names by the frame header's layer bits (11172-3 2.4.2.3: 11 I, 10 II, 01 III). */
const MPEG_AUDIO = new Set([0x03, 0x04]);
const MPEG_AUDIO_CODEC_OF_LAYER: Partial<Record<number, string>> = { 1: 'mp3', 2: 'mp2', 3: 'mp1' };

/** Frame duration between the first two video PES packets against the VUI's: within this share (90 kHz rounding of 59.94 fps is 0.03%). */
const FRAME_DURATION_TOLERANCE = 0.002;
const PTS_HZ = 90_000;
const PTS_WRAP = 2 ** 33;

/** Probes one segment: from its own bytes where they tell all a probe would, else with ffprobe. */
export async function probeSegment(bytes: Buffer, ffprobePath = 'ffprobe'): Promise<ProbedSegment | null> {
  return probeFromParameterSets(bytes) ?? ffprobeSegment(bytes, ffprobePath);
}

/**
 * What ffprobe would report of an MPEG-TS segment, read from its PMT and its video's sequence
 * parameter set; null where these do not decide it: another container or codec, more than one
 * programme, no VUI timing, or a first frame duration (DTS to DTS) that is not the VUI's.
 * ffprobe 5.1 reports the VUI's rate as avg_frame_rate even where the timestamps disagree (its
 * r_frame_rate follows them); the JS answers only where both agree, so what ffprobe would make
 * of such a stream (one field per PES, HEVC VPS timing unlike the SPS's, another ffmpeg
 * version) stays ffprobe's to say.
 */
export function probeFromParameterSets(bytes: Uint8Array): ProbedSegment | null {
  const head = readSegmentHead(bytes, { limit: bytes.length, timestamps: 2 });
  // Under a Blu-ray ('HDMV') registration some stream types name other codecs (0x86 is DTS).
  if (head?.programs !== 1 || head.pmt.registrations.includes('HDMV')) return null;
  const codecs: string[] = [];
  for (const { streamType, pid } of head.pmt.streams) {
    const codec = MPEG_AUDIO.has(streamType) ? mpegAudioCodec(bytes, pid) : CODEC_OF_STREAM_TYPE.get(streamType);
    if (codec === undefined) return null;
    if (codec !== null) codecs.push(codec);
  }
  const { video } = head;
  if (video === null) return { width: null, height: null, frameRate: null, codecs };
  const read = video.codec === 'h264' ? h264Picture : hevcPicture;
  const pictures = video.sets.map(read).filter((p) => p !== null);
  const picture = pictures[0];
  // Several SPS (other ids) could disagree: the slices decide which one counts.
  if (picture === undefined || pictures.length !== 1 || picture.frameRate === null) return null;
  const [first, second] = video.timestamps;
  if (first === undefined || second === undefined) return null;
  const frameSeconds = ((second - first + PTS_WRAP) % PTS_WRAP) / PTS_HZ;
  if (Math.abs(frameSeconds * picture.frameRate - 1) > FRAME_DURATION_TOLERANCE) return null;
  return { width: picture.width, height: picture.height, frameRate: picture.frameRate, codecs };
}

/**
 * The codec of an MPEG audio PID by the layer of the frame header its first PES starts with;
 * undefined where none does (a PES may start mid-frame; ffmpeg's muxer never does that).
 */
function mpegAudioCodec(bytes: Uint8Array, pid: number): string | undefined {
  const packet = emptyPacket();
  for (let at = 0; at + PACKET_SIZE <= bytes.length; at += PACKET_SIZE) {
    if (bytes[at] !== SYNC_BYTE || !readPacket(bytes, at, packet)) return undefined;
    if (packet.pid !== pid || !packet.payloadUnitStart || !packet.hasPayload || packet.transportError) continue;
    const payload = bytes.subarray(at + packet.payloadOffset, at + PACKET_SIZE);
    const offset = pesDataOffset(payload);
    const [b0 = 0, b1 = 0, b2 = 0xff] = offset === null ? [] : payload.subarray(offset, offset + 3);
    // Sync word, a layer, a bit rate index and a sampling frequency that are not reserved.
    const header = b0 === 0xff && (b1 & 0xe0) === 0xe0 && (b2 & 0xf0) !== 0xf0 && (b2 & 0x0c) !== 0x0c;
    return header ? MPEG_AUDIO_CODEC_OF_LAYER[(b1 >> 1) & 0x03] : undefined;
  }
  return undefined;
}

/** Probes one segment with ffprobe; null when ffprobe cannot read it (the fetch checks report what failed). */
export function ffprobeSegment(bytes: Buffer, ffprobePath = 'ffprobe'): Promise<ProbedSegment | null> {
  const args = ['-hide_banner', '-v', 'error', '-protocol_whitelist', 'pipe', '-print_format', 'json'];
  const run = dyingWithParent(ffprobePath, [...args, '-show_streams', '-i', 'pipe:0']);
  return new Promise((resolve) => {
    const child = spawn(run.command, run.args, { stdio: ['pipe', 'pipe', 'ignore'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_DEADLINE_MS);
    const out: Buffer[] = [];
    let size = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_OUTPUT_BYTES) out.push(chunk);
    });
    // ffprobe may stop reading once it knows enough: a closed stdin is not an error here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(bytes);
    child.on('error', () => resolve(null));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0 && size <= MAX_OUTPUT_BYTES ? probedOf(Buffer.concat(out).toString('utf8')) : null);
    });
  });
}

function probedOf(json: string): ProbedSegment | null {
  let streams: ProbeStream[];
  try {
    const data = JSON.parse(json) as { streams?: ProbeStream[] } | null;
    streams = Array.isArray(data?.streams) ? data.streams : [];
  } catch {
    return null;
  }
  const video = streams.find((s) => s.codec_type === 'video');
  return {
    width: video?.width ?? null,
    height: video?.height ?? null,
    frameRate: rateOf(video?.avg_frame_rate) ?? rateOf(video?.r_frame_rate),
    codecs: streams
      .filter((s) => s.codec_type === 'video' || s.codec_type === 'audio')
      .map((s) => s.codec_name ?? 'unknown'),
  };
}

function rateOf(r: string | undefined): number | null {
  const [n = NaN, d = NaN] = (r ?? '').split('/').map(Number);
  return Number.isFinite(n) && Number.isFinite(d) && n > 0 && d > 0 ? n / d : null;
}
