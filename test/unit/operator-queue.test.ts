// The operator's keyed work queue: de-duplication, one run per key at a time, bounded
// concurrency, capped exponential backoff, requeue on request. Time is a fake clock that the
// tests advance: delays are exact, and nothing sleeps.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { sleep } from '../../operator/clock.js';
import { WorkQueue, type Reconciler, type WorkQueueOptions } from '../../operator/queue.js';
import { FakeClock, settle } from './operator-fake-clock.js';

function gate(): { wait: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

function queueOn(clock: FakeClock, reconcile: Reconciler, options: Partial<WorkQueueOptions> = {}): WorkQueue {
  return new WorkQueue(reconcile, { concurrency: 4, baseDelayMs: 10, maxDelayMs: 1000, clock, ...options });
}

describe('work queue', () => {
  it('runs a key added three times while it runs exactly once more afterwards', async () => {
    const runs: string[] = [];
    const first = gate();
    const queue = queueOn(new FakeClock(), async (key) => {
      runs.push(key);
      if (runs.length === 1) await first.wait;
    });
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    first.open();
    await queue.idle();
    assert.deepEqual(runs, ['ns/a', 'ns/a']);
  });

  it('never runs one key twice at once', async () => {
    const clock = new FakeClock();
    let concurrent = 0;
    let maxConcurrent = 0;
    let runs = 0;
    const queue = queueOn(clock, async () => {
      concurrent += 1;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      await sleep(clock, 5).done;
      concurrent -= 1;
      runs += 1;
    });
    for (let i = 0; i < 20; i += 1) {
      queue.add('ns/a');
      await clock.advance(1);
    }
    await clock.advanceUntil('the last run', () => queue.running === 0 && queue.depth === 0);
    assert.equal(maxConcurrent, 1);
    // A run takes 5 ms and the adds come 1 ms apart: each run is followed by exactly one more.
    assert.equal(runs, 5);
  });

  it('runs at most `concurrency` keys together, and a stuck key does not hold up the others', async () => {
    const clock = new FakeClock();
    let concurrent = 0;
    let maxConcurrent = 0;
    const done: string[] = [];
    const stuck = gate();
    const queue = queueOn(
      clock,
      async (key) => {
        concurrent += 1;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        if (key === 'ns/stuck') await stuck.wait;
        else await sleep(clock, 3).done;
        concurrent -= 1;
        done.push(key);
      },
      { concurrency: 3 },
    );
    queue.add('ns/stuck');
    for (let i = 0; i < 12; i += 1) queue.add(`ns/m${i}`);
    await clock.advanceUntil('the 12 other keys', () => done.length === 12);
    // Two free workers, 3 ms per key: 12 keys take 6 rounds.
    assert.equal(clock.now(), 18);
    assert.equal(maxConcurrent, 3);
    assert.ok(!done.includes('ns/stuck'));
    stuck.open();
    await queue.idle();
    assert.equal(done.length, 13);
  });

  it('retries a failing key with exponentially growing delays capped at the maximum', async () => {
    const clock = new FakeClock();
    const times: number[] = [];
    const errors: number[] = [];
    const queue = queueOn(
      clock,
      // eslint-disable-next-line @typescript-eslint/require-await -- async so that its throw is a rejection, as from a real reconcile
      async () => {
        times.push(clock.now());
        if (times.length <= 5) throw new Error('conflict');
      },
      { concurrency: 1, baseDelayMs: 20, maxDelayMs: 60, onError: (_key, _err, failures) => errors.push(failures) },
    );
    queue.add('ns/a');
    await clock.advanceUntil('the sixth, successful run', () => times.length === 6 && queue.running === 0);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    assert.deepEqual(gaps, [20, 40, 60, 60, 60]);
    assert.deepEqual(errors, [1, 2, 3, 4, 5]);
  });

  it('starts over from the base delay after a success', async () => {
    const clock = new FakeClock();
    const times: number[] = [];
    let calls = 0;
    const queue = queueOn(
      clock,
      // eslint-disable-next-line @typescript-eslint/require-await -- async so that its throw is a rejection, as from a real reconcile
      async () => {
        calls += 1;
        times.push(clock.now());
        if (calls === 1 || calls === 2 || calls === 4) throw new Error('boom');
      },
      { concurrency: 1, baseDelayMs: 15, maxDelayMs: 1000 },
    );
    queue.add('ns/a');
    await clock.advanceUntil('three runs', () => calls === 3 && queue.running === 0);
    queue.add('ns/a'); // fails (4th), retried after the base delay again, not 4x
    await clock.advanceUntil('five runs', () => calls === 5 && queue.running === 0);
    assert.equal(times[4]! - times[3]!, 15);
  });

  it('runs a key again when its reconcile asks for a requeue', async () => {
    const clock = new FakeClock();
    const times: number[] = [];
    const queue = queueOn(clock, () => {
      times.push(clock.now());
      return Promise.resolve(times.length < 3 ? { requeueAfterMs: 5 } : {});
    });
    queue.add('ns/a');
    await clock.advance(100);
    await queue.stop();
    assert.deepEqual(times, [0, 5, 10]);
  });

  it('stop waits for running reconciles and drops what was waiting', async () => {
    const clock = new FakeClock();
    const started: string[] = [];
    const release = gate();
    const queue = queueOn(
      clock,
      async (key) => {
        started.push(key);
        await release.wait;
      },
      { concurrency: 1 },
    );
    queue.add('ns/a');
    queue.add('ns/b');
    queue.addAfter('ns/c', 5);
    let stopped = false;
    const stopping = queue.stop().then(() => {
      stopped = true;
    });
    await clock.advance(20);
    assert.equal(stopped, false);
    release.open();
    await stopping;
    await settle();
    assert.deepEqual(started, ['ns/a']);
  });
});
