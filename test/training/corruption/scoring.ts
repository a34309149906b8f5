/**
 * How the corruption model is scored: per cell (corrupted or clean, faint cells left out) and
 * per frame (corrupted area over the whole picture, as the detector reads it).
 */
import type * as ort from 'onnxruntime-node';
import type { BakedClip } from './baked.js';
import { CLEAN_CELL_DIFF, CORRUPTED_CELL_DIFF, corruptionMaps, type LabelledSpec } from './dataset.js';
import { confusion, type Confusion } from './samples.js';

/** A frame is truly corrupted from this share of corrupted cells (9 cells of a 320x180 plane's 880). */
export const TRUE_FRAME_AREA = 0.01;

/** Share of cells at or above `threshold`. */
export function areaOver(values: Float32Array, threshold: number): number {
  let n = 0;
  for (const v of values) if (v >= threshold) n++;
  return values.length === 0 ? 0 : n / values.length;
}

/** Truth of a frame: true (corrupted), false (not a single corrupted cell) or null (a trace: not scored). */
export function frameTruth(damage: Float32Array): boolean | null {
  const area = areaOver(damage, CORRUPTED_CELL_DIFF);
  if (area >= TRUE_FRAME_AREA) return true;
  return area === 0 ? false : null;
}

export interface ClipScores {
  clip: BakedClip<LabelledSpec>;
  /** Frame indices scored. */
  indices: number[];
  /** Per scored frame, the cell score map of the signal under test. */
  maps: Float32Array[];
}

/** The model's maps on every `stride`-th frame. */
export async function modelScores(
  session: ort.InferenceSession,
  clip: BakedClip<LabelledSpec>,
  stride: number,
): Promise<ClipScores> {
  const indices: number[] = [];
  for (let f = 1; f < clip.frames.length; f += stride) indices.push(f);
  return { clip, indices, maps: await corruptionMaps(session, clip, indices) };
}

export function cellConfusion(scores: readonly ClipScores[], threshold: number): Confusion {
  const predicted: boolean[] = [];
  const truth: boolean[] = [];
  for (const { clip, indices, maps } of scores) {
    indices.forEach((f, k) => {
      const damage = clip.damage[f] ?? new Float32Array(0);
      const map = maps[k] ?? new Float32Array(0);
      for (let c = 0; c < damage.length; c++) {
        const d = damage[c] ?? 0;
        if (d > CLEAN_CELL_DIFF && d < CORRUPTED_CELL_DIFF) continue;
        predicted.push((map[c] ?? 0) >= threshold);
        truth.push(d >= CORRUPTED_CELL_DIFF);
      }
    });
  }
  return confusion(predicted, truth);
}

/** How a frame's corrupted area is read from a score map: every cell at or above a threshold, by default. */
export type FrameArea = (map: Float32Array, cellThreshold: number) => number;

export function frameConfusion(
  scores: readonly ClipScores[],
  cellThreshold: number,
  minArea: number,
  frameArea: FrameArea = areaOver,
): Confusion {
  const predicted: boolean[] = [];
  const truth: boolean[] = [];
  for (const { clip, indices, maps } of scores) {
    indices.forEach((f, k) => {
      const t = frameTruth(clip.damage[f] ?? new Float32Array(0));
      if (t === null) return;
      predicted.push(frameArea(maps[k] ?? new Float32Array(0), cellThreshold) >= minArea);
      truth.push(t);
    });
  }
  return confusion(predicted, truth);
}
