/**
 * How late this process's event loop ran while a request was in flight. A body that arrives
 * while the loop is busy waits in the socket's buffers, so the analyzer can delay the moment it
 * sees the last byte by about the longest stretch its loop was blocked, not by the server's
 * doing. A sampler runs only while some request is watched.
 */

/** Sampling period: lateness below it is not seen, which is well under any segment's duration. */
const SAMPLE_MS = 50;

interface LagWatch {
  maxLagMs: number;
}

const watches = new Set<LagWatch>();
let sampler: NodeJS.Timeout | null = null;
let lastSample = 0;

function sample(): void {
  const now = performance.now();
  const late = Math.max(0, now - lastSample - SAMPLE_MS);
  lastSample = now;
  for (const w of watches) w.maxLagMs = Math.max(w.maxLagMs, late);
}

/** Starts watching; the returned function stops and gives the longest lateness seen, in seconds. */
export function watchLoopLag(): () => number {
  const watch: LagWatch = { maxLagMs: 0 };
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
    return watch.maxLagMs / 1000;
  };
}
