/** Drift from a held reference (analyzer/features/stillness.ts), on synthetic planes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CODING_NOISE_LEVELS, StillnessMeter } from '../../analyzer/features/stillness.js';

const W = 64;
const H = 32;
const plane = (value: (x: number, y: number) => number): Uint8Array => {
  const p = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) p[y * W + x] = value(x, y);
  return p;
};
/** A ramp shifted right by `dx` pixels: a slow pan. */
const pan = (dx: number): Uint8Array => plane((x) => (x + dx) * 2);

test('the first frame has no reference; an unchanged picture has drift 0', () => {
  const meter = new StillnessMeter(W, H, 0.255);
  assert.ok(Number.isNaN(meter.measure(pan(0), false)));
  assert.equal(meter.measure(pan(0), false), 0);
  assert.equal(meter.measure(pan(0), false), 0);
});

test('a pan drifts from its reference until past the floor, then the reference moves on', () => {
  const meter = new StillnessMeter(W, H, 3);
  meter.measure(pan(0), false);
  // Each step moves every sampled pixel by 2 levels: 2, then 4 (> 3: re-anchor), then 2 again.
  assert.equal(meter.measure(pan(1), false), 2);
  assert.equal(meter.measure(pan(2), false), 4);
  assert.equal(meter.measure(pan(3), false), 2);
});

test('a keyframe says nothing of motion (NaN) and re-anchors the reference', () => {
  const meter = new StillnessMeter(W, H, 3);
  meter.measure(pan(0), false);
  // An intra refresh that re-codes a frozen picture visibly is no motion.
  assert.ok(Number.isNaN(meter.measure(pan(5), true)));
  // Compared with the keyframe's picture now, not the first one.
  assert.equal(meter.measure(pan(5), false), 0);
});

test('reset forgets the reference', () => {
  const meter = new StillnessMeter(W, H, 3);
  meter.measure(pan(0), false);
  meter.reset();
  assert.ok(Number.isNaN(meter.measure(pan(5), false)));
  assert.equal(meter.measure(pan(5), false), 0);
});

test('the grid samples every 4th pixel of every 4th row', () => {
  const meter = new StillnessMeter(W, H, 255);
  meter.measure(
    plane(() => 0),
    false,
  );
  // Only pixels off the grid change: no drift.
  assert.equal(
    meter.measure(
      plane((x, y) => (x % 4 === 1 || y % 4 === 2 ? 200 : 0)),
      false,
    ),
    0,
  );
  // Every grid pixel changes by 100.
  assert.equal(
    meter.measure(
      plane((x, y) => (x % 4 === 0 && y % 4 === 0 ? 100 : 0)),
      false,
    ),
    100,
  );
});

test('coding noise is no drift: small changes as often up as down, however long they accumulate', () => {
  const meter = new StillnessMeter(W, H, 0.255);
  const still = plane((x, y) => 100 + ((x * 7 + y * 3) % 50));
  meter.measure(still, false);
  // An encoder refining the picture: every sampled pixel up or down by up to the coding noise.
  const sign = (x: number, y: number): number => (((x >> 2) + (y >> 2)) % 2) * 2 - 1;
  const refined = plane((x, y) => 100 + ((x * 7 + y * 3) % 50) + sign(x, y) * CODING_NOISE_LEVELS);
  assert.equal(meter.measure(refined, false), 0);
});

test('a pixel change beyond the coding noise is drift, as is a shift of the whole picture', () => {
  const meter = new StillnessMeter(W, H, 255);
  meter.measure(
    plane(() => 100),
    false,
  );
  // An edge passing one grid column in 16: 40 levels there, nothing elsewhere.
  assert.equal(
    meter.measure(
      plane((x) => (x < 4 ? 140 : 100)),
      false,
    ),
    40 / 16,
  );
  // A slow fade: every pixel 1 level brighter.
  assert.equal(
    meter.measure(
      plane(() => 101),
      false,
    ),
    1,
  );
});
