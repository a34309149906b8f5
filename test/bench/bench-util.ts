/**
 * Helpers for the benchmarks: cached media made by ffmpeg's generators, /usr/bin/time around a
 * command, and a /proc sampler of a process tree (RSS and CPU ticks of every descendant).
 * Linux only: the figures come from /proc and GNU time.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFfmpeg } from '../media/fixtures.js';

export const CACHE_DIR = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'streamqc', 'bench');

/** Bump when the way a clip is made changes outside its ffmpeg arguments. */
const RECIPE_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// small numeric helpers

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// running commands

/** Bounded tail of a stream: enough for an error message without holding a whole log. */
export class Tail {
  private text = '';
  constructor(private readonly max = 4000) {}
  push(chunk: Buffer): void {
    this.text = (this.text + chunk.toString('utf8')).slice(-this.max);
  }
  toString(): string {
    return this.text;
  }
}

/**
 * A clip made by `ffmpeg ...args -y OUT`, cached under CACHE_DIR by a hash of the recipe, so a
 * second run (and every other machine with the same ffmpeg arguments) reuses it. Written to a
 * temporary name first: an interrupted run never leaves a truncated clip that looks cached.
 */
export async function cachedClip(
  name: string,
  args: readonly string[],
  ext = 'mp4',
): Promise<{ path: string; fresh: boolean }> {
  const key = createHash('sha256')
    .update(JSON.stringify({ v: RECIPE_VERSION, args }))
    .digest('hex')
    .slice(0, 12);
  mkdirSync(CACHE_DIR, { recursive: true });
  const path = join(CACHE_DIR, `${name}-${key}.${ext}`);
  if (existsSync(path)) return { path, fresh: false };
  const tmp = join(CACHE_DIR, `.${name}-${key}.${process.pid}.tmp.${ext}`);
  try {
    await runFfmpeg(['-hide_banner', '-nostdin', '-loglevel', 'error', ...args, '-y', tmp], {
      timeoutMs: 30 * 60_000,
      what: `making ${name}`,
    });
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
  return { path, fresh: true };
}

export interface MediaFacts {
  duration: number;
  bitRate: number;
  width: number;
  height: number;
}

export function probeClip(path: string): MediaFacts {
  const out = execFileSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'format=duration,bit_rate:stream=width,height',
      '-of',
      'json',
      path,
    ],
    { encoding: 'utf8' },
  );
  const j = JSON.parse(out) as {
    format: { duration: string; bit_rate: string };
    streams: { width: number; height: number }[];
  };
  const [video] = j.streams;
  if (!video) throw new Error(`${path} has no video stream`);
  return {
    duration: Number(j.format.duration),
    bitRate: Number(j.format.bit_rate),
    width: video.width,
    height: video.height,
  };
}

// ---------------------------------------------------------------------------------------------
// /proc sampling

/** Kernel clock ticks per second, the unit of utime/stime in /proc/<pid>/stat. */
export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

export interface ProcInfo {
  pid: number;
  comm: string;
  /** utime + stime of the process's own threads (not its children), in seconds. */
  cpu: number;
  rssKiB: number;
}

/** One process's CPU and RSS, or null when it has gone (a race with its exit is normal). */
export function readProc(pid: number): ProcInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: the fields start after the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const f = stat.slice(close + 2).split(' ');
    // f[0] is field 3 (state); utime and stime are fields 14 and 15.
    const cpu = (Number(f[11]) + Number(f[12])) / CLK_TCK;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return { pid, comm, cpu, rssKiB: m ? Number(m[1]) : 0 };
  } catch {
    return null;
  }
}

export function readCmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((s) => s.length > 0);
  } catch {
    return [];
  }
}

/** Direct children of a process: children may be forked by any of its threads. */
function childrenOf(pid: number): number[] {
  const kids: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return kids;
  }
  for (const tid of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) {
        if (c) kids.push(Number(c));
      }
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return kids;
}

export function descendants(root: number): number[] {
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    for (const c of childrenOf(pid)) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

export interface SeenProcess {
  pid: number;
  comm: string;
  cmdline: string[];
  /** The last CPU seconds read while it was alive: its total, less at most one interval. */
  cpu: number;
  peakRssKiB: number;
}

export interface TreeSummary {
  /** Largest sum of VmRSS over the sampled processes at one instant. */
  peakRssSumKiB: number;
  /** Every process seen, keyed by pid. */
  seen: Map<number, SeenProcess>;
  samples: number;
}

/**
 * Polls a process tree every `intervalMs`: the sum of VmRSS (what a pod's memory limit sees,
 * unlike GNU time's %M, which is one process's peak) and the last CPU ticks of each process
 * (a process's ticks vanish from /proc when it is reaped, so we keep the last values read).
 */
export class TreeSampler {
  private readonly seen = new Map<number, SeenProcess>();
  private peak = 0;
  private samples = 0;
  private timer: NodeJS.Timeout | null = null;

  /** includeRoot: false when the root is a wrapper such as /usr/bin/time. */
  constructor(
    private readonly root: number,
    private readonly includeRoot: boolean,
  ) {}

  start(intervalMs: number): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): number {
    const pids = descendants(this.root);
    if (this.includeRoot) pids.unshift(this.root);
    let sum = 0;
    for (const pid of pids) {
      const p = readProc(pid);
      if (!p) continue;
      sum += p.rssKiB;
      const known = this.seen.get(pid);
      if (known) {
        // Caught between fork and exec, a child first shows its parent's name: take the new one.
        if (known.comm !== p.comm) {
          known.comm = p.comm;
          known.cmdline = readCmdline(pid);
        }
        known.cpu = p.cpu;
        known.peakRssKiB = Math.max(known.peakRssKiB, p.rssKiB);
      } else {
        this.seen.set(pid, { pid, comm: p.comm, cmdline: readCmdline(pid), cpu: p.cpu, peakRssKiB: p.rssKiB });
      }
    }
    this.peak = Math.max(this.peak, sum);
    this.samples++;
    return sum;
  }

  stop(): TreeSummary {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return { peakRssSumKiB: this.peak, seen: this.seen, samples: this.samples };
  }
}

// ---------------------------------------------------------------------------------------------
// /usr/bin/time around a command

export interface Measured {
  wall: number;
  /** user + sys of the command and every child it waited for (GNU time's %U + %S). */
  cpu: number;
  /** GNU time's %M: peak RSS of the largest single process of the tree, KiB. */
  maxRssKiB: number;
  /** Peak of the sampled sum of VmRSS over the tree, KiB. */
  peakRssSumKiB: number;
  tree: TreeSummary;
  stdout: string;
  /** The last few KiB of stderr (e.g. the analyzer's warnings). */
  stderrTail: string;
}

export interface MeasureOptions {
  env?: NodeJS.ProcessEnv;
  /** /proc polling interval. */
  sampleMs?: number;
  /** Keep stdout (e.g. the analyzer's JSONL events); otherwise it is discarded. */
  keepStdout?: boolean;
  /** File descriptors 3.. of the command, e.g. /dev/null for pipe outputs. */
  extraFds?: number[];
}

const TIME_FORMAT = '%e %U %S %M';

const isFiniteNumber = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);

/** Runs `argv` under GNU time, sampling its tree meanwhile; rejects when it exits non-zero. */
export function measure(argv: readonly string[], opts: MeasureOptions = {}): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const timeFile = join(
      tmpdir(),
      `streamqc-bench-time-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    );
    const child = spawn('/usr/bin/time', ['-f', TIME_FORMAT, '-o', timeFile, ...argv], {
      env: opts.env ?? process.env,
      stdio: ['ignore', opts.keepStdout ? 'pipe' : 'ignore', 'pipe', ...(opts.extraFds ?? [])],
    });
    if (child.pid === undefined) {
      reject(new Error(`cannot start /usr/bin/time ${argv[0]}`));
      return;
    }
    const sampler = new TreeSampler(child.pid, false);
    sampler.start(opts.sampleMs ?? 50);
    const out: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    const err = new Tail();
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      sampler.stop();
      reject(e);
    });
    child.on('close', (code) => {
      const tree = sampler.stop();
      let timeText = '';
      try {
        timeText = readFileSync(timeFile, 'utf8');
      } catch {
        // reported below
      }
      rmSync(timeFile, { force: true });
      if (code !== 0) {
        reject(new Error(`${argv.join(' ')} exited with ${code}\n${err.toString()}\n${timeText}`));
        return;
      }
      // GNU time prefixes "Command exited with non-zero status" lines; the figures are last.
      const last = timeText.trim().split('\n').pop() ?? '';
      const [wall, user, sys, maxRss] = last.split(' ').map(Number);
      if (!isFiniteNumber(wall) || !isFiniteNumber(user) || !isFiniteNumber(sys) || !isFiniteNumber(maxRss)) {
        reject(new Error(`cannot parse GNU time output "${timeText}"`));
        return;
      }
      resolve({
        wall,
        cpu: user + sys,
        maxRssKiB: maxRss,
        peakRssSumKiB: tree.peakRssSumKiB,
        tree,
        stdout: Buffer.concat(out).toString('utf8'),
        stderrTail: err.toString(),
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// ports and metrics

// One way to find a free port in this project: the test suites' helpers.
export { freeTcpPort } from '../net.js';
export { freeUdpPort } from '../../analyzer/demo.js';

/** Sum of every sample of one metric family (all label sets) in Prometheus text format. */
export function metricSum(text: string, name: string): number | null {
  let total: number | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m?.[1] === name) total = (total ?? 0) + Number(m[2]);
  }
  return total;
}

export async function fetchText(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.text();
}

export const kib2mib = (kib: number): number => kib / 1024;
