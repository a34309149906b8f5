// The operator's keyed work queue: de-duplication, one run per key at a time, bounded
// concurrency, capped exponential backoff, requeue on request.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { WorkQueue, type Reconciler } from '../../operator/queue.js';

function gate(): { wait: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const wait = new Promise<void>((resolve) => { open = resolve; });
  return { wait, open };
}

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const options = { concurrency: 4, baseDelayMs: 10, maxDelayMs: 1000 };

describe('work queue', () => {
  it('runs a key added three times while it runs exactly once more afterwards', async () => {
    const runs: string[] = [];
    const first = gate();
    const queue = new WorkQueue(async (key) => {
      runs.push(key);
      if (runs.length === 1) await first.wait;
    }, options);
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    first.open();
    await until('both runs', () => runs.length === 2 && queue.running === 0);
    await queue.idle();
    assert.deepEqual(runs, ['ns/a', 'ns/a']);
  });

  it('never runs one key twice at once', async () => {
    let concurrent = 0;
    let maxConcurrent = 0;
    let runs = 0;
    const queue = new WorkQueue(async () => {
      concurrent += 1;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      await new Promise((resolve) => setTimeout(resolve, 5));
      concurrent -= 1;
      runs += 1;
    }, options);
    for (let i = 0; i < 20; i += 1) {
      queue.add('ns/a');
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await until('the last run', () => queue.running === 0 && queue.depth === 0);
    assert.equal(maxConcurrent, 1);
    assert.ok(runs >= 2 && runs <= 20, `${runs} runs`);
  });

  it('runs at most `concurrency` keys together, and a stuck key does not hold up the others', async () => {
    let concurrent = 0;
    let maxConcurrent = 0;
    const done: string[] = [];
    const stuck = gate();
    const queue = new WorkQueue(async (key) => {
      concurrent += 1;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      if (key === 'ns/stuck') await stuck.wait;
      else await new Promise((resolve) => setTimeout(resolve, 3));
      concurrent -= 1;
      done.push(key);
    }, { ...options, concurrency: 3 });
    queue.add('ns/stuck');
    for (let i = 0; i < 12; i += 1) queue.add(`ns/m${i}`);
    await until('the 12 other keys', () => done.length === 12);
    assert.equal(maxConcurrent, 3);
    assert.ok(!done.includes('ns/stuck'));
    stuck.open();
    await queue.idle();
    assert.equal(done.length, 13);
  });

  it('retries a failing key with exponentially growing delays capped at the maximum', async () => {
    const times: number[] = [];
    const errors: number[] = [];
    const queue = new WorkQueue(async () => {
      times.push(performance.now());
      if (times.length <= 5) throw new Error('conflict');
    }, { concurrency: 1, baseDelayMs: 20, maxDelayMs: 60, onError: (_key, _err, failures) => errors.push(failures) });
    queue.add('ns/a');
    await until('the sixth, successful run', () => times.length === 6 && queue.running === 0, 10_000);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Expected delays 20, 40, 60 (capped), 60, 60 ms; timers never fire early by more than a tick.
    [20, 40, 60, 60, 60].forEach((expected, i) => assert.ok(gaps[i]! >= expected - 2, `retry ${i + 1} after ${gaps[i]!.toFixed(1)} ms, expected >= ${expected}`));
    assert.ok(gaps[1]! < 200 && gaps[4]! < 300, `gaps ${gaps.map((g) => g.toFixed(0)).join(', ')} ms`);
    assert.deepEqual(errors, [1, 2, 3, 4, 5]);
  });

  it('starts over from the base delay after a success', async () => {
    const times: number[] = [];
    let calls = 0;
    const reconcile: Reconciler = async () => {
      calls += 1;
      times.push(performance.now());
      if (calls === 1 || calls === 2 || calls === 4) throw new Error('boom');
    };
    const queue = new WorkQueue(reconcile, { concurrency: 1, baseDelayMs: 15, maxDelayMs: 1000 });
    queue.add('ns/a');
    await until('three runs', () => calls === 3 && queue.running === 0);
    queue.add('ns/a'); // fails (4th), retried after the base delay again, not 4x
    await until('five runs', () => calls === 5 && queue.running === 0);
    const gap = times[4]! - times[3]!;
    assert.ok(gap >= 13 && gap < 45, `retry after a success waited ${gap.toFixed(1)} ms`);
  });

  it('runs a key again when its reconcile asks for a requeue', async () => {
    let runs = 0;
    const queue = new WorkQueue(async () => {
      runs += 1;
      return runs < 3 ? { requeueAfterMs: 5 } : {};
    }, options);
    queue.add('ns/a');
    await until('three runs', () => runs === 3);
    await queue.idle();
    await queue.stop();
    assert.equal(runs, 3);
  });

  it('stop waits for running reconciles and drops what was waiting', async () => {
    const started: string[] = [];
    const release = gate();
    const queue = new WorkQueue(async (key) => {
      started.push(key);
      await release.wait;
    }, { ...options, concurrency: 1 });
    queue.add('ns/a');
    queue.add('ns/b');
    queue.addAfter('ns/c', 5);
    let stopped = false;
    const stopping = queue.stop().then(() => { stopped = true; });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(stopped, false);
    release.open();
    await stopping;
    assert.deepEqual(started, ['ns/a']);
  });
});
