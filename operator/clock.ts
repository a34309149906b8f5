/**
 * Time as the operator reads it: now and timers. Everything in the operator that waits or
 * measures takes a Clock, so that tests hand in a fake one and advance it instead of sleeping.
 */

export interface Timer {
  cancel(): void;
  /** The timer alone does not keep the process alive (a retry that need not outlive it). */
  unref(): Timer;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once, `ms` from now. */
  setTimeout(fn: () => void, ms: number): Timer;
  /** Calls `fn` every `ms` from now. */
  setInterval(fn: () => void, ms: number): Timer;
}

function nodeTimer(handle: NodeJS.Timeout): Timer {
  const timer: Timer = {
    cancel: () => clearTimeout(handle),
    unref: () => {
      handle.unref();
      return timer;
    },
  };
  return timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => nodeTimer(setTimeout(fn, ms)),
  setInterval: (fn, ms) => nodeTimer(setInterval(fn, ms)),
};

/** Resolves `ms` from now by `clock`, or at once when `cancel` is called (the returned function). */
export function sleep(clock: Clock, ms: number, keepAlive = true): { done: Promise<void>; cancel: () => void } {
  let cancel = (): void => undefined;
  const done = new Promise<void>((resolve) => {
    const timer = clock.setTimeout(resolve, ms);
    if (!keepAlive) timer.unref();
    cancel = () => {
      timer.cancel();
      resolve();
    };
  });
  return { done, cancel };
}
