/**
 * The `corruption` signal: the share of the picture that the shipped corruption model
 * (corruption-graph.ts, weights in corruption-model.json, card in corruption-model.md) calls
 * corrupted. It sees what no decoder reports: damage concealed upstream and re-encoded cleanly.
 * Runs on onnxruntime, on CUDA when the analysis asked for a GPU, else on CPU.
 */
import * as ort from 'onnxruntime-node';
import model from './corruption-model.json' with { type: 'json' };
import { CORRUPTION_GRAPH_INPUTS, CORRUPTION_OUTPUT, buildCorruptionGraph } from './corruption-graph.js';
import { InOrder, openSession, type ExecutionProvider, type WarningLog } from './onnx-session.js';
import type { LumaFrame } from './types.js';

/** A cell counts as corrupted from this probability. */
export const CORRUPTED_CELL_PROBABILITY = 0.5;

export interface CorruptionMeterOptions {
  executionProvider: ExecutionProvider;
  threads: number;
  log: WarningLog;
}

/** One frame to judge and the frame before it (the frame itself when it is the first of a segment). */
export interface CorruptionInput {
  frame: LumaFrame;
  previous: Uint8Array;
}

export class CorruptionMeter {
  private readonly runs = new InOrder();

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly executionProvider: ExecutionProvider,
  ) {}

  static async create(options: CorruptionMeterOptions): Promise<CorruptionMeter> {
    const { session, executionProvider } = await openSession(buildCorruptionGraph(model), {
      ...options,
      purpose: 'corruption model',
    });
    return new CorruptionMeter(session, executionProvider);
  }

  /** Corrupted share of each frame's area, 0..1, in order. */
  area(inputs: readonly CorruptionInput[]): Promise<number[]> {
    return this.runs.run(() => this.areaInOrder(inputs));
  }

  async close(): Promise<void> {
    await this.runs.idle();
    await this.session.release();
  }

  private async areaInOrder(inputs: readonly CorruptionInput[]): Promise<number[]> {
    const first = inputs[0];
    if (!first) return [];
    const { width, height } = first.frame;
    const size = width * height;
    const frames = new Uint8Array(inputs.length * size);
    const previous = new Uint8Array(inputs.length * size);
    inputs.forEach((input, i) => {
      frames.set(input.frame.data, i * size);
      previous.set(input.previous, i * size);
    });
    const dims = [inputs.length, 1, height, width];
    const results = await this.session.run({
      [CORRUPTION_GRAPH_INPUTS.frames]: new ort.Tensor('uint8', frames, dims),
      [CORRUPTION_GRAPH_INPUTS.previous]: new ort.Tensor('uint8', previous, dims),
    });
    const map = results[CORRUPTION_OUTPUT];
    if (!map) throw new Error(`corruption model: output ${CORRUPTION_OUTPUT} is missing`);
    const probabilities = map.data as Float32Array;
    const cells = probabilities.length / inputs.length;
    return inputs.map((_, i) => {
      let corrupted = 0;
      for (let c = i * cells; c < (i + 1) * cells; c++) {
        if ((probabilities[c] ?? 0) >= CORRUPTED_CELL_PROBABILITY) corrupted++;
      }
      return cells === 0 ? 0 : corrupted / cells;
    });
  }
}
