/**
 * The corruption model as one ONNX graph: a luma plane and the frame before it in, a map of
 * per-cell corruption probabilities out. Corruption baked in upstream (concealed macroblocks,
 * re-encoded cleanly) decodes without an error, so it has to be seen in the picture: a cell
 * of CORRUPTION_CELL x CORRUPTION_CELL analysis pixels is described by hand-made measures
 * (steps straight along its block boundaries against the gradient inside it, its change from
 * the frame before, the same measures around it and over the whole frame) and a small MLP,
 * written as 1x1 convolutions, turns them into a probability.
 *
 * A model may also look at the pixels themselves (`PatchInput`): a square window around each cell
 * of the luma plane and of its change from the frame before, contrast-normalised, enters the
 * first layer beside the measures. That layer is then a strided convolution (one step per cell)
 * and the rest stays 1x1: a small CNN that trains as an MLP on one row per cell.
 *
 * The graph works at any plane size (it crops to whole cells), so one model file serves every
 * analysis geometry. The same builder gives the training pipeline (test/training/corruption)
 * the measures alone, so training and inference share one definition of them.
 */
import { GraphBuilder } from './onnx-builder.js';

/** Cell side in analysis pixels: a 16x16 macroblock of a picture decimated by 2. */
export const CORRUPTION_CELL = 8;

export const CORRUPTION_GRAPH_OPSET = 17;

export const CORRUPTION_GRAPH_INPUTS = {
  /** uint8 [batch, 1, height, width]: the luma planes. */
  frames: 'frames',
  /** uint8 [batch, 1, height, width]: each plane's previous frame (the plane itself when there is none). */
  previous: 'previous',
} as const;

/** float32 [batch, 1, rows, cols]: probability that a cell is corrupted. */
export const CORRUPTION_OUTPUT = 'corruption';
/** float32 [batch, FEATURE_COUNT, rows, cols]: the measures alone (the training graph's output). */
export const FEATURES_OUTPUT = 'cell_features';

/** The cell measures, in channel order (all log1p-compressed). */
export const CELL_MEASURES = [
  'boundaryStepH',
  'boundaryStepV',
  'boundaryMinStepH',
  'boundaryMinStepV',
  'gradient',
  'midStepH',
  'midStepV',
  'change',
  'luma',
] as const;
/** Measures also averaged over the 3x3 cells around each cell. */
const CONTEXT_MEASURES = 8;
/** Measures also averaged over the whole frame: boundary steps, gradient, change. */
const FRAME_MEASURES = [0, 1, 4, 7] as const;
export const FEATURE_COUNT = CELL_MEASURES.length + CONTEXT_MEASURES + FRAME_MEASURES.length;

/** One dense layer: weights [outputs][inputs] row-major, and biases [outputs]. */
export interface DenseLayer {
  inputs: number;
  outputs: number;
  weights: number[];
  biases: number[];
}

/**
 * The pixels a model sees around each cell: a `kernel` x `kernel` window centred on the cell
 * (edge pixels repeated past the picture), of the luma plane and of its difference to the
 * previous frame. Both are divided by the window's luma standard deviation plus
 * `contrastFloor` (levels), the luma after its window mean is taken off, so dark or soft
 * pictures look like bright, sharp ones; the floor keeps flat windows from amplifying noise.
 */
export interface PatchInput {
  kernel: number;
  contrastFloor: number;
}

/** Inputs of a model's first layer: with a patch, its pixels (luma, then change; row-major) come before the measures. */
export function inputCount(patch?: PatchInput): number {
  return (patch ? 2 * patch.kernel * patch.kernel : 0) + FEATURE_COUNT;
}

/** Refuses a patch the graph cannot centre on a cell: an even kernel of at least one cell. */
export function checkPatch(patch: PatchInput): void {
  const { kernel, contrastFloor } = patch;
  if (!Number.isInteger(kernel) || kernel < CORRUPTION_CELL || kernel % 2 !== 0) {
    throw new Error(`corruption model: patch kernel ${kernel} must be an even integer >= ${CORRUPTION_CELL}`);
  }
  if (!(contrastFloor > 0)) throw new Error(`corruption model: patch contrastFloor ${contrastFloor} must be > 0`);
}

/**
 * What training produces: feature standardisation and one or more MLPs (ReLU between layers),
 * trained from different seeds; their logits are averaged, then a sigmoid. One MLP alone moved
 * with its initial weights (recall on validation origins between 0 and 0.76), the average of a
 * few much less.
 */
export interface CorruptionWeights {
  /** Per input of the first layer (inputCount(patch) of them). */
  featureMean: number[];
  featureStd: number[];
  patch?: PatchInput;
  members: DenseLayer[][];
}

/** Builds the graph: with `weights`, the model (output CORRUPTION_OUTPUT); without, the measures (FEATURES_OUTPUT). */
export function buildCorruptionGraph(weights?: CorruptionWeights): Uint8Array {
  const g = new GraphBuilder(weights ? 'streamqc_corruption' : 'streamqc_corruption_features');
  const cell = CORRUPTION_CELL;
  const ints = (name: string, values: readonly number[]): string => g.constant(name, 'int64', [values.length], values);
  const float = (name: string, value: number): string => g.constant(name, 'float32', [], [value]);

  const frames = g.input(CORRUPTION_GRAPH_INPUTS.frames, 'uint8', ['batch', 1, 'height', 'width']);
  const previous = g.input(CORRUPTION_GRAPH_INPUTS.previous, 'uint8', ['batch', 1, 'height', 'width']);

  // Crop to whole cells: ends = floor(size / cell) * cell, from the run-time shape.
  const shape = g.op('Shape', [frames]);
  const sizes = g.op('Gather', [shape, ints('hw_index', [2, 3])], { axis: 0 });
  const cellInt = g.constant('cell', 'int64', [], [cell]);
  const ends = g.op('Mul', [g.op('Div', [sizes, cellInt]), cellInt]);
  const zeros2 = ints('zeros2', [0, 0]);
  const axesHW = ints('axes_hw', [2, 3]);
  const crop = (x: string): string => g.op('Cast', [g.op('Slice', [x, zeros2, ends, axesHW])], { to: 1 /* FLOAT */ });
  const x = crop(frames);
  const prev = crop(previous);

  const slice = (v: string, start: number, end: number, axis: number, step = 1): string =>
    g.op('Slice', [v, ints('s', [start]), ints('e', [end]), ints('a', [axis]), ints('st', [step])]);
  const BIG = 1 << 30;
  // |x_j - x_{j-1}| along an axis, padded with a zero at index 0 so index j is the step INTO pixel j.
  const step = (axis: 2 | 3): string => {
    const d = g.op('Abs', [g.op('Sub', [slice(x, 1, BIG, axis), slice(x, 0, -1, axis)])]);
    const pads = axis === 3 ? [0, 0, 0, 1, 0, 0, 0, 0] : [0, 0, 1, 0, 0, 0, 0, 0];
    return g.op('Pad', [d, ints('pads', pads)]);
  };
  const gx = step(3);
  const gy = step(2);

  const avgPool = (v: string, kernel: [number, number]): string =>
    g.op('AveragePool', [v], { kernel_shape: kernel, strides: kernel });
  const minPool = (v: string, kernel: [number, number]): string =>
    g.op('Neg', [g.op('MaxPool', [g.op('Neg', [v])], { kernel_shape: kernel, strides: kernel })]);
  // Steps along one line of every cell: column (or row) `offset` of each cell, pooled over the cell's length.
  const lineH = (offset: number, pool: typeof avgPool): string => pool(slice(gx, offset, BIG, 3, cell), [cell, 1]);
  const lineV = (offset: number, pool: typeof avgPool): string => pool(slice(gy, offset, BIG, 2, cell), [1, cell]);

  const half = float('half', 0.5);
  const local = [
    lineH(0, avgPool),
    lineV(0, avgPool),
    lineH(0, minPool),
    lineV(0, minPool),
    g.op('Mul', [avgPool(g.op('Add', [gx, gy]), [cell, cell]), half]),
    lineH(cell / 2, avgPool),
    lineV(cell / 2, avgPool),
    avgPool(g.op('Abs', [g.op('Sub', [x, prev])]), [cell, cell]),
    g.op('Div', [avgPool(x, [cell, cell]), float('luma_scale', 16)]),
  ];
  const compressed = local.map((m) => g.op('Log', [g.op('Add', [m, float('one', 1)])]));
  const around = compressed
    .slice(0, CONTEXT_MEASURES)
    .map((m) =>
      g.op('AveragePool', [m], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], count_include_pad: 0 }),
    );
  const like = g.op('Shape', [compressed[0] ?? '']);
  const frameWide = FRAME_MEASURES.map((i) =>
    g.op('Expand', [g.op('ReduceMean', [compressed[i] ?? ''], { axes: [2, 3], keepdims: 1 }), like]),
  );
  const features = g.op(
    'Concat',
    [...compressed, ...around, ...frameWide],
    { axis: 1 },
    weights ? undefined : FEATURES_OUTPUT,
  );
  if (!weights) {
    g.output(FEATURES_OUTPUT, 'float32', ['batch', FEATURE_COUNT, 'rows', 'cols']);
    return g.toBytes(CORRUPTION_GRAPH_OPSET);
  }

  const inputs = inputCount(weights.patch);
  const firstInputs = weights.members.map((layers) => layers[0]?.inputs);
  if (firstInputs.some((n) => n !== inputs)) {
    throw new Error(`corruption model: first layers take ${firstInputs.join(', ')} inputs, ${inputs} expected`);
  }
  if (weights.featureMean.length !== inputs || weights.featureStd.length !== inputs) {
    throw new Error(
      `corruption model: ${weights.featureMean.length} means and ${weights.featureStd.length} deviations for ${inputs} inputs`,
    );
  }
  const perChannel = (name: string, values: number[]): string =>
    g.constant(name, 'float32', [1, values.length, 1, 1], values);
  const handFrom = inputs - FEATURE_COUNT;
  const standard = g.op('Div', [
    g.op('Sub', [features, perChannel('feature_mean', weights.featureMean.slice(handFrom))]),
    perChannel('feature_std', weights.featureStd.slice(handFrom)),
  ]);
  const patch = weights.patch ? patchWindows(g, x, prev, weights.patch) : undefined;
  const logits = weights.members.map((layers, m) => {
    let h = standard;
    layers.forEach((layer, i) => {
      const dense = (): string => {
        const w = g.constant(`m${m}_w${i}`, 'float32', [layer.outputs, layer.inputs, 1, 1], layer.weights);
        const b = g.constant(`m${m}_b${i}`, 'float32', [layer.outputs], layer.biases);
        return g.op('Conv', [h, w, b], { kernel_shape: [1, 1] });
      };
      const conv = i === 0 && patch ? firstLayerOverPatch(g, `m${m}`, layer, weights, patch, standard) : dense();
      h = i === layers.length - 1 ? conv : g.op('Relu', [conv]);
    });
    return h;
  });
  if (logits.length === 0) throw new Error('corruption model: no MLP in the weights');
  g.op('Sigmoid', [logits.length === 1 ? (logits[0] ?? '') : g.op('Mean', logits)], {}, CORRUPTION_OUTPUT);
  g.output(CORRUPTION_OUTPUT, 'float32', ['batch', 1, 'rows', 'cols']);
  return g.toBytes(CORRUPTION_GRAPH_OPSET);
}

/** The windows' pixels as the first layer takes them, before its weights: see PatchInput. */
interface PatchWindows {
  /** float32 [batch, 2, H + kernel - cell, W + kernel - cell]: luma and its change, edge-padded. */
  pixels: string;
  /** Per cell [batch, 1, rows, cols]: the window's luma mean, and its standard deviation plus the floor. */
  mean: string;
  scale: string;
  kernel: number;
}

function patchWindows(g: GraphBuilder, x: string, prev: string, patch: PatchInput): PatchWindows {
  checkPatch(patch);
  const { kernel, contrastFloor } = patch;
  const margin = (kernel - CORRUPTION_CELL) / 2;
  const pads = g.constant('patch_pads', 'int64', [8], [0, 0, margin, margin, 0, 0, margin, margin]);
  const edge = (v: string): string => g.op('Pad', [v, pads], { mode: 'edge' });
  // Luma about mid-grey: the variance below is E[v^2] - E[v]^2 in float32, four times as exact
  // on values within +/-128 as on 0..255 (the mean is taken off after the convolution anyway).
  const luma = edge(g.op('Sub', [x, g.constant('mid_grey', 'float32', [], [128])]));
  const pixels = g.op('Concat', [luma, edge(g.op('Sub', [x, prev]))], { axis: 1 });
  const pool = (v: string): string =>
    g.op('AveragePool', [v], { kernel_shape: [kernel, kernel], strides: [CORRUPTION_CELL, CORRUPTION_CELL] });
  const mean = pool(luma);
  const variance = g.op('Relu', [g.op('Sub', [pool(g.op('Mul', [luma, luma])), g.op('Mul', [mean, mean])])]);
  const floor = g.constant('contrast_floor', 'float32', [], [contrastFloor]);
  return { pixels, mean, scale: g.op('Add', [g.op('Sqrt', [variance]), floor]), kernel };
}

/**
 * A first layer over [patch pixels, measures] as one strided convolution plus a 1x1 one. With
 * standardisation folded into the weights (v = W / std, bias b - sum W mean / std), a unit's
 * input over a window is (conv(pixels, v) - mean * sum(v over luma)) / scale: the window mean
 * comes off after the convolution, so no window is ever cut out.
 */
function firstLayerOverPatch(
  g: GraphBuilder,
  member: string,
  layer: DenseLayer,
  weights: CorruptionWeights,
  windows: PatchWindows,
  standard: string,
): string {
  const { kernel } = windows;
  const pixels = 2 * kernel * kernel;
  const { inputs, outputs } = layer;
  const folded = new Float64Array(outputs * pixels);
  const lumaSums = new Float64Array(outputs);
  const handWeights: number[] = [];
  const biases: number[] = [];
  for (let o = 0; o < outputs; o++) {
    let bias = layer.biases[o] ?? 0;
    for (let i = 0; i < pixels; i++) {
      const std = weights.featureStd[i] ?? 1;
      const w = layer.weights[o * inputs + i] ?? 0;
      folded[o * pixels + i] = w / std;
      if (i < kernel * kernel) lumaSums[o] = (lumaSums[o] ?? 0) + w / std;
      bias -= (w * (weights.featureMean[i] ?? 0)) / std;
    }
    for (let i = pixels; i < inputs; i++) handWeights.push(layer.weights[o * inputs + i] ?? 0);
    biases.push(bias);
  }
  const c = (name: string, dims: number[], values: ArrayLike<number>): string =>
    g.constant(`${member}_${name}`, 'float32', dims, values);
  const conv = g.op('Conv', [windows.pixels, c('patch_w', [outputs, 2, kernel, kernel], folded)], {
    kernel_shape: [kernel, kernel],
    strides: [CORRUPTION_CELL, CORRUPTION_CELL],
  });
  const centred = g.op('Sub', [conv, g.op('Mul', [windows.mean, c('luma_sums', [1, outputs, 1, 1], lumaSums)])]);
  const hand = g.op(
    'Conv',
    [standard, c('hand_w', [outputs, FEATURE_COUNT, 1, 1], handWeights), c('b', [outputs], biases)],
    {
      kernel_shape: [1, 1],
    },
  );
  return g.op('Add', [g.op('Div', [centred, windows.scale]), hand]);
}
