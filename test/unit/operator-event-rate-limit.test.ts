/**
 * The per-monitor Event limiter (operator/event-rate-limit.ts), on a clock handed in: a burst
 * of 10, then one per 30 s, each monitor on its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_RATE_LIMIT, EventRateLimiter } from '../../operator/event-rate-limit.js';

test('a flood of 1,000 Events in one instant writes 10; then one per 30 s', () => {
  let now = 0;
  const limiter = new EventRateLimiter({ ...EVENT_RATE_LIMIT, now: () => now });
  let written = 0;
  for (let i = 0; i < 1_000; i++) if (limiter.allow('ns/flood')) written++;
  assert.equal(written, 10);
  now += 29_999;
  assert.equal(limiter.allow('ns/flood'), false, 'not yet a whole token');
  now += 1;
  assert.equal(limiter.allow('ns/flood'), true);
  assert.equal(limiter.allow('ns/flood'), false);
  // An hour of flood at one attempt per second: the burst, then one per 30 s of the 3,599 s
  // that pass between the first and the last attempt: 10 + 119 = 129 written, not 3,600.
  now = 10_000_000;
  limiter.forget('ns/flood');
  written = 0;
  for (let s = 0; s < 3_600; s++, now += 1_000) if (limiter.allow('ns/flood')) written++;
  assert.equal(written, 129);
});

test("one monitor's flood leaves another monitor's Events alone", () => {
  const limiter = new EventRateLimiter({ ...EVENT_RATE_LIMIT, now: () => 0 });
  for (let i = 0; i < 100; i++) limiter.allow('ns/liar');
  assert.equal(limiter.allow('ns/liar'), false);
  assert.equal(limiter.allow('ns/honest'), true);
});

test('a quiet monitor earns its burst back, and no more', () => {
  let now = 0;
  const limiter = new EventRateLimiter({ ...EVENT_RATE_LIMIT, now: () => now });
  for (let i = 0; i < 10; i++) limiter.allow('ns/m');
  now += 24 * 3_600_000;
  let written = 0;
  for (let i = 0; i < 100; i++) if (limiter.allow('ns/m')) written++;
  assert.equal(written, 10);
});
