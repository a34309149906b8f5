import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_BURST_CREDIT, MediaCredit } from '../../analyzer/ingest/timeline.js';

test('media that arrives in real time runs out one frame after the last one', () => {
  const credit = new MediaCredit();
  assert.equal(credit.secondsWithout(0), null);
  for (let i = 0; i < 50; i++) credit.arrived('video', 0.04, i * 40);
  assert.equal(credit.secondsWithout(1960), 0);
  assert.equal(credit.secondsWithout(2000), 0);
  assert.ok(Math.abs(credit.secondsWithout(4000)! - 2) < 1e-9);
});

test('a 6 s segment decoded in 1 s pays for the 5 s pause after it, and no longer', () => {
  const credit = new MediaCredit();
  for (let i = 0; i < 150; i++) credit.arrived('video', 0.04, (i * 1000) / 150);
  assert.equal(credit.secondsWithout(5900), 0);
  assert.ok(Math.abs(credit.secondsWithout(7500)! - 1.5) < 1e-6);
});

test('a burst pays for at most MAX_BURST_CREDIT seconds, and audio beside video adds nothing', () => {
  const credit = new MediaCredit();
  for (let i = 0; i < 60 * 25; i++) {
    credit.arrived('video', 0.04, 0);
    credit.arrived('audio', 0.04, 0);
  }
  assert.equal(credit.secondsWithout(MAX_BURST_CREDIT * 1000), 0);
  assert.ok(Math.abs(credit.secondsWithout((MAX_BURST_CREDIT + 3) * 1000)! - 3) < 1e-9);
});

test('media that stops after a pause is missed from when what came ran out', () => {
  const credit = new MediaCredit();
  credit.arrived('audio', 1, 0);
  assert.ok(Math.abs(credit.secondsWithout(9000)! - 8) < 1e-9);
  // What comes after the pause covers no part of it.
  credit.arrived('audio', 1, 10_000);
  assert.equal(credit.secondsWithout(10_500), 0);
  assert.ok(Math.abs(credit.secondsWithout(12_000)! - 1) < 1e-9);
});
