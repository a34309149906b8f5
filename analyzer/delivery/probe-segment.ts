/**
 * What a fetched segment carries (codecs, picture size, frame rate), read by ffprobe from the
 * bytes already in memory through its stdin: no second download, no file on a read-only root.
 */
import { spawn } from 'node:child_process';
import { dyingWithParent } from '../ingest/children.js';
import type { ProbedSegment } from './observations.js';

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

/** Probes one segment; null when ffprobe cannot read it (the fetch checks report what failed). */
export function probeSegment(bytes: Buffer, ffprobePath = 'ffprobe'): Promise<ProbedSegment | null> {
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
