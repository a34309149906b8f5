/**
 * The per-frame video features every detector works from, and the interface both
 * backends (the CPU kernel and the ONNX graph) implement. The definitions here are the
 * contract the backends must agree on; the agreement test compares them on real frames.
 */

/** One luma plane at analysis resolution (8-bit, row-major, no padding). */
export interface LumaFrame {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Where the coding-block grid falls in the analysis plane: every `period` pixels from 0. */
export interface FeatureGeometry {
  readonly width: number;
  readonly height: number;
  /** Luma at or below this value (0..255) counts as a dark pixel. */
  readonly darkThreshold: number;
  /** Block-grid period in analysis pixels (8 x 8 transform blocks after decimation), >= 2. */
  readonly blockPeriod: number;
}

export interface VideoFeatures {
  /** Mean luma, 0..255. */
  meanLuma: number;
  /** Share of pixels with luma <= darkThreshold, 0..1. */
  darkRatio: number;
  /** Mean absolute difference to the previous frame, 0..255; NaN on the first frame. */
  diff: number;
  /** Detail: mean absolute 3x3 Laplacian (4c - n - s - e - w) over interior pixels. */
  detail: number;
  /**
   * Block-edge energy: mean absolute neighbour difference across block-grid boundaries
   * divided by the same mean inside blocks (horizontal and vertical pooled); 1 means no
   * grid structure. Interior pixels inside the picture window only (letterbox and pillarbox
   * bars left out: their edge is no block edge); +1 is added to both means to keep flat
   * pictures at 1, and a picture with no grid line inside its window reads 1.
   */
  blockiness: number;
  /**
   * Gradient: mean absolute difference to the left and upper neighbour (horizontal and vertical
   * pooled) over interior pixels. Blur judges how sharp edges are by detail / gradient: a
   * blurred edge loses more of its Laplacian than of its gradient, a picture with fewer edges
   * loses both alike. Absent where a feature source does not measure it.
   */
  gradient?: number;
}

/**
 * A feature extractor owns its buffers and the previous frame. `extract` returns one
 * result per frame, in order; implementations may batch internally but must be fed in
 * presentation order.
 */
export interface FeatureExtractor {
  readonly backend: string;
  extract(frames: readonly LumaFrame[]): Promise<VideoFeatures[]>;
  /** Forget the previous frame (a new segment after a reconnect or a format change). */
  reset(): void;
  close(): Promise<void>;
}
