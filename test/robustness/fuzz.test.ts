/**
 * The standing robustness suite: every input in test/robustness/inputs.ts (fuzzed and cut
 * clips, odd audio, files that are not media, hostile loopback endpoints, usage errors) through
 * the CLI, two at a time. Per input the contract is: exit 0 or 1 (2 for usage), no stack trace,
 * done within its bound, no ffmpeg/ffprobe left behind, and JSON only on stdout and stderr.
 * Each test below is one class of failure and names every input that fails it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FINITE_BOUND_MS, NETWORK_BOUND_MS, fuzzInputs, servedMedia, type FuzzInput } from './inputs.js';
import { startHostileServers, type HostileServers } from './servers.js';
import { PROBLEM_CLASSES, runInput, type Outcome, type ProblemClass } from './verdict.js';

/** Two CLIs at once: the machine this runs on has two cores. */
const PARALLEL = 2;
const MIN_INPUTS = 150;

const dir = mkdtempSync(join(tmpdir(), 'streamqc-fuzz-'));
let servers: HostileServers | undefined;
let outcomes: Outcome[] = [];
let summary = '';

async function inParallel<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

function failingWith(kind: ProblemClass): Outcome[] {
  return outcomes.filter((o) => o.problems.some((p) => p.kind === kind));
}

/** One line with the suite's figures, for the test output and the issue's closing note. */
function figures(inputs: readonly FuzzInput[], seconds: number): string {
  const byExit = new Map<string, number>();
  for (const o of outcomes) {
    const key = o.signal ?? String(o.code);
    byExit.set(key, (byExit.get(key) ?? 0) + 1);
  }
  const exits = [...byExit]
    .sort()
    .map(([k, n]) => `${k}=${n}`)
    .join(' ');
  const count = (k: ProblemClass): number => failingWith(k).length;
  // How close inputs that ended on their own came to their bound.
  const finished = outcomes.filter((o) => !o.problems.some((p) => p.kind === 'hang'));
  const slowest = finished.reduce<Outcome | null>((a, o) => (a === null || o.ms > a.ms ? o : a), null);
  return (
    `fuzz figures: ${inputs.length} inputs in ${seconds.toFixed(0)} s (${PARALLEL} at a time); exits ${exits}; ` +
    `crashes ${count('crash')}, hangs ${count('hang')}, leaks ${count('leak')}, unexpected exit ${count('exit')}, ` +
    `non-JSON stdout ${count('stdout')}, non-JSON stderr ${count('stderr')}; clean ${outcomes.filter((o) => o.problems.length === 0).length}; ` +
    `slowest finished ${slowest === null ? '-' : `${(slowest.ms / 1000).toFixed(1)} s (${slowest.input.name.slice(0, 40)})`}`
  );
}

before(async () => {
  servers = await startHostileServers(await servedMedia(dir));
  const inputs = await fuzzInputs(dir, servers);
  const started = performance.now();
  outcomes = await inParallel(inputs, PARALLEL, runInput);
  summary = figures(inputs, (performance.now() - started) / 1000);
  console.log(summary);
});

after(async () => {
  await servers?.close();
  // The inputs of a failing run stay for reproduction (their paths are in the failures).
  if (outcomes.length > 0 && outcomes.every((o) => o.problems.length === 0))
    rmSync(dir, { recursive: true, force: true });
});

test(`the suite runs at least ${MIN_INPUTS} inputs and reports its figures`, (t) => {
  t.diagnostic(summary);
  assert.ok(outcomes.length >= MIN_INPUTS, `${outcomes.length} inputs`);
});

const CLASS_TESTS: Record<ProblemClass, string> = {
  crash: 'no input crashes the CLI: exit 0, 1 or 2 and no stack trace',
  hang: `every input ends within its bound (${FINITE_BOUND_MS / 1000} s for files and finite URLs, ${NETWORK_BOUND_MS / 1000} s for dead endpoints)`,
  leak: 'no ffmpeg or ffprobe outlives the CLI',
  exit: 'every input ends with an exit code its kind allows (0 analysed, 1 cannot open or decode, 2 usage)',
  stdout: 'every stdout line is a JSON defect event',
  stderr: 'every stderr line is a JSON log line',
};

for (const kind of PROBLEM_CLASSES) {
  test(CLASS_TESTS[kind], () => {
    const failing = failingWith(kind).map((o) => {
      const details = o.problems
        .filter((p) => p.kind === kind)
        .map((p) => p.detail)
        .join('; ');
      return `  ${o.input.name} [${JSON.stringify(o.input.input)}${o.input.env ? ` ${JSON.stringify(o.input.env)}` : ''}, ${(o.ms / 1000).toFixed(1)} s]: ${details}`;
    });
    assert.ok(failing.length === 0, `${failing.length} of ${outcomes.length} inputs:\n${failing.join('\n')}`);
  });
}
