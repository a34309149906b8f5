/**
 * The hand-built signal the model has to beat: a concealed macroblock leaves a step that runs
 * straight along a whole block boundary, so a cell scores the smaller of its two boundaries'
 * weakest steps (the step holds along the full length) over the gradient inside it. Built from
 * the same measures as the model, on the same cells.
 */
import type * as ort from 'onnxruntime-node';
import { CELL_MEASURES, FEATURE_COUNT } from '../../../analyzer/features/corruption-graph.js';
import type { BakedClip } from './baked.js';
import { cellMeasures, type LabelledSpec } from './dataset.js';
import type { ClipScores } from './scoring.js';

const MIN_STEP_H = CELL_MEASURES.indexOf('boundaryMinStepH');
const MIN_STEP_V = CELL_MEASURES.indexOf('boundaryMinStepV');
const GRADIENT = CELL_MEASURES.indexOf('gradient');

/** log1p(weakest boundary step) - log1p(mean gradient): > 0 where a boundary steps more than the cell varies. */
export function straightStepScore(measures: Float32Array, cell: number): number {
  const at = (i: number): number => measures[cell * FEATURE_COUNT + i] ?? 0;
  return Math.max(at(MIN_STEP_H), at(MIN_STEP_V)) - at(GRADIENT);
}

export async function baselineScores(
  session: ort.InferenceSession,
  clip: BakedClip<LabelledSpec>,
  stride: number,
): Promise<ClipScores> {
  const indices: number[] = [];
  for (let f = 1; f < clip.frames.length; f += stride) indices.push(f);
  const measures = await cellMeasures(session, clip, indices);
  const maps = measures.map((m) => {
    const cells = m.length / FEATURE_COUNT;
    return Float32Array.from({ length: cells }, (_, c) => straightStepScore(m, c));
  });
  return { clip, indices, maps };
}
