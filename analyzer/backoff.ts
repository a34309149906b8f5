/**
 * The one capped exponential backoff of streamqc: the analyzer's reconnects, the operator's
 * work-queue retries and watch restarts. `attempt` 0 waits `initial`; each attempt doubles it,
 * never above `max`; `jitter` (0..1) moves it by up to that share either way, drawn from
 * `random` (uniform in [0, 1)), so that a fleet does not retry in step.
 */
export function cappedBackoff(attempt: number, initial: number, max: number, jitter = 0, random = 0.5): number {
  const base = Math.min(max, initial * 2 ** Math.min(Math.max(0, attempt), 60));
  return base * (1 + jitter * (2 * random - 1));
}
