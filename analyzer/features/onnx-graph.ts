/**
 * The ONNX form of `computeFeatures` (cpu.ts): one graph that turns a batch of luma planes
 * into the five `VideoFeatures`, so the same definitions run on a GPU through onnxruntime.
 *
 * Exactness is by construction, not by tolerance: every per-pixel map (luma, dark flag,
 * |difference|, |Laplacian|, |neighbour differences|) holds small integers, which float32
 * represents exactly; each map is first summed along one image axis in float32, where every
 * partial sum stays below 2^24 and is therefore still exact; the short per-column and per-row
 * sums are then cast to float64 and weighted by one constant 0/1 matrix that applies the
 * block-grid masks. The final divisions are the CPU backend's own, in float64, so both
 * backends produce the same numbers.
 */
import type { FeatureGeometry } from './types.js';
import { GraphBuilder, dataTypeOf } from './onnx-builder.js';

/** Opset 17: ReduceSum takes `axes` as an input (since 13); nothing here needs opset 18's reduce changes. */
export const FEATURE_GRAPH_OPSET = 17;

export const FEATURE_GRAPH_INPUTS = {
  /** uint8 [batch, 1, height, width]: the luma planes, in presentation order. */
  frames: 'frames',
  /** uint8 [1, 1, height, width]: the frame before the batch (any content when there is none). */
  previous: 'previous',
} as const;

/** Output names, one float64 [batch] tensor each, named as the `VideoFeatures` fields. */
export const FEATURE_GRAPH_OUTPUTS = ['meanLuma', 'darkRatio', 'diff', 'detail', 'blockiness', 'gradient'] as const;

/** Float32 column and row sums of |Laplacian| (<= 1020 each) stay exact up to this side: 1020 * 16384 < 2^24. */
const MAX_SIDE = 16384;

export function validateFeatureGeometry(g: FeatureGeometry): void {
  const side = (field: 'width' | 'height'): void => {
    const v = g[field];
    if (!Number.isInteger(v) || v < 3 || v > MAX_SIDE) {
      throw new Error(`geometry.${field}: ${v} is not an integer from 3 to ${MAX_SIDE}`);
    }
  };
  side('width');
  side('height');
  if (!Number.isInteger(g.darkThreshold) || g.darkThreshold < 0 || g.darkThreshold > 255) {
    throw new Error(`geometry.darkThreshold: ${g.darkThreshold} is not an integer from 0 to 255`);
  }
  if (!Number.isInteger(g.blockPeriod) || g.blockPeriod < 2) {
    throw new Error(`geometry.blockPeriod: ${g.blockPeriod} is not an integer >= 2`);
  }
}

/** Builds and serializes the feature graph for one geometry; the batch size stays dynamic. */
export function buildFeatureGraph(geometry: FeatureGeometry): Uint8Array {
  validateFeatureGeometry(geometry);
  const { width: w, height: h, blockPeriod: period } = geometry;
  const iw = w - 2;
  const ih = h - 2;
  const g = new GraphBuilder('streamqc_video_features');
  const FLOAT = dataTypeOf('float32');
  const DOUBLE = dataTypeOf('float64');

  const frames = g.input(FEATURE_GRAPH_INPUTS.frames, 'uint8', ['batch', 1, h, w]);
  const previous = g.input(FEATURE_GRAPH_INPUTS.previous, 'uint8', [1, 1, h, w]);
  const axes = (name: string, values: readonly number[]): string => g.constant(name, 'int64', [values.length], values);
  const axesHeight = axes('axes_h', [1, 2]);
  const axesWidth = axes('axes_w', [1, 3]);
  /** [B, 1, rows, cols] -> [B, cols]: sums down each column. */
  const columnSums = (map: string): string => g.op('ReduceSum', [map, axesHeight], { keepdims: 0 });
  /** [B, 1, rows, cols] -> [B, rows]: sums along each row. */
  const rowSums = (map: string): string => g.op('ReduceSum', [map, axesWidth], { keepdims: 0 });
  const slice = (x: string, starts: readonly number[], ends: readonly number[], sliceAxes: readonly number[]): string =>
    g.op('Slice', [x, axes('starts', starts), axes('ends', ends), axes('slice_axes', sliceAxes)]);

  const x = g.op('Cast', [frames], { to: FLOAT });
  const prev = g.op('Cast', [previous], { to: FLOAT });

  // Whole-plane maps: luma, dark flag, |difference to the frame before|.
  const darkLimit = g.constant('dark_limit', 'float32', [], [geometry.darkThreshold + 0.5]);
  const dark = g.op('Cast', [g.op('Less', [x, darkLimit])], { to: FLOAT });
  // Frame i's predecessor is frame i-1 of the batch, and `previous` for frame 0.
  const before = g.op('Concat', [prev, slice(x, [0], [-1], [0])], { axis: 0 });
  const absDiff = g.op('Abs', [g.op('Sub', [x, before])]);

  // Interior stencil maps, each [B, 1, h-2, w-2] at pixel (y+1, x+1), from shifted views of
  // the plane. Shifts rather than a Conv: measured faster on CPU, and Sub is exact on every
  // provider, where a GPU convolution may pick an inexact (FFT, Winograd) algorithm.
  const centre = slice(x, [1, 1], [h - 1, w - 1], [2, 3]);
  const north = slice(x, [0, 1], [h - 2, w - 1], [2, 3]);
  const south = slice(x, [2, 1], [h, w - 1], [2, 3]);
  const west = slice(x, [1, 0], [h - 1, w - 2], [2, 3]);
  const east = slice(x, [1, 2], [h - 1, w], [2, 3]);
  const dh = g.op('Sub', [centre, west]);
  const dv = g.op('Sub', [centre, north]);
  // 4c - n - s - w - e = (c - w) + (c - n) + (2c - s - e)
  const rest = g.op('Sub', [g.op('Sub', [g.op('Add', [centre, centre]), south]), east]);
  const lapAbs = g.op('Abs', [g.op('Add', [g.op('Add', [dh, dv]), rest])]);
  const dhAbs = g.op('Abs', [dh]);
  const dvAbs = g.op('Abs', [dv]);

  // Block-grid masks as in cpu.ts: interior index j is pixel j + 1, and a column (row) at a
  // multiple of the period starts a new block, so its difference to the left (above) is an edge.
  const onGridLine = (j: number): boolean => (j + 1) % period === 0;
  let edgeCount = 0;
  for (let j = 0; j < iw; j++) if (onGridLine(j)) edgeCount += ih;
  for (let j = 0; j < ih; j++) if (onGridLine(j)) edgeCount += iw;
  const innerCount = 2 * iw * ih - edgeCount;

  // Totals, each a 0/1-weighted sum of the per-column and per-row sums below.
  const [LUMA, DARK, DIFF, LAPLACIAN, EDGE, INNER, GRADIENT] = [0, 1, 2, 3, 4, 5, 6];
  const TOTALS = 7;
  // With no grid line inside the picture the CPU reports 1; counting every difference as
  // both "edge" and "inner" gives (m + 1) / (m + 1) = 1 without a special case in the graph.
  const noGrid = edgeCount === 0;
  const neighbourTotals = (j: number): number[] =>
    onGridLine(j) ? [EDGE, GRADIENT] : noGrid ? [EDGE, INNER, GRADIENT] : [INNER, GRADIENT];
  const segments: { sums: string; length: number; totals: (j: number) => number[] }[] = [
    { sums: columnSums(x), length: w, totals: () => [LUMA] },
    { sums: columnSums(dark), length: w, totals: () => [DARK] },
    { sums: columnSums(absDiff), length: w, totals: () => [DIFF] },
    { sums: columnSums(lapAbs), length: iw, totals: () => [LAPLACIAN] },
    // Horizontal differences are edges by column, vertical ones by row.
    { sums: columnSums(dhAbs), length: iw, totals: neighbourTotals },
    { sums: rowSums(dvAbs), length: ih, totals: neighbourTotals },
  ];
  const k = segments.reduce((a, s) => a + s.length, 0);
  const weights = new Float64Array(k * TOTALS);
  let row = 0;
  for (const segment of segments) {
    for (let j = 0; j < segment.length; j++, row++) {
      for (const total of segment.totals(j)) weights[row * TOTALS + total] = 1;
    }
  }
  const all = g.op(
    'Cast',
    [
      g.op(
        'Concat',
        segments.map((s) => s.sums),
        { axis: 1 },
      ),
    ],
    { to: DOUBLE },
  );
  const totals = g.op('MatMul', [all, g.constant('totals_weights', 'float64', [k, TOTALS], weights)]);

  const n = w * h;
  const divisors = [n, n, n, iw * ih, noGrid ? innerCount : edgeCount, innerCount, 2 * iw * ih];
  const means = g.op('Div', [totals, g.constant('totals_divisors', 'float64', [TOTALS], divisors)]);
  const column = (c: number, name?: string): string =>
    g.op('Gather', [means, g.constant('column', 'int64', [], [c])], { axis: 1 }, name);
  const [meanLuma, darkRatio, diff, detail, blockiness, gradient] = FEATURE_GRAPH_OUTPUTS;
  column(LUMA, meanLuma);
  column(DARK, darkRatio);
  column(DIFF, diff);
  column(LAPLACIAN, detail);
  const one = g.constant('one', 'float64', [], [1]);
  const edgeMeanPlusOne = g.op('Add', [column(EDGE), one]);
  const innerMeanPlusOne = g.op('Add', [column(INNER), one]);
  g.op('Div', [edgeMeanPlusOne, innerMeanPlusOne], {}, blockiness);
  column(GRADIENT, gradient);
  for (const name of FEATURE_GRAPH_OUTPUTS) g.output(name, 'float64', ['batch']);
  return g.toBytes(FEATURE_GRAPH_OPSET);
}
