/**
 * A Clock (operator/clock.ts) that moves only when a test advances it: timers fire in time
 * order, and the promises they settle run before the next one fires, so a test says "60 ms
 * later" instead of sleeping 60 ms.
 */
import type { Clock, Timer } from '../../operator/clock.js';

interface Pending {
  at: number;
  fn: () => void;
  every: number | undefined;
  seq: number;
}

/** Lets every settled promise (and what it awaits) run; no time passes. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly pending = new Set<Pending>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.schedule(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.schedule(fn, ms, Math.max(1, ms));
  }

  /** Moves time on by `ms`, firing what falls due on the way, each at its own time. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    for (;;) {
      const next = [...this.pending].filter((p) => p.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (next === undefined) break;
      this.time = next.at;
      if (next.every === undefined) this.pending.delete(next);
      else next.at += next.every;
      next.fn();
      await settle();
    }
    this.time = end;
    await settle();
  }

  /** Advances in `stepMs` steps until `done()` holds (at most `limitMs`); fails the test otherwise. */
  async advanceUntil(what: string, done: () => boolean, stepMs = 1, limitMs = 60_000): Promise<void> {
    const start = this.time;
    await settle();
    while (!done()) {
      if (this.time - start >= limitMs) throw new Error(`${what}: not after ${limitMs} ms of fake time`);
      await this.advance(stepMs);
    }
  }

  private schedule(fn: () => void, ms: number, every: number | undefined): Timer {
    const pending: Pending = { at: this.time + Math.max(0, ms), fn, every, seq: this.seq++ };
    this.pending.add(pending);
    const timer: Timer = {
      cancel: () => {
        this.pending.delete(pending);
      },
      unref: () => timer,
    };
    return timer;
  }
}
