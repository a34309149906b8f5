/**
 * The analyzer's own lateness while a request is in flight (loop-lag.ts): every stretch its
 * event loop was blocked counts, not only the longest, since each piece of a body may wait on one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchLoopLag } from '../../analyzer/delivery/loop-lag.js';

/** Keeps the event loop busy for `ms`. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

test('three 200 ms blocks of the event loop during a request are at least 450 ms of lateness, not one block', async () => {
  const lag = watchLoopLag();
  for (let i = 0; i < 3; i++) {
    await sleep(60); // a sample between blocks: each block is its own stretch
    block(200);
  }
  await sleep(60);
  const late = lag();
  // Each block delays the 50 ms sampler by at least 150 ms; the longest alone would be ~0.2 s.
  assert.ok(late >= 0.45, `lateness ${late} s`);
});
