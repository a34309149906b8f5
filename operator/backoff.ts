/**
 * The one capped exponential backoff of the operator (the work queue's retries, the informer's
 * watch restarts): the base delay, doubled per consecutive failure, never above the cap.
 */
export function backoffDelay(failures: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
}
