/** Shot cuts from the coarse picture (analyzer/features/shot-cut.ts), on synthetic planes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShotCutMeter } from '../../analyzer/features/shot-cut.js';

const W = 160;
const H = 90;
const plane = (value: (x: number, y: number) => number): Uint8Array => {
  const p = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) p[y * W + x] = value(x, y);
  return p;
};
/** A detailed shot: diagonal ramps, panning `dx` pixels. */
const city = (dx: number): Uint8Array => plane((x, y) => 20 + ((x * 3 + y * 2 + dx * 3) % 200));
/** Another shot: a dim, flat room with a brighter window. */
const room = plane((x, y) => (x > 100 && y < 40 ? 120 : 30));
/** The city shot out of focus: a 7 x 7 box blur of it. */
function blurred(sharp: Uint8Array): Uint8Array {
  return plane((x, y) => {
    let sum = 0;
    let n = 0;
    for (let v = Math.max(0, y - 3); v <= Math.min(H - 1, y + 3); v++)
      for (let u = Math.max(0, x - 3); u <= Math.min(W - 1, x + 3); u++, n++) sum += sharp[v * W + u]!;
    return Math.round(sum / n);
  });
}
/** A bright bar sweeping across a room 12 pixels a step. */
const sweep = (k: number): Uint8Array => plane((x, y) => (Math.abs(x - 12 * k) < 16 ? 230 : y < 45 ? 40 : 90));

test('the first frame is no cut; a cut to another shot is one, and only its first frame', () => {
  const meter = new ShotCutMeter(W, H);
  assert.equal(meter.measure(city(0)), false);
  for (let dx = 1; dx < 5; dx++) assert.equal(meter.measure(city(dx)), false);
  assert.equal(meter.measure(room), true);
  assert.equal(meter.measure(room), false);
});

test('a loss of focus keeps the coarse picture: no cut', () => {
  const meter = new ShotCutMeter(W, H);
  for (let dx = 0; dx < 5; dx++) meter.measure(city(dx));
  assert.equal(meter.measure(blurred(city(5))), false);
});

test('fast motion that changes the coarse picture every frame is no cut once under way', () => {
  const meter = new ShotCutMeter(W, H);
  // Its first step has no motion before it to be judged against.
  meter.measure(sweep(0));
  meter.measure(sweep(1));
  const cuts = Array.from({ length: 10 }, (_, k) => meter.measure(sweep(k + 2)));
  assert.deepEqual(
    cuts,
    cuts.map(() => false),
  );
});

test('repeated frames (a slow webcam sent at a higher rate) do not make its next change a cut', () => {
  const meter = new ShotCutMeter(W, H);
  meter.measure(sweep(0));
  meter.measure(sweep(1));
  const seen: boolean[] = [];
  for (let k = 2; k < 8; k++) for (let repeat = 0; repeat < 7; repeat++) seen.push(meter.measure(sweep(k)));
  assert.deepEqual(
    seen,
    seen.map(() => false),
  );
});
