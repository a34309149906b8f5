/**
 * From made clips to training rows: the measures of every cell of every `stride`-th frame,
 * labelled corrupted (concealed decode far from the clean one) or clean, with the faint cells
 * in between left out. Clean cells far outnumber corrupted ones, so a seeded share of them is
 * kept, weighted up so the loss still sees them in their real proportion.
 */
import type * as ort from 'onnxruntime-node';
import { FEATURE_COUNT, type CorruptionWeights } from '../../../analyzer/features/corruption-graph.js';
import type { BakedClip } from './baked.js';
import { CLEAN_CELL_DIFF, CORRUPTED_CELL_DIFF, cellMeasures } from './dataset.js';
import { Mlp, seededRandom, type Samples, type TrainOptions } from './mlp.js';

export interface SampleOptions {
  /** Every stride-th frame, from frame 1 (frame 0 has no previous frame). */
  stride: number;
  /** Share of clean cells kept. */
  cleanShare: number;
  seed: number;
}

export async function samplesOf(
  session: ort.InferenceSession,
  clips: readonly BakedClip[],
  options: SampleOptions,
): Promise<Samples> {
  const random = seededRandom(options.seed);
  const x: number[] = [];
  const y: number[] = [];
  const weight: number[] = [];
  for (const clip of clips) {
    const indices: number[] = [];
    for (let f = 1; f < clip.frames.length; f += options.stride) indices.push(f);
    const measures = await cellMeasures(session, clip, indices);
    indices.forEach((f, k) => {
      const rows = measures[k] ?? new Float32Array(0);
      const damage = clip.damage[f] ?? new Float32Array(0);
      for (let c = 0; c < damage.length; c++) {
        const d = damage[c] ?? 0;
        const corrupted = d >= CORRUPTED_CELL_DIFF;
        if (!corrupted && (d > CLEAN_CELL_DIFF || random() >= options.cleanShare)) continue;
        for (let i = 0; i < FEATURE_COUNT; i++) x.push(rows[c * FEATURE_COUNT + i] ?? 0);
        y.push(corrupted ? 1 : 0);
        weight.push(corrupted ? 1 : 1 / options.cleanShare);
      }
    });
  }
  return { features: FEATURE_COUNT, x: Float32Array.from(x), y: Uint8Array.from(y), weight: Float32Array.from(weight) };
}

/** Per-feature mean and standard deviation (weighted as the loss weighs rows). */
export function standardisation(data: Samples): { mean: number[]; std: number[] } {
  const f = data.features;
  const sum = new Float64Array(f);
  const sq = new Float64Array(f);
  let total = 0;
  for (let r = 0; r < data.y.length; r++) {
    const w = data.weight[r] ?? 0;
    total += w;
    for (let i = 0; i < f; i++) {
      const v = data.x[r * f + i] ?? 0;
      sum[i] = (sum[i] ?? 0) + w * v;
      sq[i] = (sq[i] ?? 0) + w * v * v;
    }
  }
  const mean = Array.from(sum, (s) => s / total);
  const std = Array.from(sq, (s, i) => Math.max(1e-3, Math.sqrt(Math.max(0, s / total - (mean[i] ?? 0) ** 2))));
  // Float32 like the graph's constants, so training and inference standardise identically.
  return { mean: Array.from(Float32Array.from(mean)), std: Array.from(Float32Array.from(std)) };
}

export function standardised(data: Samples, mean: readonly number[], std: readonly number[]): Samples {
  const f = data.features;
  const x = new Float32Array(data.x.length);
  for (let k = 0; k < x.length; k++) x[k] = ((data.x[k] ?? 0) - (mean[k % f] ?? 0)) / (std[k % f] ?? 1);
  return { ...data, x };
}

export interface TrainedModel {
  weights: CorruptionWeights;
  losses: number[];
  mlp: Mlp;
}

/** Standardises, then trains the MLP from the seed: the whole of training, reproducible. */
export function trainModel(data: Samples, options: TrainOptions): TrainedModel {
  const random = seededRandom(options.seed);
  const { mean, std } = standardisation(data);
  const mlp = Mlp.create(data.features, options.hidden, random);
  const losses = mlp.train(standardised(data, mean, std), options, random);
  return { weights: { featureMean: mean, featureStd: std, layers: mlp.export() }, losses, mlp };
}

export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export function confusion(predicted: ArrayLike<boolean>, truth: ArrayLike<boolean>): Confusion {
  const c = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (let i = 0; i < truth.length; i++) {
    if (predicted[i]) {
      if (truth[i]) c.tp++;
      else c.fp++;
    } else if (truth[i]) c.fn++;
    else c.tn++;
  }
  return c;
}

export const precision = (c: Confusion): number => (c.tp + c.fp === 0 ? 1 : c.tp / (c.tp + c.fp));
export const recall = (c: Confusion): number => (c.tp + c.fn === 0 ? 1 : c.tp / (c.tp + c.fn));
