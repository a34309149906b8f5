/**
 * A token bucket per monitor for the Events the operator writes. What an analyzer reports is
 * untrusted: one that makes defects start and clear on every poll would otherwise turn each
 * poll into Events on the API server (and into etcd writes). A burst passes, then a steady
 * trickle; what is refused is counted by the caller, and status still says what is active.
 */

export interface EventRateLimitOptions {
  /** Events a monitor may write at once after a quiet period. */
  burst: number;
  /** One more Event is allowed per this many milliseconds. */
  refillMs: number;
  now: () => number;
}

/** 10 at once, then one per 30 s: a flapping stream still shows in `kubectl describe`. */
export const EVENT_RATE_LIMIT = { burst: 10, refillMs: 30_000 } as const;

interface Bucket {
  tokens: number;
  at: number;
}

export class EventRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly options: EventRateLimitOptions) {}

  /** Takes one token of `key`'s bucket: whether this Event may be written. */
  allow(key: string): boolean {
    const now = this.options.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.options.burst, at: now };
    const refilled = Math.max(0, now - bucket.at) / this.options.refillMs;
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + refilled);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** The monitor is gone: its bucket too (memory stays bounded by the monitors that exist). */
  forget(key: string): void {
    this.buckets.delete(key);
  }
}
