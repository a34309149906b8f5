import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { BEAT_MS, everyBeat, waitForBeat } from '../../analyzer/beat.js';

/** The first beat at or after `at` (performance.now() milliseconds). */
function beatAtOrAfter(at: number): number {
  return Math.ceil(at / BEAT_MS) * BEAT_MS;
}

test('a wait ends on the first beat at least its length away, never before', async () => {
  for (const ms of [1, 120, 260, 600]) {
    const asked = performance.now() + ms;
    await waitForBeat(ms);
    const ended = performance.now();
    assert.ok(ended >= asked, `a ${ms} ms wait ended ${(asked - ended).toFixed(2)} ms early`);
    assert.ok(ended >= beatAtOrAfter(asked), `a ${ms} ms wait ended before its beat`);
  }
});

test('waits asked at different times for the same beat end in one pass of the timer', async () => {
  const beat = beatAtOrAfter(performance.now() + 2 * BEAT_MS);
  const order: string[] = [];
  const ended = (name: string) => (): void => {
    order.push(name);
    // Runs after everything the same timer pass ended.
    setImmediate(() => order.push(`after ${name}`));
  };
  const first = waitForBeat(beat - performance.now() - 1).then(ended('first'));
  await sleep(BEAT_MS / 2);
  // Shorter and asked later, for the same instant.
  const second = waitForBeat(beat - performance.now() - 10).then(ended('second'));
  await Promise.all([first, second]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order.slice(0, 2).sort(), ['first', 'second'], `not one pass: ${order.join(', ')}`);
});

test('a wait whose signal aborts ends at once, and an aborted signal does not wait at all', async () => {
  const stop = new AbortController();
  const started = performance.now();
  const waiting = waitForBeat(60_000, stop.signal);
  setTimeout(() => stop.abort(), 20);
  await waiting;
  assert.ok(performance.now() - started < 30_000, 'the aborted wait ran on');
  let ended = false;
  void waitForBeat(60_000, stop.signal).then(() => (ended = true));
  await Promise.resolve();
  assert.equal(ended, true);
});

for (const period of [BEAT_MS, BEAT_MS / 5]) {
  test(`a periodic beat of ${period} ms runs on the multiples of its period and stops when told`, async () => {
    const runs: number[] = [];
    const stop = everyBeat(period, () => runs.push(performance.now()));
    while (runs.length < 4) await sleep(period / 4);
    stop();
    const slots = runs.map((t) => Math.floor(t / period));
    for (const [i, t] of runs.entries()) assert.ok(t >= slots[i]! * period, `run ${i} came before its beat`);
    for (let i = 1; i < slots.length; i++) assert.ok(slots[i]! > slots[i - 1]!, 'two runs on one beat');
    const counted = runs.length;
    await sleep(3 * period);
    assert.equal(runs.length, counted, 'it ran after it was stopped');
  });
}

test('a period that is not above zero is refused', () => {
  assert.throws(() => everyBeat(0, () => undefined), /above 0 ms, not 0/);
  assert.throws(() => everyBeat(Number.NaN, () => undefined), /above 0 ms, not NaN/);
});
