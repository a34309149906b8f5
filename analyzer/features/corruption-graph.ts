/**
 * The corruption model as one ONNX graph: a luma plane and the frame before it in, a map of
 * per-cell corruption probabilities out. Corruption baked in upstream (concealed macroblocks,
 * re-encoded cleanly) decodes without an error, so it has to be seen in the picture: a cell
 * of CORRUPTION_CELL x CORRUPTION_CELL analysis pixels is described by hand-made measures
 * (steps straight along its block boundaries against the gradient inside it, its change from
 * the frame before, the same measures around it and over the whole frame) and a small MLP,
 * written as 1x1 convolutions, turns them into a probability.
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
 * What training produces: feature standardisation and one or more MLPs (ReLU between layers),
 * trained from different seeds; their logits are averaged, then a sigmoid. One MLP alone moved
 * with its initial weights (recall on validation origins between 0 and 0.76), the average of a
 * few much less.
 */
export interface CorruptionWeights {
  featureMean: number[];
  featureStd: number[];
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

  const perChannel = (name: string, values: number[]): string =>
    g.constant(name, 'float32', [1, values.length, 1, 1], values);
  const standard = g.op('Div', [
    g.op('Sub', [features, perChannel('feature_mean', weights.featureMean)]),
    perChannel('feature_std', weights.featureStd),
  ]);
  const logits = weights.members.map((layers, m) => {
    let h = standard;
    layers.forEach((layer, i) => {
      const w = g.constant(`m${m}_w${i}`, 'float32', [layer.outputs, layer.inputs, 1, 1], layer.weights);
      const b = g.constant(`m${m}_b${i}`, 'float32', [layer.outputs], layer.biases);
      const conv = g.op('Conv', [h, w, b], { kernel_shape: [1, 1] });
      h = i === layers.length - 1 ? conv : g.op('Relu', [conv]);
    });
    return h;
  });
  if (logits.length === 0) throw new Error('corruption model: no MLP in the weights');
  g.op('Sigmoid', [logits.length === 1 ? (logits[0] ?? '') : g.op('Mean', logits)], {}, CORRUPTION_OUTPUT);
  g.output(CORRUPTION_OUTPUT, 'float32', ['batch', 1, 'rows', 'cols']);
  return g.toBytes(CORRUPTION_GRAPH_OPSET);
}
