/**
 * Probe a source with ffprobe for its streams, so the decode command maps only what exists
 * and the status can report the stream facts. ffprobe is run directly (fluent-ffmpeg's wrapper
 * reports a failure as ffprobe's version banner and cannot be stopped): quiet but for errors,
 * JSON out, so a failure is ffprobe's own error line.
 */
import { spawn } from 'node:child_process';
import type { FfprobeData } from 'fluent-ffmpeg';
import { networkInputOptions, redact, type SourceRef } from './source-url.js';
import { dyingWithParent } from './children.js';
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

/** The probe was stopped (Analyzer.stop()): not a verdict on the source. */
export class ProbeAborted extends Error {}

/** Media the probe reads before it answers (-analyzeduration), seconds. */
const PROBE_MEDIA_SECONDS = 3;

/**
 * How long one probe may take in all: one I/O timeout to open the source, the media it reads,
 * one more I/O timeout of slack (13 s with the default ingest.ioTimeout of 5 s). Each read has
 * its own I/O timeout, but a server that answers every request at once can keep ffprobe busy
 * forever (an HLS master playlist that lists itself), so the whole probe needs a bound.
 */
export function probeDeadlineSeconds(ioTimeoutSeconds: number): number {
  return 2 * ioTimeoutSeconds + PROBE_MEDIA_SECONDS;
}

/** Why a probe that ran out of time failed (the message of every source that never answers). */
export function probeDeadlineReason(ioTimeoutSeconds: number): string {
  const deadline = probeDeadlineSeconds(ioTimeoutSeconds);
  return `no answer within ${deadline} s (the probe's deadline, 2 x ingest.ioTimeout + ${PROBE_MEDIA_SECONDS} s)`;
}

export interface ProbeOptions {
  /** Seconds without data before ffprobe gives up on one read. */
  ioTimeoutSeconds: number;
  /** Kills ffprobe: the probe rejects with ProbeAborted. */
  signal?: AbortSignal;
  ffprobePath?: string;
  /** The media itself, for a `pipe` source: written to ffprobe's stdin. */
  input?: Buffer;
}

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
  const [n = NaN, d = NaN] = r.split('/').map(Number);
  if (!Number.isFinite(n) || !Number.isFinite(d) || d === 0 || n === 0) return null;
  return n / d;
}

function positive(v: unknown): number | null {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(n) && n > 0 ? n : null;
}

/** ffprobe's JSON for a file with many streams is a few hundred KB; more is not a probe. */
const MAX_PROBE_OUTPUT_BYTES = 16 * 1024 * 1024;
/** Error text kept from ffprobe's stderr: its last lines are the reason. */
const MAX_ERROR_TEXT = 8192;

export function probeSource(source: SourceRef, options: ProbeOptions): Promise<ProbeResult> {
  const args = [
    '-hide_banner',
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    ...networkInputOptions(source, options.ioTimeoutSeconds),
    '-analyzeduration',
    String(PROBE_MEDIA_SECONDS * 1e6),
    '-probesize',
    '5000000',
    source.input,
  ];
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(new ProbeAborted('probe stopped'));
    const run = dyingWithParent(options.ffprobePath ?? 'ffprobe', args);
    const child = spawn(run.command, run.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    // A `pipe` source's media (ffprobe stops reading once it knows enough: a closed stdin is
    // not an error); for any other source stdin is closed at once.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
    const deadline = probeDeadlineSeconds(options.ioTimeoutSeconds);
    let ended: 'deadline' | 'aborted' | null = null;
    const end = (why: 'deadline' | 'aborted'): void => {
      ended ??= why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => end('deadline'), deadline * 1000);
    const onAbort = (): void => end('aborted');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const out: Buffer[] = [];
    let outBytes = 0;
    let errText = '';
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes <= MAX_PROBE_OUTPUT_BYTES) out.push(chunk);
      else child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      errText = (errText + chunk).slice(-MAX_ERROR_TEXT);
    });
    const fail = (why: string): void => reject(new ProbeError(`cannot open ${source.display}: ${redact(why, source)}`));
    child.on('error', (err) => fail(`cannot run ffprobe: ${err.message}`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (ended === 'aborted') return reject(new ProbeAborted('probe stopped'));
      if (ended === 'deadline') {
        return fail(`${probeDeadlineReason(options.ioTimeoutSeconds)}${errorLine(errText, '; last: ')}`);
      }
      if (outBytes > MAX_PROBE_OUTPUT_BYTES) return fail(`ffprobe printed more than ${MAX_PROBE_OUTPUT_BYTES} bytes`);
      if (signal !== null) return fail(`ffprobe was killed by ${signal}${errorLine(errText, ' after: ')}`);
      if (code !== 0) return fail(errorLine(errText) || `ffprobe exited with code ${code} without saying why`);
      const data = parseProbeOutput(Buffer.concat(out).toString('utf8'));
      if (data === null) return fail('ffprobe printed no readable result');
      try {
        resolve(probeResultOf(source, data));
      } catch (err) {
        reject(err instanceof Error ? err : new ProbeError(String(err)));
      }
    });
  });
}

/**
 * ffprobe's last error lines, joined: the cause (`Protocol 'concat' not on whitelist`,
 * `HTTP error 404 Not Found`) usually comes a line before its summary (`INPUT: Invalid
 * argument`). Context addresses (`[http @ 0x55..]`) are dropped; `prefix` leads when there is any.
 */
function errorLine(stderr: string, prefix = ''): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^\[([^\]@]+?) @ 0x[0-9a-f]+\]/, '[$1]').trim())
    .filter(Boolean);
  const last = [...new Set(lines.slice(-3))].join('; ');
  return last === '' ? '' : `${prefix}${last.slice(0, 600)}`;
}

function parseProbeOutput(text: string): FfprobeData | null {
  try {
    const data = JSON.parse(text) as Partial<FfprobeData> | null;
    if (!data || typeof data !== 'object') return null;
    return { streams: Array.isArray(data.streams) ? data.streams : [], format: data.format ?? {}, chapters: [] };
  } catch {
    return null;
  }
}

function probeResultOf(source: SourceRef, data: FfprobeData): ProbeResult {
  const v = data.streams.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  const a = data.streams.find((s) => s.codec_type === 'audio');
  const video: ProbedVideo | null =
    v?.width && v.height
      ? {
          index: v.index,
          codec: v.codec_name ?? 'unknown',
          width: v.width,
          height: v.height,
          frameRate: rate(v.avg_frame_rate) ?? rate(v.r_frame_rate),
          pixelFormat: v.pix_fmt ?? null,
        }
      : null;
  const sampleRate = a ? positive(a.sample_rate) : null;
  const audio: ProbedAudio | null =
    a && sampleRate && a.channels
      ? {
          index: a.index,
          codec: a.codec_name ?? 'unknown',
          sampleRate,
          channels: a.channels,
          channelLayout: a.channel_layout ?? null,
        }
      : null;
  // ffmpeg renders text files as pictures (tty, bin, xbin, idf demuxers): not a stream.
  if (video && TEXT_ART_CODECS.has(video.codec)) {
    throw new ProbeError(
      `cannot analyze ${source.display}: it is not audio or video (ffmpeg reads it only as text art, format ${data.format.format_name ?? 'unknown'})`,
    );
  }
  if (!video && !audio) {
    throw new ProbeError(`cannot analyze ${source.display}: it has no decodable video or audio stream`);
  }
  return {
    formatName: data.format.format_name ?? 'unknown',
    duration: positive(data.format.duration),
    bitRate: positive(data.format.bit_rate),
    video,
    audio,
  };
}
