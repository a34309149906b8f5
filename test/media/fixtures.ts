/**
 * Test media, generated with ffmpeg's own sources and cached by content of the recipe so a
 * suite pays for each clip once per machine. Nothing is downloaded.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { syntheticStreamArgs, type SyntheticStreamOptions } from '../../analyzer/synthetic-source.js';

export const MEDIA_CACHE = process.env.STREAMQC_MEDIA_CACHE ?? join(homedir(), '.cache', 'streamqc', 'media-v1');

export interface CommandResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export interface CommandOptions {
  timeoutMs?: number;
  input?: Uint8Array;
  /** What the run is for; given, a non-zero exit rejects with it and the end of stderr. */
  what?: string;
}

/**
 * Runs a local tool (ffmpeg, ffprobe) to its end: stdout as bytes, stderr as text, killed after
 * `timeoutMs`. `input` is written to its stdin (EPIPE from a tool that stops reading early is
 * left to its exit code). The one place the tests and benchmarks spawn such a tool.
 */
export async function runCommand(
  command: string,
  args: readonly string[],
  options: CommandOptions = {},
): Promise<CommandResult> {
  const result = await spawnToEnd(command, args, options.timeoutMs ?? 120_000, options.input);
  if (options.what !== undefined && result.code !== 0) {
    throw new Error(`${options.what}: ${command} exited with ${result.code}: ${result.stderr.slice(-2000)}`);
  }
  return result;
}

function spawnToEnd(
  command: string,
  args: readonly string[],
  timeoutMs: number,
  input: Uint8Array | undefined,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
    if (input && child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}

export function runFfmpeg(args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  return runCommand('ffmpeg', args, options);
}

/** Build (once) a clip from a recipe of ffmpeg arguments whose last one is the output name's extension. */
export async function cachedMedia(name: string, ext: string, build: (out: string) => string[]): Promise<string> {
  mkdirSync(MEDIA_CACHE, { recursive: true });
  const recipe = JSON.stringify(build('OUT'));
  const hash = createHash('sha256').update(recipe).digest('hex').slice(0, 12);
  const path = join(MEDIA_CACHE, `${name}-${hash}.${ext}`);
  if (existsSync(path)) return path;
  const tmp = `${path}.partial.${process.pid}.${ext}`;
  await runFfmpeg(build(tmp), { what: `making test media ${name}` });
  renameSync(tmp, path);
  return path;
}

/** A synthetic clip with injected defects (see analyzer/synthetic-source.ts). */
export function syntheticClip(
  name: string,
  options: Omit<SyntheticStreamOptions, 'output'>,
  ext = 'ts',
): Promise<string> {
  return cachedMedia(name, ext, (out) => syntheticStreamArgs({ ...options, output: out }));
}
