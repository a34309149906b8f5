/**
 * Probe a source with ffprobe (through fluent-ffmpeg) for its streams, so the decode
 * command maps only what exists and the status can report the stream facts.
 */
import ffmpeg from 'fluent-ffmpeg';
import { networkInputOptions, redact, type SourceRef } from './source-url.js';

export interface ProbedVideo {
  index: number;
  codec: string;
  width: number;
  height: number;
  frameRate: number | null;
  pixelFormat: string | null;
}

export interface ProbedAudio {
  index: number;
  codec: string;
  sampleRate: number;
  channels: number;
  channelLayout: string | null;
}

export interface ProbeResult {
  formatName: string;
  /** Seconds; null for live or unknown. */
  duration: number | null;
  bitRate: number | null;
  video: ProbedVideo | null;
  audio: ProbedAudio | null;
}

export class ProbeError extends Error {}

/**
 * Evidence that an HTTP source is live: a playlist that has no end. ffmpeg's HLS demuxer gives
 * a duration only to a playlist with EXT-X-ENDLIST, its DASH demuxer only to a static MPD. A
 * progressive file without a duration (a server without Range or Content-Length) is finite:
 * it is analysed once, to its end (`live: true` in the config makes such a stream live).
 */
export function isLivePlaylist(probe: ProbeResult): boolean {
  const formats = probe.formatName.split(',');
  return probe.duration === null && (formats.includes('hls') || formats.includes('dash'));
}

const TEXT_ART_CODECS = new Set(['ansi', 'bintext', 'xbin', 'idf', 'tty']);

function rate(r: string | undefined): number | null {
  if (!r) return null;
  const [n, d] = r.split('/').map(Number);
  if (!Number.isFinite(n) || !Number.isFinite(d) || d === 0 || n === 0) return null;
  return n / d;
}

function positive(v: unknown): number | null {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(n) && n > 0 ? n : null;
}

export function probeSource(source: SourceRef, timeoutSeconds: number): Promise<ProbeResult> {
  const options = [
    ...networkInputOptions(source, timeoutSeconds),
    '-analyzeduration', '3000000',
    '-probesize', '5000000',
  ];
  return new Promise((resolve, reject) => {
    ffmpeg.ffprobe(source.input, options, (err, data) => {
      if (err) {
        const text = String((err as Error).message ?? err);
        const last = text.split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? text;
        reject(new ProbeError(`cannot open ${source.display}: ${redact(last, source)}`));
        return;
      }
      const v = data.streams.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
      const a = data.streams.find((s) => s.codec_type === 'audio');
      const video: ProbedVideo | null =
        v && v.width && v.height
          ? {
              index: v.index,
              codec: v.codec_name ?? 'unknown',
              width: v.width,
              height: v.height,
              frameRate: rate(v.avg_frame_rate) ?? rate(v.r_frame_rate),
              pixelFormat: v.pix_fmt ?? null,
            }
          : null;
      const audio: ProbedAudio | null =
        a && positive(a.sample_rate) && a.channels
          ? {
              index: a.index,
              codec: a.codec_name ?? 'unknown',
              sampleRate: positive(a.sample_rate) as number,
              channels: a.channels,
              channelLayout: a.channel_layout ?? null,
            }
          : null;
      // ffmpeg renders text files as pictures (tty, bin, xbin, idf demuxers): not a stream.
      if (video && TEXT_ART_CODECS.has(video.codec)) {
        reject(new ProbeError(`cannot analyze ${source.display}: it is not audio or video (ffmpeg reads it only as text art, format ${data.format.format_name ?? 'unknown'})`));
        return;
      }
      if (!video && !audio) {
        reject(new ProbeError(`cannot analyze ${source.display}: it has no decodable video or audio stream`));
        return;
      }
      resolve({
        formatName: data.format.format_name ?? 'unknown',
        duration: positive(data.format.duration),
        bitRate: positive(data.format.bit_rate),
        video,
        audio,
      });
    });
  });
}
