/**
 * How late this process's event loop ran while a request was in flight. A body that arrives
 * while the loop is busy waits in the socket's buffers, so the analyzer can delay the moment it
 * sees the last byte by as much as all the stretches its loop was blocked or starved of CPU
 * during the request (each piece of the body may wait on one), not by the server's doing. The
 * sum, not the longest stretch: a healthy 6-rendition ladder starting on a loaded machine
 * (first segments fetched while the analyzer loads and spawns its children) measured fetches
 * of 2 s for 1 s segments, none of whose stretches alone explained it. A sampler runs only
 * while some request is watched.
 */

/** Sampling period: lateness below it is not seen, which is well under any segment's duration. */
const SAMPLE_MS = 50;

interface LagWatch {
  lateMs: number;
}

const watches = new Set<LagWatch>();
let sampler: NodeJS.Timeout | null = null;
let lastSample = 0;

function sample(): void {
  const now = performance.now();
  const late = Math.max(0, now - lastSample - SAMPLE_MS);
  lastSample = now;
  for (const w of watches) w.lateMs += late;
}

/** Starts watching; the returned function stops and gives the loop's lateness meanwhile, in seconds. */
export function watchLoopLag(): () => number {
  const watch: LagWatch = { lateMs: 0 };
  watches.add(watch);
  if (sampler === null) {
    lastSample = performance.now();
    sampler = setInterval(sample, SAMPLE_MS);
    // Never what keeps the process alive.
    sampler.unref();
  }
  return () => {
    // The stretch in progress when the answer came counts too.
    sample();
    watches.delete(watch);
    if (watches.size === 0 && sampler !== null) {
      clearInterval(sampler);
      sampler = null;
    }
    return watch.lateMs / 1000;
  };
}
