/**
 * A keyed work queue in the manner of client-go's workqueue: a key waits at most once,
 * a key never runs twice at once (added while running, it runs again right after), at most
 * `concurrency` keys run together, a failing key is retried with capped exponential backoff,
 * and a reconcile can ask to run again later. Keys carry no payload: the reconciler reads the
 * world itself, so dropping duplicate wake-ups loses nothing.
 */
import { backoffDelay } from './backoff.js';
import { systemClock, type Clock, type Timer } from './clock.js';

export interface ReconcileResult {
  /** Run this key again after this long even if nothing changes (e.g. to poll the analyzer). */
  requeueAfterMs?: number;
}

export type Reconciler = (key: string) => Promise<ReconcileResult> | Promise<void>;

export interface WorkQueueOptions {
  concurrency: number;
  /** Delay of the first retry after an error; doubles per consecutive failure of the key. */
  baseDelayMs: number;
  maxDelayMs: number;
  onError?: (key: string, err: unknown, failures: number) => void;
  /** Called after each reconcile, for metrics. */
  onDone?: (key: string, seconds: number, ok: boolean) => void;
  /** What delays and durations are measured by; the system's when absent. */
  clock?: Clock;
}

interface Delayed {
  timer: Timer;
  at: number;
}

export class WorkQueue {
  private readonly ready: string[] = [];
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly delayed = new Map<string, Delayed>();
  private readonly failures = new Map<string, number>();
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  private readonly clock: Clock;

  constructor(
    private readonly reconcile: Reconciler,
    private readonly options: WorkQueueOptions,
  ) {
    this.clock = options.clock ?? systemClock;
  }

  /** Keys waiting to run now (not the delayed ones, not the running ones). */
  get depth(): number {
    return this.ready.length;
  }

  get running(): number {
    return this.active.size;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.ready.push(key);
    this.pump();
  }

  /** Adds the key after `ms`; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const at = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    existing?.timer.cancel();
    const timer = this.clock
      .setTimeout(() => {
        this.delayed.delete(key);
        this.add(key);
      }, ms)
      .unref();
    this.delayed.set(key, { timer, at });
  }

  /** Resolves when nothing is ready or running (delayed keys may still be pending). */
  idle(): Promise<void> {
    if (this.ready.length === 0 && this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking keys, drops the delayed ones and waits for running reconciles to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const { timer } of this.delayed.values()) timer.cancel();
    this.delayed.clear();
    this.ready.length = 0;
    this.queued.clear();
    this.dirty.clear();
    await this.idle();
  }

  private pump(): void {
    while (!this.stopped && this.active.size < this.options.concurrency) {
      const key = this.ready.shift();
      if (key === undefined) return;
      this.queued.delete(key);
      this.active.add(key);
      void this.run(key);
    }
  }

  private async run(key: string): Promise<void> {
    const started = this.clock.now();
    let ok = true;
    try {
      const result = await this.reconcile(key);
      this.failures.delete(key);
      if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (err) {
      ok = false;
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      this.options.onError?.(key, err, failures);
      this.addAfter(key, backoffDelay(failures, this.options.baseDelayMs, this.options.maxDelayMs));
    } finally {
      this.options.onDone?.(key, (this.clock.now() - started) / 1000, ok);
      this.active.delete(key);
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
      if (this.ready.length === 0 && this.active.size === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    }
  }
}
