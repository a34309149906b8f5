/**
 * Runs streamqc on one corpus clip as a user would (the built CLI, `--format jsonl`) and
 * turns what it prints into DefectEvents on the clip's timeline.
 *
 * File clips: `streamqc analyze PATH`; the analyzer's t = 0 is its first decoded frame,
 * which is the clip's first frame, so its times are the clip's times.
 *
 * Live clips: the analyzer listens on udp://127.0.0.1:PORT; the clip is sent in real time
 * by `ffmpeg -re -c copy` in segments, the sender stopped during each outage and restarted
 * with `-ss` after it; the analyzer is stopped by SIGTERM a couple of seconds after the last
 * packet.
 * - Warm-up: a UDP listener only decodes once its probe (ffprobe, ~3 s of data) has seen the
 *   stream, so a clip sent to a fresh analyzer would lose its first ~4 s. As a real live
 *   source is already running when monitoring starts, the clip's first WARMUP_SECONDS are
 *   sent first, until /readyz says media flows; then the clip is sent from 0. Events that
 *   start during the warm-up are not the clip's and are dropped.
 * - Alignment: every event carries `wallclock`, the wall time at which the analyzer saw its
 *   start. The senders send to a loopback relay that forwards every datagram to the analyzer
 *   and notes when the first one of each segment arrived: that is when the segment's first
 *   frame reached the analyzer's socket, however long its sender took to start (0.1 s on an
 *   idle machine, over 0.5 s on a busy one). A sender started with `-ss s` and stream copy
 *   sends audio from s and video from the first keyframe at or after s (ffmpeg 5.1 drops the
 *   packets before s and the non-key frames that follow), paced in real time from its earliest
 *   packet: segment k's clip time k0 is s with audio, that keyframe without. So a wall time w
 *   in segment k is clip time (w - first_k) + k0, and an event's end
 *   is its start plus its duration on the analyzer's timeline (which runs at wall pace live).
 *   A time falls in the last segment begun before it, so a stall's start (the last media
 *   before an outage) maps through the segment before and its end through the one after.
 *   What this does not remove is the analyzer's own decode pipeline, which makes live onsets
 *   a little late (~0.2 s measured), as a live user sees them.
 * - The end: once the last packet is sent the stream is over; an event that starts within
 *   END_MARGIN_SECONDS of the clip's end or later (a stall, as media stopped) is the end of
 *   sending, not the clip's, and is dropped.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { DEFECT_TYPES } from '../../../analyzer/detectors/types.js';
import { DELIVERY_DEFECT_TYPES } from '../../../analyzer/delivery/detectors/index.js';
import { fetchText, freeTcpPort, freeUdpPort, sleep } from '../bench-util.js';
import { runCommand } from '../../media/fixtures.js';
import { startMeasured, type ProcessResult } from './measured-process.js';
import type { CorpusClip, DefectEvent, DefectType, ToolRun } from './types.js';
import { CLI_ARGV } from '../../analyzer/run-cli.js';

/** The transport stream's defects: this corpus does not exercise them (test/unit/transport-*.test.ts does). */
const TRANSPORT_TYPES: readonly string[] = [
  'tr101290_priority1',
  'tr101290_priority2',
  'captions_missing',
  'cues_missing',
  'break_not_returned',
];

/**
 * Every type of DESIGN.md's table: streamqc detects them all (the transport and HLS delivery types are not
 * the corpus's).
 */
export const STREAMQC_TYPES: readonly DefectType[] = DEFECT_TYPES.filter(
  (t): t is DefectType => !TRANSPORT_TYPES.includes(t) && !DELIVERY_DEFECT_TYPES.includes(t),
);

/** Wait after the last packet before SIGTERM: lets the analyzer drain what it received. */
const DRAIN_SECONDS = 2;

/**
 * Events starting this close to the clip's end or later belong to the end of sending: a UDP
 * demuxer never releases the last ~0.5 s it holds, so media seems to stop before the end.
 */
const END_MARGIN_SECONDS = 1;

/** Seconds of the clip sent before the clip itself (see the header), at most. */
export const WARMUP_SECONDS = 8;

function isDefectType(value: unknown): value is DefectType {
  return typeof value === 'string' && (STREAMQC_TYPES as readonly string[]).includes(value);
}

/** One line of the analyzer's JSONL stdout as an event of the table, or null. */
function parseJsonlLine(line: string): (DefectEvent & { wallclock: string }) | null {
  if (!line.trim().startsWith('{')) return null;
  const parsed = JSON.parse(line) as { type?: unknown; start?: unknown; end?: unknown; wallclock?: unknown };
  if (!isDefectType(parsed.type) || typeof parsed.start !== 'number' || typeof parsed.end !== 'number') return null;
  return { type: parsed.type, start: parsed.start, end: parsed.end, wallclock: String(parsed.wallclock) };
}

/** The events of the analyzer's JSONL stdout (other lines, if any, are not events). */
export function parseJsonlEvents(stdout: string): DefectEvent[] {
  return stdout
    .split('\n')
    .map(parseJsonlLine)
    .filter((e): e is DefectEvent & { wallclock: string } => e !== null)
    .map(({ type, start, end }) => ({ type, start, end }));
}

function analyzerArgs(input: string): string[] {
  return [...CLI_ARGV, 'analyze', input, '--format', 'jsonl'];
}

const ANALYZER_ENV = { ...process.env, STREAMQC_LOG_LEVEL: 'warn' };

function failed(clip: CorpusClip, r: ProcessResult): Error {
  return new Error(`streamqc on ${clip.name} exited with ${r.code ?? r.signal}: ${r.stderr.slice(-2000)}`);
}

export async function runStreamqc(clip: CorpusClip, log: (line: string) => void = () => undefined): Promise<ToolRun> {
  return clip.mode === 'live' ? runLive(clip, log) : runFile(clip);
}

async function runFile(clip: CorpusClip): Promise<ToolRun> {
  const r = await startMeasured(process.execPath, analyzerArgs(clip.path), {
    env: ANALYZER_ENV,
    timeoutMs: Math.max(120_000, clip.duration * 10_000),
  }).done;
  if (r.code !== 0) throw failed(clip, r);
  return {
    tool: 'streamqc',
    clip: clip.name,
    events: parseJsonlEvents(r.stdout),
    wallSeconds: r.wallSeconds,
    cpuSeconds: r.cpuSeconds,
  };
}

/** Times of the clip's video keyframes, seconds from its first video frame. */
export async function keyframeTimes(path: string): Promise<number[]> {
  const stdout = (
    await runCommand(
      'ffprobe',
      [
        '-v',
        'error',
        '-select_streams',
        'v:0',
        '-skip_frame',
        'nokey',
        '-show_entries',
        'frame=pts_time',
        '-of',
        'csv=p=0',
        path,
      ],
      { what: `reading the keyframes of ${path}` },
    )
  ).stdout.toString();
  const times = stdout.split('\n').map(Number.parseFloat).filter(Number.isFinite);
  const first = times[0] ?? 0;
  return times.map((t) => t - first);
}

/** Whether the media file has an audio stream. */
async function hasAudio(path: string): Promise<boolean> {
  const args = ['-v', 'error', '-select_streams', 'a', '-show_entries', 'stream=index', '-of', 'csv=p=0', path];
  const { stdout } = await runCommand('ffprobe', args, { what: `reading the streams of ${path}` });
  return stdout.toString().trim() !== '';
}

/**
 * The clip time of the first packet a `-ss from -c copy` sender sends: `from` with audio (its
 * frames are all key), else the first video keyframe at or after `from` (0 sends from the start).
 */
export function firstSent(from: number, keyframes: readonly number[], audio: boolean): number {
  if (from <= 0 || audio) return Math.max(0, from);
  return keyframes.find((k) => k >= from - 1e-3) ?? from;
}

/** Whether something has bound UDP port `port` (the analyzer's ffmpeg listening). */
function udpPortBound(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    try {
      // Column 2 is local_address:port in hex.
      if (
        readFileSync(table, 'utf8')
          .split('\n')
          .some((row) => row.trim().split(/\s+/)[1]?.endsWith(hex.trim()))
      )
        return true;
    } catch {
      // no IPv6 table on this machine
    }
  }
  return false;
}

/** The stretches of the clip that are sent: everything but the outages. */
export function sendSegments(clip: Pick<CorpusClip, 'duration' | 'outages'>): { start: number; end: number }[] {
  const outages = [...clip.outages].sort((a, b) => a.start - b.start);
  const segments: { start: number; end: number }[] = [];
  let from = 0;
  for (const o of outages) {
    if (o.start > from) segments.push({ start: from, end: o.start });
    from = Math.max(from, o.end);
  }
  if (from < clip.duration) segments.push({ start: from, end: clip.duration });
  return segments;
}

/** A segment as sent: from wall time `startedAt` (ms) on, clip time = (w - startedAt) / 1000 + clipStart. */
export interface SentSegment {
  startedAt: number;
  clipStart: number;
}

/** Wall time (ms) -> clip time by the last segment begun before it; null before the first. */
export function toClipTime(wallMs: number, segments: readonly SentSegment[]): number | null {
  let current: SentSegment | null = null;
  for (const s of segments) if (wallMs >= s.startedAt) current = s;
  return current === null ? null : (wallMs - current.startedAt) / 1000 + current.clipStart;
}

/**
 * A loopback UDP relay to `port`: forwards every datagram and, once `expect()` was called,
 * returns from `firstArrival()` the wall time (ms) of the first datagram after that call.
 */
async function udpRelay(port: number): Promise<{
  port: number;
  expect: () => void;
  firstArrival: () => number | null;
  close: () => void;
}> {
  const socket = createSocket('udp4');
  let expecting = false;
  let first: number | null = null;
  socket.on('message', (msg) => {
    if (expecting && first === null) first = Date.now();
    socket.send(msg, port, '127.0.0.1');
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  return {
    port: socket.address().port,
    expect: () => {
      expecting = true;
      first = null;
    },
    firstArrival: () => first,
    close: () => socket.close(),
  };
}

function senderArgs(clip: CorpusClip, url: string, from: number, seconds: number): string[] {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re'];
  if (from > 0) args.push('-ss', from.toFixed(3));
  args.push('-i', clip.path, '-t', seconds.toFixed(3), '-c', 'copy', '-f', 'mpegts', '-flush_packets', '1', url);
  return args;
}

async function send(clip: CorpusClip, args: string[]): Promise<void> {
  await runCommand('ffmpeg', args, { timeoutMs: 600_000, what: `sender of ${clip.name}` });
}

async function ready(httpPort: number): Promise<boolean> {
  return fetchText(`http://127.0.0.1:${httpPort}/readyz`).then(
    () => true,
    () => false,
  );
}

async function runLive(clip: CorpusClip, log: (line: string) => void): Promise<ToolRun> {
  const port = await freeUdpPort();
  const httpPort = await freeTcpPort();
  const url = `udp://127.0.0.1:${port}?pkt_size=1316`;
  const keyframes = await keyframeTimes(clip.path);
  const audio = await hasAudio(clip.path);
  const analyzer = startMeasured(process.execPath, [...analyzerArgs(url), '--metrics-port', String(httpPort)], {
    env: ANALYZER_ENV,
  });
  const relay = await udpRelay(port);
  const relayUrl = `udp://127.0.0.1:${relay.port}?pkt_size=1316`;
  const sent: SentSegment[] = [];
  try {
    const listenBy = Date.now() + 20_000;
    while (!udpPortBound(port)) {
      if (Date.now() > listenBy || analyzer.child.exitCode !== null)
        throw new Error(`streamqc did not listen on ${url}`);
      await sleep(50);
    }
    const warmup = send(clip, senderArgs(clip, relayUrl, 0, Math.min(WARMUP_SECONDS, clip.duration)));
    let flowing = false;
    // Set when the warm-up send ends: declared boolean, as TypeScript cannot see a callback assign it.
    let warmedUp = false as boolean;
    void warmup.finally(() => {
      warmedUp = true;
    });
    while (!warmedUp && !flowing) {
      await sleep(200);
      flowing = await ready(httpPort);
    }
    await warmup;
    if (!flowing && !(await ready(httpPort))) throw new Error(`streamqc saw no media from ${url} during the warm-up`);
    const segments = sendSegments(clip);
    for (const [i, segment] of segments.entries()) {
      const spawnedAt = Date.now();
      relay.expect();
      await send(clip, senderArgs(clip, relayUrl, segment.start, segment.end - segment.start));
      const startedAt = relay.firstArrival();
      if (startedAt === null) throw new Error(`the sender of ${clip.name} sent nothing from ${segment.start} s`);
      sent.push({ startedAt, clipStart: firstSent(segment.start, keyframes, audio) });
      log(
        `  ${clip.name}: segment from ${segment.start} s reached the analyzer ${startedAt - spawnedAt} ms after its sender started`,
      );
      const next = segments[i + 1];
      // The outage lasts from this segment's end to the next one's start, on the wall clock.
      if (next !== undefined) {
        log(`  ${clip.name}: outage ${segment.end}..${next.start} s`);
        await sleep((next.start - segment.end) * 1000);
      }
    }
    await sleep(DRAIN_SECONDS * 1000);
  } finally {
    relay.close();
    analyzer.child.kill('SIGTERM');
  }
  const killer = setTimeout(() => analyzer.child.kill('SIGKILL'), 20_000);
  const r = await analyzer.done;
  clearTimeout(killer);
  if (r.code !== 0) throw failed(clip, r);
  const events: DefectEvent[] = [];
  for (const line of r.stdout.split('\n')) {
    const e = parseJsonlLine(line);
    if (e === null) continue;
    const wall = Date.parse(e.wallclock);
    const start = toClipTime(wall, sent);
    const end = toClipTime(wall + (e.end - e.start) * 1000, sent);
    // Started during the warm-up, or once the clip was over (the sender's end looks like a
    // stall to a live analyzer, and one that opens during its own shutdown is printed too):
    // not the clip's.
    if (start === null || end === null || start >= clip.duration - END_MARGIN_SECONDS) continue;
    // The two ends may map through different segments; an event never ends before it starts.
    events.push({ type: e.type, start, end: Math.max(start, end) });
  }
  return { tool: 'streamqc', clip: clip.name, events, wallSeconds: r.wallSeconds, cpuSeconds: r.cpuSeconds };
}
