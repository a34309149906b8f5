/**
 * The operator's retry delays (the work queue's, the informer's watch restarts) on the one
 * capped exponential backoff: the base delay after the first failure, doubled per consecutive
 * failure, never above the cap.
 */
import { cappedBackoff } from '../analyzer/backoff.js';

export function backoffDelay(failures: number, baseMs: number, maxMs: number): number {
  return cappedBackoff(failures - 1, baseMs, maxMs);
}
