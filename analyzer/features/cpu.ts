/**
 * The CPU backend: one pass of plain loops over the analysis plane. Measured faster than
 * the ONNX graph on CPU for these few cheap kernels (see the analyzer benchmark), so it is
 * the default whenever no GPU is given.
 */
import type { FeatureExtractor, FeatureGeometry, LumaFrame, VideoFeatures } from './types.js';

export function computeFeatures(
  frame: LumaFrame,
  previous: Uint8Array | null,
  geometry: FeatureGeometry,
  isEdgeColumn: Uint8Array,
): VideoFeatures {
  const { width: w, height: h, data } = frame;
  const n = w * h;
  const dark = geometry.darkThreshold;

  // Whole-plane statistics: mean, dark share and the difference to the previous frame.
  let sum = 0;
  let darkCount = 0;
  let diffSum = 0;
  if (previous) {
    for (let i = 0; i < n; i++) {
      const v = data[i];
      sum += v;
      if (v <= dark) darkCount++;
      const d = v - previous[i];
      diffSum += d < 0 ? -d : d;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = data[i];
      sum += v;
      if (v <= dark) darkCount++;
    }
  }

  // Interior stencil: Laplacian detail and block-grid edge energy.
  const period = geometry.blockPeriod;
  let lapSum = 0;
  let edgeSum = 0;
  let edgeCount = 0;
  let innerSum = 0;
  let innerCount = 0;
  for (let y = 1; y < h - 1; y++) {
    const row = y * w;
    const rowIsEdge = y % period === 0;
    let rowEdge = 0;
    let rowInner = 0;
    let rowEdgeCols = 0;
    for (let x = 1; x < w - 1; x++) {
      const i = row + x;
      const c = data[i];
      const west = data[i - 1];
      const north = data[i - w];
      const lap = 4 * c - west - data[i + 1] - north - data[i + w];
      lapSum += lap < 0 ? -lap : lap;
      let dh = c - west;
      if (dh < 0) dh = -dh;
      let dv = c - north;
      if (dv < 0) dv = -dv;
      if (isEdgeColumn[x] === 1) {
        rowEdge += dh;
        rowEdgeCols++;
      } else {
        rowInner += dh;
      }
      if (rowIsEdge) rowEdge += dv;
      else rowInner += dv;
    }
    const cols = w - 2;
    edgeSum += rowEdge;
    innerSum += rowInner;
    edgeCount += rowEdgeCols + (rowIsEdge ? cols : 0);
    innerCount += cols - rowEdgeCols + (rowIsEdge ? 0 : cols);
  }
  const interior = (w - 2) * (h - 2);
  return {
    meanLuma: sum / n,
    darkRatio: darkCount / n,
    diff: previous ? diffSum / n : Number.NaN,
    detail: interior > 0 ? lapSum / interior : 0,
    blockiness:
      edgeCount > 0 && innerCount > 0 ? (edgeSum / edgeCount + 1) / (innerSum / innerCount + 1) : 1,
  };
}

/** Marks the columns x (1..w-2) whose left neighbour lies in the previous block. */
export function edgeColumns(width: number, period: number): Uint8Array {
  const cols = new Uint8Array(width);
  for (let x = 0; x < width; x++) cols[x] = x % period === 0 ? 1 : 0;
  return cols;
}

export class CpuFeatureExtractor implements FeatureExtractor {
  readonly backend = 'cpu';
  private previous: Uint8Array;
  private hasPrevious = false;
  private readonly edgeCols: Uint8Array;

  constructor(private readonly geometry: FeatureGeometry) {
    this.previous = new Uint8Array(geometry.width * geometry.height);
    this.edgeCols = edgeColumns(geometry.width, geometry.blockPeriod);
  }

  extractOne(frame: LumaFrame): VideoFeatures {
    const features = computeFeatures(frame, this.hasPrevious ? this.previous : null, this.geometry, this.edgeCols);
    this.previous.set(frame.data);
    this.hasPrevious = true;
    return features;
  }

  async extract(frames: readonly LumaFrame[]): Promise<VideoFeatures[]> {
    return frames.map((f) => this.extractOne(f));
  }

  reset(): void {
    this.hasPrevious = false;
  }

  async close(): Promise<void> {}
}
