/**
 * A child process run for the accuracy bench: its whole stdout, stderr and any extra output
 * pipes (fd 3, 4, ...: ffmpeg's per-frame metadata), and its wall and CPU seconds. CPU is
 * the sum over its process tree from bench-util's /proc sampler (the analyzer's ffmpeg
 * children included), so a live run that ends by SIGTERM is measured the same way as a file
 * run that ends by itself; it is informative (it misses at most one interval per process).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { TreeSampler } from '../bench-util.js';

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Text written to fd 3, 4, ... in order. */
  pipes: string[];
  wallSeconds: number;
  cpuSeconds: number;
}

export interface MeasuredProcess {
  child: ChildProcess;
  done: Promise<ProcessResult>;
}

const SAMPLE_MS = 50;

function collect(stream: Readable | null | undefined): () => string {
  const chunks: Buffer[] = [];
  stream?.on('data', (b: Buffer) => chunks.push(b));
  return () => Buffer.concat(chunks).toString('utf8');
}

export function startMeasured(
  command: string,
  args: readonly string[],
  options: { extraPipes?: number; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): MeasuredProcess {
  const extra = options.extraPipes ?? 0;
  const started = process.hrtime.bigint();
  const child = spawn(command, [...args], {
    stdio: ['ignore', 'pipe', 'pipe', ...Array.from({ length: extra }, () => 'pipe' as const)],
    env: options.env ?? process.env,
  });
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const pipes = Array.from({ length: extra }, (_, i) => collect(child.stdio[3 + i] as Readable | null));
  const sampler = child.pid === undefined ? null : new TreeSampler(child.pid, true);
  sampler?.start(SAMPLE_MS);
  const timer = options.timeoutMs === undefined ? null : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  const done = new Promise<ProcessResult>((resolve, reject) => {
    child.on('error', (err) => {
      sampler?.stop();
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const tree = sampler?.stop();
      let cpu = 0;
      for (const p of tree?.seen.values() ?? []) cpu += p.cpu;
      resolve({
        code,
        signal,
        stdout: stdout(),
        stderr: stderr(),
        pipes: pipes.map((read) => read()),
        wallSeconds: Number(process.hrtime.bigint() - started) / 1e9,
        cpuSeconds: cpu,
      });
    });
  });
  return { child, done };
}
