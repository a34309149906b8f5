/**
 * A small multilayer perceptron trained with Adam on weighted binary cross-entropy, in plain
 * TypeScript: ReLU hidden layers, one sigmoid output. Everything random comes from one seeded
 * generator, and the arithmetic runs in a fixed order, so the same seed and the same data give
 * the same weights bit for bit.
 *
 * The inner loops index typed arrays directly (non-null assertions, allowed under test/): the
 * `?? 0` guards of the first version made an epoch of 400k rows take 20 s, which left no room
 * for cross-validation within a training run.
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

interface Layer {
  inputs: number;
  outputs: number;
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

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Weighted binary cross-entropy of one row. */
function rowLoss(p: number, label: number, weight: number): number {
  return weight * -(label ? Math.log(Math.max(p, 1e-12)) : Math.log(Math.max(1 - p, 1e-12)));
}

export class Mlp {
  /** acts[0] is the input row; acts[l + 1] the output of layer l (the last one, the logit). */
  private readonly acts: Float64Array[];
  private readonly deltas: Float64Array[];

  private constructor(private readonly layers: Layer[]) {
    this.acts = [new Float64Array(layers[0]!.inputs), ...layers.map((l) => new Float64Array(l.outputs))];
    this.deltas = layers.map((l) => new Float64Array(l.outputs));
  }

  static create(inputs: number, hidden: readonly number[], random: () => number): Mlp {
    const sizes = [inputs, ...hidden, 1];
    const layers: Layer[] = [];
    for (let i = 1; i < sizes.length; i++) layers.push(makeLayer(sizes[i - 1]!, sizes[i]!, random));
    return new Mlp(layers);
  }

  /** The logit for row `row` of `x`; leaves every layer's activations in this.acts. */
  private forward(x: Float32Array, row: number): number {
    const input = this.acts[0]!;
    const n = input.length;
    const offset = row * n;
    for (let i = 0; i < n; i++) input[i] = x[offset + i]!;
    const L = this.layers.length;
    for (let li = 0; li < L; li++) {
      const layer = this.layers[li]!;
      const inp = this.acts[li]!;
      const out = this.acts[li + 1]!;
      const { w, b, inputs, outputs } = layer;
      const last = li === L - 1;
      for (let o = 0; o < outputs; o++) {
        let s = b[o]!;
        const base = o * inputs;
        for (let i = 0; i < inputs; i++) s += w[base + i]! * inp[i]!;
        out[o] = last || s > 0 ? s : 0;
      }
    }
    return this.acts[L]![0]!;
  }

  /** Probability for every row of `x`. */
  predict(x: Float32Array, features: number): Float32Array {
    const n = x.length / features;
    const out = new Float32Array(n);
    for (let r = 0; r < n; r++) out[r] = sigmoid(this.forward(x, r));
    return out;
  }

  /** Pre-sigmoid logit for every row of `x` (an ensemble averages these). */
  logits(x: Float32Array, features: number): Float64Array {
    const n = x.length / features;
    const out = new Float64Array(n);
    for (let r = 0; r < n; r++) out[r] = this.forward(x, r);
    return out;
  }

  /** The parameters, layer by layer (weights then biases): what gradients() differentiates. */
  parameters(): Float64Array[] {
    return this.layers.flatMap((l) => [l.w, l.b]);
  }

  /**
   * Summed weighted loss over `rows` of `data` and its gradient for every parameter (same
   * order as parameters()): the gradient the training step uses, exposed for gradient checks.
   */
  gradients(data: Samples, rows: readonly number[]): { loss: number; gradients: Float64Array[] } {
    this.zeroGradients();
    let loss = 0;
    for (const r of rows) loss += this.accumulate(data, r);
    return { loss, gradients: this.layers.flatMap((l) => [Float64Array.from(l.gw), Float64Array.from(l.gb)]) };
  }

  private zeroGradients(): void {
    for (const l of this.layers) {
      l.gw.fill(0);
      l.gb.fill(0);
    }
  }

  /** Forward and backward for one row, adding its gradient; returns its weighted loss. */
  private accumulate(data: Samples, r: number): number {
    const weight = data.weight[r]!;
    const label = data.y[r]!;
    const p = sigmoid(this.forward(data.x, r));
    this.backward(weight * (p - label));
    return rowLoss(p, label, weight);
  }

  /** Trains in place; returns the mean weighted loss of each epoch. */
  train(data: Samples, options: TrainOptions, random: () => number): number[] {
    const n = data.y.length;
    const order = new Uint32Array(n).map((_, i) => i);
    const losses: number[] = [];
    let step = 0;
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      // Fisher-Yates shuffle with the seeded generator.
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        const t = order[i]!;
        order[i] = order[j]!;
        order[j] = t;
      }
      let lossSum = 0;
      let weightSum = 0;
      for (let start = 0; start < n; start += options.batchSize) {
        const end = Math.min(n, start + options.batchSize);
        this.zeroGradients();
        let batchWeight = 0;
        for (let k = start; k < end; k++) {
          const r = order[k]!;
          lossSum += this.accumulate(data, r);
          batchWeight += data.weight[r]!;
        }
        weightSum += batchWeight;
        step++;
        this.adam(options.learningRate, step, batchWeight);
      }
      losses.push(lossSum / weightSum);
    }
    return losses;
  }

  private backward(dLogit: number): void {
    const L = this.layers.length;
    this.deltas[L - 1]![0] = dLogit;
    for (let li = L - 1; li >= 0; li--) {
      const layer = this.layers[li]!;
      const delta = this.deltas[li]!;
      const input = this.acts[li]!;
      const below = li > 0 ? this.deltas[li - 1]! : null;
      below?.fill(0);
      const { w, gw, gb, inputs, outputs } = layer;
      for (let o = 0; o < outputs; o++) {
        const d = delta[o]!;
        if (d === 0) continue;
        gb[o]! += d;
        const base = o * inputs;
        for (let i = 0; i < inputs; i++) gw[base + i]! += d * input[i]!;
        if (below) for (let i = 0; i < inputs; i++) below[i]! += d * w[base + i]!;
      }
      // ReLU: no gradient through units that were off.
      if (below) for (let i = 0; i < below.length; i++) if (input[i]! <= 0) below[i] = 0;
    }
  }

  private adam(rate: number, step: number, batchWeight: number): void {
    const [b1, b2, eps] = [0.9, 0.999, 1e-8];
    const c1 = 1 - b1 ** step;
    const c2 = 1 - b2 ** step;
    const scale = 1 / Math.max(batchWeight, 1e-12);
    const update = (p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array): void => {
      for (let i = 0; i < p.length; i++) {
        const gi = g[i]! * scale;
        m[i] = b1 * m[i]! + (1 - b1) * gi;
        v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
        p[i]! -= (rate * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + eps);
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
