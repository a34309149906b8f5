/**
 * How the corruption meter turns the model's per-cell probabilities into a frame's corrupted
 * area: the largest 4-connected region of cells at or above the cell probability, as a share of
 * the picture. Concealed damage is contiguous; scattered false cells must not add up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORRUPTED_CELL_PROBABILITY, largestCorruptedRegion } from '../../analyzer/features/corruption.js';

const COLS = 40;
const ROWS = 22;

function map(corrupted: (row: number, col: number) => boolean): Float32Array {
  return Float32Array.from({ length: COLS * ROWS }, (_, c) => (corrupted(Math.floor(c / COLS), c % COLS) ? 0.9 : 0.1));
}

test('a contiguous 10x3 block of corrupted cells is 30 cells of the picture', () => {
  const block = map((r, c) => r >= 5 && r < 8 && c >= 10 && c < 20);
  assert.equal(largestCorruptedRegion(block, COLS), 30 / (COLS * ROWS));
});

test('60 scattered corrupted cells (none touching) count as one cell, not 60', () => {
  const scattered = map((r, c) => r % 4 === 0 && c % 4 === 0);
  assert.equal(scattered.filter((p) => p >= CORRUPTED_CELL_PROBABILITY).length, 60);
  assert.equal(largestCorruptedRegion(scattered, COLS), 1 / (COLS * ROWS));
});

test('regions do not join across the end of a row, and the largest of two regions counts', () => {
  // Last column of row 3 and first column of row 4 are adjacent in memory, not in the picture.
  const wrap = map((r, c) => (r === 3 && c === COLS - 1) || (r === 4 && c === 0));
  assert.equal(largestCorruptedRegion(wrap, COLS), 1 / (COLS * ROWS));
  const two = map((r, c) => (r === 1 && c < 5) || (r >= 10 && r < 12 && c >= 30 && c < 34));
  assert.equal(largestCorruptedRegion(two, COLS), 8 / (COLS * ROWS));
});

test('a clean map, an empty map and a map without columns have no corrupted area', () => {
  assert.equal(
    largestCorruptedRegion(
      map(() => false),
      COLS,
    ),
    0,
  );
  assert.equal(largestCorruptedRegion(new Float32Array(0), COLS), 0);
  assert.equal(largestCorruptedRegion(new Float32Array(4).fill(1), 0), 0);
});
