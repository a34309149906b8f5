/**
 * One fuzz input through the CLI, bounded in time, and what it did wrong. The classes are the
 * issue's contract: crash, hang, leak, an exit code the input does not allow, and a stdout or
 * stderr line that is not JSON.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { startCli, type CliResult } from '../analyzer/run-cli.js';
import { FUZZ_CONFIG, type FuzzInput } from './inputs.js';

export const PROBLEM_CLASSES = ['crash', 'hang', 'leak', 'exit', 'stdout', 'stderr'] as const;
export type ProblemClass = (typeof PROBLEM_CLASSES)[number];

export interface Problem {
  kind: ProblemClass;
  /** What went wrong, with the evidence (an excerpt of stderr, the leaked command). */
  detail: string;
}

export interface Outcome {
  input: FuzzInput;
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  problems: Problem[];
}

/** After the bound, SIGTERM (a live run's normal stop), then SIGKILL if that is ignored. */
const TERM_GRACE_MS = 2000;
/** An ffmpeg the CLI signalled on its way out may need a moment to be gone. */
const LEAK_GRACE_MS = 1000;
/** An orphan holding the CLI's pipes must not hold the suite. */
const PIPE_GRACE_MS = 2000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function runInput(input: FuzzInput): Promise<Outcome> {
  const started = performance.now();
  const { child, done } = startCli(['analyze', input.input, '--config', FUZZ_CONFIG], {
    STREAMQC_LOG_LEVEL: 'info',
    ...input.env,
  });
  // Set by the bound's timer: declared boolean, as TypeScript cannot see a callback assign it.
  let hung = false as boolean;
  let killTimer: NodeJS.Timeout | undefined;
  const termTimer = setTimeout(() => {
    hung = true;
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), TERM_GRACE_MS);
  }, input.boundMs);
  const exited = new Promise<number>((resolve) => child.on('exit', () => resolve(performance.now())));
  const endedAt = await exited;
  clearTimeout(termTimer);
  clearTimeout(killTimer);
  const closed = await Promise.race([done, sleep(PIPE_GRACE_MS).then(() => null)]);
  const result = closed ?? (child.stdout?.destroy(), child.stderr?.destroy(), await done);
  const ms = endedAt - started;
  const problems = [
    ...(hung ? [hang(input, result)] : []),
    ...crashes(result, hung),
    ...exitProblems(input, result, hung),
    ...lineProblems(result),
    ...(await leaks(input.marker, result.signal === 'SIGKILL')),
  ];
  return { input, code: result.code, signal: result.signal, ms, problems };
}

function hang(input: FuzzInput, result: CliResult): Problem {
  const stopped =
    result.signal === 'SIGKILL' ? 'SIGTERM did not end it, SIGKILL did' : `SIGTERM ended it (exit ${result.code})`;
  // Two lines: the one before the suite's SIGTERM says what the CLI was doing.
  const last = result.stderr.trim().split('\n').slice(-2).join(' | ');
  return {
    kind: 'hang',
    detail: `still running after ${input.boundMs / 1000} s; ${stopped}; stderr ends: ${clip(last, 500)}`,
  };
}

/** JS engine errors: they only reach stderr when something was not handled. */
const ENGINE_ERROR = /\b(?:Range|Type|Reference|Syntax|Eval|URI|Aggregate|Internal)Error\b|internal error/;
/** A V8 stack frame. */
const STACK_FRAME = /^\s+at \S/;

/**
 * A crash: an exit code outside the contract (70 is the CLI's internal error) or a signal the
 * suite did not send; a stack frame or a JS engine error in a stderr line that is not JSON; or
 * a JSON log line carrying a `stack` (a stack trace in a log field is still one for the user).
 */
function crashes(result: CliResult, hung: boolean): Problem[] {
  const out: Problem[] = [];
  if (result.code !== null && ![0, 1, 2].includes(result.code))
    out.push({ kind: 'crash', detail: `exit ${result.code}` });
  if (result.signal !== null && !hung) out.push({ kind: 'crash', detail: `killed by ${result.signal}` });
  const lines = result.stderr.split('\n');
  const raw = lines.filter((l) => parseObject(l) === null);
  const evidence = raw.find((l) => STACK_FRAME.test(l) || ENGINE_ERROR.test(l));
  if (evidence !== undefined)
    out.push({ kind: 'crash', detail: `stack trace on stderr: ${excerpt(result.stderr, evidence)}` });
  const logged = lines.find((l) => hasStack(parseObject(l)));
  if (logged !== undefined) out.push({ kind: 'crash', detail: `a stack in a log line: ${clip(logged)}` });
  return out;
}

function exitProblems(input: FuzzInput, result: CliResult, hung: boolean): Problem[] {
  if (hung || result.code === null || ![0, 1, 2].includes(result.code)) return []; // counted as a hang or a crash
  if ((input.exits as readonly number[]).includes(result.code)) return [];
  return [
    {
      kind: 'exit',
      detail: `exit ${result.code}, allowed ${input.exits.join(' or ')}; stderr: ${clip(result.stderr.trim().split('\n').slice(-3).join(' | '))}`,
    },
  ];
}

/** stdout: defect events only, each a JSON object; stderr: JSON log lines only. */
function lineProblems(result: CliResult): Problem[] {
  const out: Problem[] = [];
  const badOut = result.stdout.split('\n').filter((l) => l.trim() !== '' && !isDefectEvent(parseObject(l)));
  const [firstBadOut] = badOut;
  if (firstBadOut !== undefined)
    out.push({
      kind: 'stdout',
      detail: `${badOut.length} stdout line(s) not a JSON defect event, first: ${clip(firstBadOut)}`,
    });
  const badErr = result.stderr.split('\n').filter((l) => l.trim() !== '' && parseObject(l) === null);
  const [firstBadErr] = badErr;
  if (firstBadErr !== undefined)
    out.push({ kind: 'stderr', detail: `${badErr.length} stderr line(s) not JSON, first: ${clip(firstBadErr)}` });
  return out;
}

function parseObject(line: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function isDefectEvent(e: Record<string, unknown> | null): boolean {
  return (
    e !== null &&
    typeof e.type === 'string' &&
    typeof e.start === 'number' &&
    typeof e.end === 'number' &&
    typeof e.wallclock === 'string'
  );
}

function hasStack(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(([k, v]) => (k === 'stack' && typeof v === 'string') || hasStack(v));
}

function clip(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

/** The offending line with the two before it (the error message usually sits just above the frames). */
function excerpt(stderr: string, line: string): string {
  const lines = stderr.split('\n');
  const at = lines.indexOf(line);
  return clip(lines.slice(Math.max(0, at - 2), at + 1).join(' | '), 500);
}

interface Leaked {
  pid: number;
  command: string;
}

/**
 * ffmpeg and ffprobe processes still working on this input after the CLI exited (found by the
 * input in their command line, so the CLI's own descendants are found even once orphaned).
 * They are killed here, so one leak does not slow every later input.
 */
async function leaks(marker: string, afterSigkill: boolean): Promise<Problem[]> {
  if (marker === '') return [];
  let found = mediaProcessesWith(marker);
  for (let waited = 0; found.length > 0 && waited < LEAK_GRACE_MS; waited += 100) {
    await sleep(100);
    found = mediaProcessesWith(marker);
  }
  for (const p of found) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  const when = afterSigkill ? 'after the CLI was SIGKILLed' : 'after the CLI exited';
  return found.map((p) => ({ kind: 'leak' as const, detail: `pid ${p.pid} still alive ${when}: ${clip(p.command)}` }));
}

function mediaProcessesWith(marker: string): Leaked[] {
  const out: Leaked[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (!/(?:^|\/)ff(?:mpeg|probe)$/.test(args[0] ?? '')) continue;
      if (args.includes(marker)) out.push({ pid: Number(name), command: args.join(' ').trim() });
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}
