/** Run the built CLI as a user would, and collect what it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { ANALYZER_NODE_FLAGS } from '../../analyzer/node-flags.js';

export const CLI = fileURLToPath(new URL('../../analyzer/cli.js', import.meta.url));
/** node's arguments that start the analyzer as its images do (with its V8 flags); the CLI's own follow. */
export const CLI_ARGV: readonly string[] = [...ANALYZER_NODE_FLAGS, CLI];

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  events: { type: string; start: number; end: number; wallclock: string; detail?: Record<string, unknown> }[];
}

export function startCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [...CLI_ARGV, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, STREAMQC_LOG_LEVEL: 'warn', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      // A line that is not JSON is no event; the suites that care say so (test/robustness).
      const events = stdout
        .split('\n')
        .filter((l) => l.trim().startsWith('{'))
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as CliResult['events'][number]];
          } catch {
            return [];
          }
        });
      resolve({ code, signal, stdout, stderr, events });
    });
  });
  return { child, done };
}

export async function runCli(args: string[], timeoutMs = 120_000, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const { child, done } = startCli(args, env);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const result = await done;
  clearTimeout(timer);
  return result;
}

/** The one event of `type`, failing with the whole list when there is not exactly one. */
export function only(result: CliResult, type: string): CliResult['events'][number] {
  const found = result.events.filter((e) => e.type === type);
  const [event, ...others] = found;
  if (event === undefined || others.length > 0) {
    throw new Error(
      `expected exactly one ${type} event, got ${found.length}: ${JSON.stringify(result.events)}\n${result.stderr.slice(-3000)}`,
    );
  }
  return event;
}

export interface LogLine {
  level: number;
  msg: string;
  exitCode?: number;
  usage?: string;
  /** An internal error's serialized Error (type, message, stack); some warnings carry a plain string. */
  err?: { type: string; message: string; stack: string } | string;
  [field: string]: unknown;
}

/** stderr read as what the contract says it is: one JSON object per line; fails on the first line that is not. */
export function logLines(stderr: string): LogLine[] {
  return stderr
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line, i) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw new Error(`stderr line ${i + 1} is not JSON: ${line.slice(0, 300)}`);
      }
      if (
        parsed === null ||
        typeof parsed !== 'object' ||
        Array.isArray(parsed) ||
        typeof (parsed as LogLine).msg !== 'string'
      ) {
        throw new Error(`stderr line ${i + 1} is not a log object with a msg: ${line.slice(0, 300)}`);
      }
      return parsed as LogLine;
    });
}

/** The log line that says why the run ended (the one carrying the exit code). */
export function exitLine(result: CliResult): LogLine {
  const lines = logLines(result.stderr).filter((l) => l.exitCode !== undefined);
  const [line, ...others] = lines;
  if (line === undefined || others.length > 0)
    throw new Error(`expected one log line with an exitCode, got ${lines.length}:\n${result.stderr.slice(-3000)}`);
  assert.equal(line.exitCode, result.code, 'the exit line names the exit code the process ended with');
  return line;
}

/** The run's last summary log line (logged at info level when an input ends), parsed; the caller names its shape. */
export function summaryLine(result: CliResult): unknown {
  const line = result.stderr
    .split('\n')
    .filter((l) => l.includes('"msg":"summary:'))
    .at(-1);
  assert.ok(line, `no summary line in ${result.stderr.slice(-1000)}`);
  return JSON.parse(line);
}
