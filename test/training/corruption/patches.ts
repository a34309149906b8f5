/**
 * The pixels a patch model's first layer sees around a cell, cut out in plain TypeScript exactly
 * as the graph computes them (analyzer/features/corruption-graph.ts, PatchInput): the window of
 * `kernel` x `kernel` luma pixels centred on the cell, edge pixels repeated past the picture
 * (cropped to whole cells, as the graph crops), minus the window mean, and the window's change
 * from the previous frame, both divided by the window's standard deviation plus the floor.
 */
import { CORRUPTION_CELL, type PatchInput } from '../../../analyzer/features/corruption-graph.js';

/** A luma plane and the plane before it (the plane itself for a first frame). */
export interface PlanePair {
  width: number;
  height: number;
  frame: Uint8Array;
  previous: Uint8Array;
}

/**
 * Writes cell `cell`'s window (2 x kernel x kernel values: luma, then change, row-major) into
 * `out` from `at`. Cells are numbered row-major over floor(height / CELL) x floor(width / CELL).
 */
export function writePatch(planes: PlanePair, cell: number, patch: PatchInput, out: Float32Array, at: number): void {
  const { kernel, contrastFloor } = patch;
  const cols = Math.floor(planes.width / CORRUPTION_CELL);
  const cropW = cols * CORRUPTION_CELL;
  const cropH = Math.floor(planes.height / CORRUPTION_CELL) * CORRUPTION_CELL;
  const margin = (kernel - CORRUPTION_CELL) / 2;
  const top = Math.floor(cell / cols) * CORRUPTION_CELL - margin;
  const left = (cell % cols) * CORRUPTION_CELL - margin;
  const area = kernel * kernel;
  let sum = 0;
  let squares = 0;
  for (let y = 0; y < kernel; y++) {
    const row = Math.min(cropH - 1, Math.max(0, top + y)) * planes.width;
    for (let x = 0; x < kernel; x++) {
      const p = row + Math.min(cropW - 1, Math.max(0, left + x));
      const v = planes.frame[p]!;
      out[at + y * kernel + x] = v;
      out[at + area + y * kernel + x] = v - planes.previous[p]!;
      sum += v;
      squares += v * v;
    }
  }
  const mean = sum / area;
  const scale = Math.sqrt(Math.max(0, squares / area - mean * mean)) + contrastFloor;
  for (let i = 0; i < area; i++) {
    out[at + i] = (out[at + i]! - mean) / scale;
    out[at + area + i] = out[at + area + i]! / scale;
  }
}
