/**
 * The ONNX form of `computeFeatures` (cpu.ts): one graph that turns a batch of luma planes
 * into the five `VideoFeatures`, so the same definitions run on a GPU through onnxruntime.
 *
 * Exactness is by construction, not by tolerance: every per-pixel map (luma, dark flag,
 * |difference|, |Laplacian|, |neighbour differences|) holds small integers, which float32
 * represents exactly; each map is first summed along one image axis in float32, where every
 * partial sum stays below 2^24 and is therefore still exact; the short per-column and per-row
 * sums are then cast to float64 and weighted by one constant 0/1 matrix that applies the
 * block-grid masks. The picture window (bars left out of blockiness) is a 0/1 mask per row and
 * column, from cumulative sums of bright-column and bright-row flags, multiplied into the
 * neighbour differences before they are summed: the sums stay sums of small integers. The
 * final divisions are the CPU backend's own, in float64, so both backends produce the same
 * numbers.
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

  // The picture window (cpu.ts, pictureWindow): a column (row) is inside when some column
  // (row) at or before it and some at or after it hold a pixel above the dark threshold.
  const bright = (maxima: string): string => g.op('Cast', [g.op('Greater', [maxima, darkLimit])], { to: FLOAT });
  const inside = (flags: string): string => {
    const axis = g.constant('cumsum_axis', 'int64', [], [1]);
    const zero = g.constant('zero', 'float32', [], [0]);
    const before = g.op('Greater', [g.op('CumSum', [flags, axis]), zero]);
    const after = g.op('Greater', [g.op('CumSum', [flags, axis], { reverse: 1 }), zero]);
    return g.op('Cast', [g.op('And', [before, after])], { to: FLOAT });
  };
  const colIn = inside(bright(g.op('ReduceMax', [x], { axes: [1, 2], keepdims: 0 }))); // [B, w]
  const rowIn = inside(bright(g.op('ReduceMax', [x], { axes: [1, 3], keepdims: 0 }))); // [B, h]
  const part = (v: string, from: number, to: number): string => slice(v, [from], [to], [1]);
  const unsqueeze = (v: string, dims: readonly number[]): string => g.op('Unsqueeze', [v, axes('unsqueeze', dims)]);
  // A horizontal difference at interior (y, j) joins columns j and j + 1 in row y + 1; a
  // vertical one joins rows y and y + 1 in column j + 1. Each counts for blockiness when both
  // pixels are inside the window.
  const hRowIn = part(rowIn, 1, h - 1); // [B, ih]
  const hColIn = g.op('Mul', [part(colIn, 0, w - 2), part(colIn, 1, w - 1)]); // [B, iw]
  const vColIn = part(colIn, 1, w - 1); // [B, iw]
  const vRowIn = g.op('Mul', [part(rowIn, 0, h - 2), part(rowIn, 1, h - 1)]); // [B, ih]
  const dhInside = g.op('Mul', [columnSums(g.op('Mul', [dhAbs, unsqueeze(hRowIn, [1, 3])])), hColIn]);
  const dvInside = g.op('Mul', [rowSums(g.op('Mul', [dvAbs, unsqueeze(vColIn, [1, 2])])), vRowIn]);

  // Block-grid masks as in cpu.ts: interior index j is pixel j + 1, and a column (row) at a
  // multiple of the period starts a new block, so its difference to the left (above) is an edge.
  const onGridLine = (j: number): boolean => (j + 1) % period === 0;

  // Totals, each a 0/1-weighted sum of the per-column and per-row sums below: the sums of
  // differences on and off the grid inside the window, and how many grid and other columns
  // (rows) of the window carry horizontal (vertical) differences.
  const [LUMA, DARK, DIFF, LAPLACIAN, GRADIENT, EDGE, INNER, EDGE_COLS, INNER_COLS, EDGE_ROWS, INNER_ROWS] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
  ];
  const TOTALS = 11;
  const byGrid =
    (edge: number, other: number) =>
    (j: number): number[] => [onGridLine(j) ? edge : other];
  const segments: { sums: string; length: number; totals: (j: number) => number[] }[] = [
    { sums: columnSums(x), length: w, totals: () => [LUMA] },
    { sums: columnSums(dark), length: w, totals: () => [DARK] },
    { sums: columnSums(absDiff), length: w, totals: () => [DIFF] },
    { sums: columnSums(lapAbs), length: iw, totals: () => [LAPLACIAN] },
    { sums: columnSums(dhAbs), length: iw, totals: () => [GRADIENT] },
    { sums: rowSums(dvAbs), length: ih, totals: () => [GRADIENT] },
    // Horizontal differences are edges by column, vertical ones by row.
    { sums: dhInside, length: iw, totals: byGrid(EDGE, INNER) },
    { sums: dvInside, length: ih, totals: byGrid(EDGE, INNER) },
    { sums: hColIn, length: iw, totals: byGrid(EDGE_COLS, INNER_COLS) },
    { sums: vRowIn, length: ih, totals: byGrid(EDGE_ROWS, INNER_ROWS) },
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
  const column = (c: number, name?: string): string =>
    g.op('Gather', [totals, g.constant('column', 'int64', [], [c])], { axis: 1 }, name);
  const n = w * h;
  const mean = (c: number, divisor: number, name: string): string =>
    g.op('Div', [column(c), g.constant('divisor', 'float64', [], [divisor])], {}, name);
  const [meanLuma, darkRatio, diff, detail, blockiness, gradient] = FEATURE_GRAPH_OUTPUTS;
  mean(LUMA, n, meanLuma);
  mean(DARK, n, darkRatio);
  mean(DIFF, n, diff);
  mean(LAPLACIAN, iw * ih, detail);
  mean(GRADIENT, 2 * iw * ih, gradient);

  // Differences counted: grid (other) columns times the rows carrying horizontal differences,
  // plus grid (other) rows times the columns carrying vertical ones.
  const hRows = g.op('Cast', [g.op('ReduceSum', [hRowIn, axes('axes_rows', [1])], { keepdims: 0 })], { to: DOUBLE });
  const vCols = g.op('Cast', [g.op('ReduceSum', [vColIn, axes('axes_cols', [1])], { keepdims: 0 })], { to: DOUBLE });
  const count = (cols: number, rows: number): string =>
    g.op('Add', [g.op('Mul', [column(cols), hRows]), g.op('Mul', [column(rows), vCols])]);
  const edgeCount = count(EDGE_COLS, EDGE_ROWS);
  const innerCount = count(INNER_COLS, INNER_ROWS);
  const one = g.constant('one', 'float64', [], [1]);
  const zero = g.constant('zero', 'float64', [], [0]);
  const ratio = g.op('Div', [
    g.op('Add', [g.op('Div', [column(EDGE), edgeCount]), one]),
    g.op('Add', [g.op('Div', [column(INNER), innerCount]), one]),
  ]);
  // With no grid line (or no difference at all) inside the window the CPU reports 1.
  const judged = g.op('And', [g.op('Greater', [edgeCount, zero]), g.op('Greater', [innerCount, zero])]);
  g.op('Where', [judged, ratio, one], {}, blockiness);
  for (const name of FEATURE_GRAPH_OUTPUTS) g.output(name, 'float64', ['batch']);
  return g.toBytes(FEATURE_GRAPH_OPSET);
}
