/**
 * A small multilayer perceptron trained with Adam on weighted binary cross-entropy, in plain
 * TypeScript: ReLU hidden layers, one sigmoid output. Everything random comes from one seeded
 * generator, and the arithmetic runs in a fixed order, so the same seed and the same data give
 * the same weights bit for bit.
 */
import type { DenseLayer } from '../../../analyzer/features/corruption-graph.js';

/** mulberry32: a small, fast, seeded generator of uniform numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Rows of `features` values each, a 0/1 label and a loss weight per row. */
export interface Samples {
  features: number;
  x: Float32Array;
  y: Uint8Array;
  weight: Float32Array;
}

export interface TrainOptions {
  hidden: readonly number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
}

interface Layer extends DenseLayer {
  w: Float64Array;
  b: Float64Array;
  /** Adam moments. */
  mw: Float64Array;
  vw: Float64Array;
  mb: Float64Array;
  vb: Float64Array;
  gw: Float64Array;
  gb: Float64Array;
}

function makeLayer(inputs: number, outputs: number, random: () => number): Layer {
  // He initialisation for ReLU, from a uniform of the same variance.
  const scale = Math.sqrt(6 / inputs);
  const w = new Float64Array(inputs * outputs).map(() => (random() * 2 - 1) * scale);
  const zeros = (n: number): Float64Array => new Float64Array(n);
  return {
    inputs,
    outputs,
    weights: [],
    biases: [],
    w,
    b: zeros(outputs),
    mw: zeros(w.length),
    vw: zeros(w.length),
    mb: zeros(outputs),
    vb: zeros(outputs),
    gw: zeros(w.length),
    gb: zeros(outputs),
  };
}

export class Mlp {
  private constructor(private readonly layers: Layer[]) {}

  static create(inputs: number, hidden: readonly number[], random: () => number): Mlp {
    const sizes = [inputs, ...hidden, 1];
    const layers: Layer[] = [];
    for (let i = 1; i < sizes.length; i++) layers.push(makeLayer(sizes[i - 1] ?? 0, sizes[i] ?? 0, random));
    return new Mlp(layers);
  }

  /** Activations of every layer for one row (the last is the pre-sigmoid logit). */
  private forward(x: Float32Array, offset: number, acts: Float64Array[]): number {
    let input: ArrayLike<number> = x.subarray(offset, offset + (this.layers[0]?.inputs ?? 0));
    this.layers.forEach((layer, li) => {
      const out = acts[li] ?? new Float64Array(0);
      const last = li === this.layers.length - 1;
      for (let o = 0; o < layer.outputs; o++) {
        let s = layer.b[o] ?? 0;
        const row = o * layer.inputs;
        for (let i = 0; i < layer.inputs; i++) s += (layer.w[row + i] ?? 0) * (input[i] ?? 0);
        out[o] = last || s > 0 ? s : 0;
      }
      input = out;
    });
    return acts[this.layers.length - 1]?.[0] ?? 0;
  }

  private activations(): Float64Array[] {
    return this.layers.map((l) => new Float64Array(l.outputs));
  }

  /** Probability for every row of `x`. */
  predict(x: Float32Array, features: number): Float32Array {
    const n = x.length / features;
    const out = new Float32Array(n);
    const acts = this.activations();
    for (let r = 0; r < n; r++) out[r] = 1 / (1 + Math.exp(-this.forward(x, r * features, acts)));
    return out;
  }

  /** Trains in place; returns the mean weighted loss of each epoch. */
  train(data: Samples, options: TrainOptions, random: () => number): number[] {
    const n = data.y.length;
    const order = new Uint32Array(n).map((_, i) => i);
    const acts = this.activations();
    const deltas = this.activations();
    const losses: number[] = [];
    let step = 0;
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      // Fisher-Yates shuffle with the seeded generator.
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        const t = order[i] ?? 0;
        order[i] = order[j] ?? 0;
        order[j] = t;
      }
      let lossSum = 0;
      let weightSum = 0;
      for (let start = 0; start < n; start += options.batchSize) {
        const end = Math.min(n, start + options.batchSize);
        for (const l of this.layers) {
          l.gw.fill(0);
          l.gb.fill(0);
        }
        let batchWeight = 0;
        for (let k = start; k < end; k++) {
          const r = order[k] ?? 0;
          const weight = data.weight[r] ?? 0;
          const label = data.y[r] ?? 0;
          const logit = this.forward(data.x, r * data.features, acts);
          const p = 1 / (1 + Math.exp(-logit));
          lossSum += weight * -(label ? Math.log(Math.max(p, 1e-12)) : Math.log(Math.max(1 - p, 1e-12)));
          weightSum += weight;
          batchWeight += weight;
          this.backward(data.x, r * data.features, acts, deltas, weight * (p - label));
        }
        step++;
        this.adam(options.learningRate, step, batchWeight);
      }
      losses.push(lossSum / weightSum);
    }
    return losses;
  }

  private backward(
    x: Float32Array,
    offset: number,
    acts: Float64Array[],
    deltas: Float64Array[],
    dLogit: number,
  ): void {
    const L = this.layers.length;
    const top = deltas[L - 1];
    if (top) top[0] = dLogit;
    for (let li = L - 1; li >= 0; li--) {
      const layer = this.layers[li];
      const delta = deltas[li];
      if (!layer || !delta) continue;
      const input: ArrayLike<number> = li === 0 ? x.subarray(offset, offset + layer.inputs) : (acts[li - 1] ?? []);
      const below = li > 0 ? deltas[li - 1] : undefined;
      below?.fill(0);
      for (let o = 0; o < layer.outputs; o++) {
        const d = delta[o] ?? 0;
        if (d === 0) continue;
        layer.gb[o] = (layer.gb[o] ?? 0) + d;
        const row = o * layer.inputs;
        for (let i = 0; i < layer.inputs; i++) {
          layer.gw[row + i] = (layer.gw[row + i] ?? 0) + d * (input[i] ?? 0);
          if (below) below[i] = (below[i] ?? 0) + d * (layer.w[row + i] ?? 0);
        }
      }
      // ReLU: no gradient through units that were off.
      if (below && li > 0) {
        const a = acts[li - 1] ?? new Float64Array(0);
        for (let i = 0; i < below.length; i++) if ((a[i] ?? 0) <= 0) below[i] = 0;
      }
    }
  }

  private adam(rate: number, step: number, batchWeight: number): void {
    const [b1, b2, eps] = [0.9, 0.999, 1e-8];
    const c1 = 1 - b1 ** step;
    const c2 = 1 - b2 ** step;
    const update = (p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array): void => {
      for (let i = 0; i < p.length; i++) {
        const gi = (g[i] ?? 0) / Math.max(batchWeight, 1e-12);
        m[i] = b1 * (m[i] ?? 0) + (1 - b1) * gi;
        v[i] = b2 * (v[i] ?? 0) + (1 - b2) * gi * gi;
        p[i] = (p[i] ?? 0) - (rate * ((m[i] ?? 0) / c1)) / (Math.sqrt((v[i] ?? 0) / c2) + eps);
      }
    };
    for (const l of this.layers) {
      update(l.w, l.gw, l.mw, l.vw);
      update(l.b, l.gb, l.mb, l.vb);
    }
  }

  /** The trained layers as the graph builder takes them (float32-rounded). */
  export(): DenseLayer[] {
    return this.layers.map((l) => ({
      inputs: l.inputs,
      outputs: l.outputs,
      weights: Array.from(Float32Array.from(l.w)),
      biases: Array.from(Float32Array.from(l.b)),
    }));
  }
}
