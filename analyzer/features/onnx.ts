/**
 * The ONNX backend: the feature graph (onnx-graph.ts) run by onnxruntime on batches of
 * frames. Its reason to exist is the GPU: on CPU it costs about what the plain kernel
 * (cpu.ts) costs (test/bench/features.ts), so the CPU kernel stays the default there.
 */
import * as ort from 'onnxruntime-node';
import type { FeatureExtractor, FeatureGeometry, LumaFrame, VideoFeatures } from './types.js';
import { FEATURE_GRAPH_INPUTS, buildFeatureGraph } from './onnx-graph.js';
import { InOrder, numericOutput, openSession, type ExecutionProvider, type WarningLog } from './onnx-session.js';

export interface OnnxFeatureOptions {
  /** Requested provider; 'cuda' falls back to 'cpu' with a warning when CUDA cannot be loaded. */
  executionProvider: ExecutionProvider;
  threads: number;
  /** Frames per graph run; longer `extract` calls are split, a shorter tail runs as a smaller batch. */
  batchSize: number;
  log: WarningLog;
}

/** Checks that a frame is a plane of the geometry the graph was built for. */
export function checkFrame(frame: LumaFrame, geometry: FeatureGeometry, index: number): void {
  const { width, height } = geometry;
  if (frame.width !== width || frame.height !== height || frame.data.length !== width * height) {
    throw new Error(
      `frame ${index}: ${frame.width}x${frame.height} (${frame.data.length} bytes) does not match the feature geometry ${width}x${height}`,
    );
  }
}

/** A graph output, which holds one value per frame of the batch, as frame index -> value. */
function perFrameOutput(results: ort.InferenceSession.ReturnType, name: string): (frame: number) => number {
  const values = numericOutput(results, name);
  return (frame) => {
    const value = values[frame];
    if (value === undefined) {
      throw new Error(`onnx output ${name} has ${values.length} values, none for frame ${frame} of the batch`);
    }
    return value;
  };
}

export class OnnxFeatureExtractor implements FeatureExtractor {
  readonly backend = 'onnx';
  private readonly frameSize: number;
  /** One input buffer of `batchSize` frames; every batch size views a prefix of it. */
  private readonly batchData: Uint8Array;
  private readonly batchTensors = new Map<number, ort.Tensor>();
  private readonly previousData: Uint8Array;
  private readonly previousTensor: ort.Tensor;
  private hasPrevious = false;
  /** Overlapping `extract` calls still see their frames in order. */
  private readonly runs = new InOrder();

  private constructor(
    private readonly session: ort.InferenceSession,
    /** The provider actually in use (after any fallback): label metrics with this. */
    readonly executionProvider: ExecutionProvider,
    private readonly geometry: FeatureGeometry,
    private readonly batchSize: number,
  ) {
    this.frameSize = geometry.width * geometry.height;
    this.batchData = new Uint8Array(batchSize * this.frameSize);
    this.previousData = new Uint8Array(this.frameSize);
    this.previousTensor = new ort.Tensor('uint8', this.previousData, [1, 1, geometry.height, geometry.width]);
  }

  static async create(geometry: FeatureGeometry, options: OnnxFeatureOptions): Promise<OnnxFeatureExtractor> {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new Error(`batchSize: ${options.batchSize} is not an integer >= 1`);
    }
    const { session, executionProvider } = await openSession(buildFeatureGraph(geometry), {
      executionProvider: options.executionProvider,
      threads: options.threads,
      log: options.log,
      purpose: 'feature graph',
    });
    return new OnnxFeatureExtractor(session, executionProvider, geometry, options.batchSize);
  }

  extract(frames: readonly LumaFrame[]): Promise<VideoFeatures[]> {
    return this.runs.run(() => this.extractInOrder(frames));
  }

  reset(): void {
    this.hasPrevious = false;
  }

  async close(): Promise<void> {
    await this.runs.idle();
    await this.session.release();
  }

  private batchTensor(count: number): ort.Tensor {
    let tensor = this.batchTensors.get(count);
    if (tensor === undefined) {
      const { width, height } = this.geometry;
      tensor = new ort.Tensor('uint8', this.batchData.subarray(0, count * this.frameSize), [count, 1, height, width]);
      this.batchTensors.set(count, tensor);
    }
    return tensor;
  }

  private async extractInOrder(frames: readonly LumaFrame[]): Promise<VideoFeatures[]> {
    frames.forEach((frame, i) => checkFrame(frame, this.geometry, i));
    const features: VideoFeatures[] = [];
    for (let start = 0; start < frames.length; start += this.batchSize) {
      const count = Math.min(this.batchSize, frames.length - start);
      frames.slice(start, start + count).forEach((frame, i) => this.batchData.set(frame.data, i * this.frameSize));
      const results = await this.session.run({
        [FEATURE_GRAPH_INPUTS.frames]: this.batchTensor(count),
        [FEATURE_GRAPH_INPUTS.previous]: this.previousTensor,
      });
      const meanLuma = perFrameOutput(results, 'meanLuma');
      const darkRatio = perFrameOutput(results, 'darkRatio');
      const diff = perFrameOutput(results, 'diff');
      const detail = perFrameOutput(results, 'detail');
      const blockiness = perFrameOutput(results, 'blockiness');
      const gradient = perFrameOutput(results, 'gradient');
      for (let i = 0; i < count; i++) {
        features.push({
          meanLuma: meanLuma(i),
          darkRatio: darkRatio(i),
          // The graph always has a predecessor to compare with; the first frame of a segment has none.
          diff: i === 0 && !this.hasPrevious ? Number.NaN : diff(i),
          detail: detail(i),
          blockiness: blockiness(i),
          gradient: gradient(i),
        });
      }
      // The batch's last frame, as copied into the batch above, is the next batch's predecessor.
      this.previousData.set(this.batchData.subarray((count - 1) * this.frameSize, count * this.frameSize));
      this.hasPrevious = true;
    }
    return features;
  }
}
