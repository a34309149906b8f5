/** Run the built CLI as a user would, and collect what it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../analyzer/cli.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  events: { type: string; start: number; end: number; wallclock: string; detail?: Record<string, unknown> }[];
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, STREAMQC_LOG_LEVEL: 'warn', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
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
  if (found.length !== 1) {
    throw new Error(`expected exactly one ${type} event, got ${found.length}: ${JSON.stringify(result.events)}\n${result.stderr.slice(-3000)}`);
  }
  return found[0];
}
