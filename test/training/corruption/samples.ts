/**
 * From training rows (crossval.ts's rowsOf) to a trained model: feature standardisation, then
 * one MLP or several from consecutive seeds.
 */
import type { CorruptionWeights, PatchInput } from '../../../analyzer/features/corruption-graph.js';
import { Mlp, seededRandom, type Samples, type TrainOptions } from './mlp.js';

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
  /** The members as trained (float64), for scoring in plain TypeScript. */
  mlps: Mlp[];
}

/** Standardises, then trains the MLP from the seed: the whole of training, reproducible. */
export function trainModel(data: Samples, options: TrainOptions, patch?: PatchInput): TrainedModel {
  return trainEnsemble(data, options, 1, patch);
}

/**
 * Standardises once, then trains `members` MLPs from seeds options.seed, options.seed + 1, ...
 * on the same rows; the graph averages their logits. `losses`: the first member's. `patch`: the
 * rows begin with those window pixels (crossval.ts's rowsOf), and the graph must cut them too.
 */
export function trainEnsemble(data: Samples, options: TrainOptions, members: number, patch?: PatchInput): TrainedModel {
  const { mean, std } = standardisation(data);
  const rows = standardised(data, mean, std);
  const trained = Array.from({ length: members }, (_, m) => {
    const random = seededRandom(options.seed + m);
    const mlp = Mlp.create(data.features, options.hidden, random);
    return { mlp, losses: mlp.train(rows, options, random) };
  });
  const first = trained[0];
  if (!first) throw new Error('an ensemble needs at least one member');
  return {
    weights: {
      featureMean: mean,
      featureStd: std,
      ...(patch ? { patch } : {}),
      members: trained.map((t) => t.mlp.export()),
    },
    losses: first.losses,
    mlps: trained.map((t) => t.mlp),
  };
}
