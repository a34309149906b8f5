/**
 * User ONNX models: a model file, how to feed it the analysis luma plane, which output
 * value is the per-frame score, and the defect that score maps to. The config is checked
 * twice: its fields here (every error names the field, the value and what is allowed), and
 * against the model itself when it is loaded (missing file, not ONNX, unknown input or
 * output, a shape that contradicts the config).
 */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { LumaFrame } from './types.js';
import { showValue } from '../options.js';
import {
  resolveCustomModel,
  validateCustomModel,
  type InputLayout,
  type CustomModelConfig,
  type ResolvedCustomModelConfig,
} from './custom-model-config.js';
import { InOrder, numericOutput, openSession, type ExecutionProvider, type WarningLog } from './onnx-session.js';

/** Bilinear sampling positions (half-pixel centres) from one size to another, per axis. */
interface AxisSampling {
  lo: Int32Array;
  hi: Int32Array;
  frac: Float32Array;
}

function axisSampling(from: number, to: number): AxisSampling {
  const lo = new Int32Array(to);
  const hi = new Int32Array(to);
  const frac = new Float32Array(to);
  const ratio = from / to;
  for (let i = 0; i < to; i++) {
    const s = Math.min(Math.max((i + 0.5) * ratio - 0.5, 0), from - 1);
    const l = Math.floor(s);
    lo[i] = l;
    hi[i] = Math.min(l + 1, from - 1);
    frac[i] = s - l;
  }
  return { lo, hi, frac };
}

/**
 * Writes one frame into the model input at `offset` (in floats): bilinear resize, then
 * value = (pixel * scale - mean) / std, replicated to every channel in the configured layout.
 */
class InputWriter {
  private readonly xs: AxisSampling;
  private readonly ys: AxisSampling;
  private readonly gain: number;
  private readonly bias: number;

  constructor(
    readonly sourceWidth: number,
    readonly sourceHeight: number,
    private readonly input: ResolvedCustomModelConfig['input'],
  ) {
    this.xs = axisSampling(sourceWidth, input.width);
    this.ys = axisSampling(sourceHeight, input.height);
    // Affine in the pixel value, so it commutes with the interpolation.
    this.gain = input.scale / input.std;
    this.bias = -input.mean / input.std;
  }

  write(frame: LumaFrame, target: Float32Array, offset: number): void {
    const { width: ow, height: oh, channels, layout } = this.input;
    const { lo: x0, hi: x1, frac: fx } = this.xs;
    const plane = ow * oh;
    const data = frame.data;
    const sw = this.sourceWidth;
    const gain = this.gain;
    const bias = this.bias;
    for (let y = 0; y < oh; y++) {
      const r0 = (this.ys.lo[y] ?? 0) * sw;
      const r1 = (this.ys.hi[y] ?? 0) * sw;
      const fy = this.ys.frac[y] ?? 0;
      for (let x = 0; x < ow; x++) {
        const left = x0[x] ?? 0;
        const right = x1[x] ?? 0;
        const f = fx[x] ?? 0;
        const a = data[r0 + left] ?? 0;
        const b = data[r0 + right] ?? 0;
        const c = data[r1 + left] ?? 0;
        const d = data[r1 + right] ?? 0;
        const top = a + (b - a) * f;
        const bottom = c + (d - c) * f;
        const v = (top + (bottom - top) * fy) * gain + bias;
        const p = y * ow + x;
        if (channels === 1) target[offset + p] = v;
        else if (layout === 'NCHW') {
          target[offset + p] = v;
          target[offset + plane + p] = v;
          target[offset + 2 * plane + p] = v;
        } else {
          const q = offset + p * 3;
          target[q] = v;
          target[q + 1] = v;
          target[q + 2] = v;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Loading and running

export interface CustomModelRunnerOptions {
  /** CPU unless the analyzer was given a GPU; 'cuda' falls back to CPU with a warning. */
  executionProvider?: ExecutionProvider;
  threads?: number;
  /** Frames per run when the model's batch dimension is dynamic. */
  batchSize?: number;
  log: WarningLog;
  /** Prefix of error messages, e.g. 'models[0]'; default `model "<name>"`. */
  field?: string;
}

type TensorMetadata = Extract<ort.InferenceSession.ValueMetadata, { isTensor: true }>;

function shapeText(shape: readonly (number | string)[]): string {
  return `[${shape.map((d) => (typeof d === 'number' ? String(d) : d || '?')).join(', ')}]`;
}

function tensorMetadata(
  all: readonly ort.InferenceSession.ValueMetadata[],
  wanted: string | undefined,
  kind: 'input' | 'output',
  field: string,
): TensorMetadata {
  const names = all.map((m) => m.name).join(', ');
  let meta: ort.InferenceSession.ValueMetadata | undefined;
  if (wanted !== undefined) {
    meta = all.find((m) => m.name === wanted);
    if (!meta)
      throw new Error(
        `${field}.${kind}.name: ${showValue(wanted)} is not an ${kind} of the model; its ${kind}s are: ${names}`,
      );
  } else if (kind === 'input' && all.length !== 1) {
    throw new Error(
      `${field}.input.name: missing, and the model has ${all.length} inputs (${names}); name the one to feed`,
    );
  } else {
    meta = all[0];
    if (!meta) throw new Error(`${field}.path: the model has no ${kind}s`);
  }
  if (!meta.isTensor) throw new Error(`${field}.${kind}.name: ${kind} ${showValue(meta.name)} is not a tensor`);
  return meta;
}

/** Checks the model's input against the config; returns the fixed batch size, or null if dynamic. */
function checkInput(meta: TensorMetadata, input: ResolvedCustomModelConfig['input'], field: string): number | null {
  if (meta.type !== 'float32') {
    throw new Error(
      `${field}.input.name: input ${showValue(meta.name)} has type ${meta.type}; only float32 inputs are supported`,
    );
  }
  const shape = meta.shape;
  if (shape.length === 0) return null; // no shape recorded in the model: nothing to contradict
  if (shape.length !== 4) {
    throw new Error(
      `${field}.input.layout: input ${showValue(meta.name)} has shape ${shapeText(shape)}; a 4-D ${input.layout} input [batch, ...] is expected`,
    );
  }
  const positionsOf = (layout: InputLayout): Record<'channels' | 'height' | 'width', number> =>
    layout === 'NCHW' ? { channels: 1, height: 2, width: 3 } : { height: 1, width: 2, channels: 3 };
  /** The first configured size that a fixed dimension of the model contradicts, under `layout`. */
  const conflict = (layout: InputLayout): { key: 'channels' | 'height' | 'width'; dim: number; at: number } | null => {
    const positions = positionsOf(layout);
    for (const key of ['channels', 'height', 'width'] as const) {
      const dim = shape[positions[key]];
      if (typeof dim === 'number' && dim >= 0 && dim !== input[key]) return { key, dim, at: positions[key] };
    }
    return null;
  };
  const found = conflict(input.layout);
  if (found !== null) {
    const other: InputLayout = input.layout === 'NCHW' ? 'NHWC' : 'NCHW';
    if (conflict(other) === null) {
      throw new Error(
        `${field}.input.layout: "${input.layout}" contradicts the model's input ${showValue(meta.name)} of shape ${shapeText(shape)}, which is ${other}`,
      );
    }
    throw new Error(
      `${field}.input.${found.key}: ${input[found.key]} contradicts the model's input ${showValue(meta.name)} of shape ${shapeText(shape)} ` +
        `(${input.layout}: ${found.key} is dimension ${found.at}, ${found.dim})`,
    );
  }
  const batch = shape[0];
  return typeof batch === 'number' && batch > 0 ? batch : null;
}

/** Checks the score output's type, and `index` against the values per frame when the model fixes them (else at run time). */
function checkOutput(meta: TensorMetadata, output: ResolvedCustomModelConfig['output'], field: string): void {
  const numeric = ['float32', 'float64', 'int32', 'int8', 'uint8', 'int16', 'uint16'];
  if (!numeric.includes(meta.type)) {
    throw new Error(
      `${field}.output.name: output ${showValue(meta.name)} has type ${meta.type}; a number type is expected`,
    );
  }
  const rest = meta.shape.slice(1);
  if (meta.shape.length === 0 || !rest.every((d): d is number => typeof d === 'number' && d >= 0)) return;
  const perFrame = rest.reduce((a, b) => a * b, 1);
  if (output.index >= perFrame) {
    throw new Error(
      `${field}.output.index: ${output.index} is outside the model's output ${showValue(meta.name)} of shape ${shapeText(meta.shape)} ` +
        `(${perFrame} value${perFrame === 1 ? '' : 's'} per frame, so 0 to ${perFrame - 1})`,
    );
  }
}

export class CustomModelRunner {
  private readonly frameSize: number;
  private readonly inputData: Float32Array;
  private readonly inputTensors = new Map<number, ort.Tensor>();
  private writer: InputWriter | null = null;
  private readonly runs = new InOrder();

  private constructor(
    readonly config: ResolvedCustomModelConfig,
    private readonly session: ort.InferenceSession,
    /** The provider actually in use (after any fallback). */
    readonly executionProvider: ExecutionProvider,
    private readonly inputName: string,
    private readonly outputName: string,
    /** Frames per run; a model with a fixed batch always gets exactly that many. */
    private readonly runBatch: number,
    private readonly fixedBatch: boolean,
    private readonly field: string,
  ) {
    const { width, height, channels } = config.input;
    this.frameSize = width * height * channels;
    this.inputData = new Float32Array(runBatch * this.frameSize);
  }

  static async load(config: CustomModelConfig, options: CustomModelRunnerOptions): Promise<CustomModelRunner> {
    const field = options.field ?? `model ${showValue(config.name)}`;
    const errors = validateCustomModel(config, field);
    if (errors.length > 0) throw new Error(errors.join('\n'));
    const resolved = resolveCustomModel(config);
    const batchSize = options.batchSize ?? 8;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new Error(`batchSize: ${batchSize} is not an integer >= 1`);

    let bytes: Uint8Array;
    try {
      bytes = await readFile(resolved.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(err)})`;
      throw new Error(`${field}.path: ${showValue(resolved.path)} ${why}`, { cause: err });
    }
    const { session, executionProvider } = await openSession(bytes, {
      executionProvider: options.executionProvider ?? 'cpu',
      threads: options.threads ?? 1,
      log: options.log,
      purpose: `model ${showValue(resolved.name)}`,
    }).catch((err: unknown) => {
      const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      throw new Error(
        `${field}.path: ${showValue(resolved.path)} is not an ONNX model onnxruntime can load (${reason})`,
      );
    });
    try {
      const input = tensorMetadata(session.inputMetadata, resolved.input.name, 'input', field);
      const output = tensorMetadata(session.outputMetadata, resolved.output.name, 'output', field);
      const fixed = checkInput(input, resolved.input, field);
      checkOutput(output, resolved.output, field);
      return new CustomModelRunner(
        resolved,
        session,
        executionProvider,
        input.name,
        output.name,
        fixed ?? batchSize,
        fixed !== null,
        field,
      );
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  /** One score per frame, in order. Frames may be any size; they are resized to the model input. */
  score(frames: readonly LumaFrame[]): Promise<number[]> {
    return this.runs.run(() => this.scoreInOrder(frames));
  }

  async close(): Promise<void> {
    await this.runs.idle();
    await this.session.release();
  }

  private async scoreInOrder(frames: readonly LumaFrame[]): Promise<number[]> {
    const scores: number[] = [];
    for (let start = 0; start < frames.length; start += this.runBatch) {
      const count = Math.min(this.runBatch, frames.length - start);
      for (const [i, frame] of frames.slice(start, start + count).entries()) {
        this.writerFor(frame).write(frame, this.inputData, i * this.frameSize);
      }
      // A fixed-batch model always gets its full batch; the unused tail keeps stale frames.
      const fed = this.fixedBatch ? this.runBatch : count;
      const results = await this.session.run({ [this.inputName]: this.inputTensor(fed) });
      const values = numericOutput(results, this.outputName);
      const perFrame = values.length / fed;
      const { index } = this.config.output;
      if (!Number.isInteger(perFrame) || index >= perFrame) {
        throw new Error(
          `${this.field}.output.index: ${index} is outside the model's output ${showValue(this.outputName)} ` +
            `(${values.length} values for a batch of ${fed})`,
        );
      }
      for (let i = 0; i < count; i++) scores.push(Number(values[i * perFrame + index]));
    }
    return scores;
  }

  private writerFor(frame: LumaFrame): InputWriter {
    if (frame.data.length !== frame.width * frame.height) {
      throw new Error(`frame: ${frame.width}x${frame.height} with ${frame.data.length} bytes is not one luma plane`);
    }
    // Sampling tables depend only on the source size, which changes only with the stream's format.
    if (this.writer?.sourceWidth !== frame.width || this.writer.sourceHeight !== frame.height) {
      this.writer = new InputWriter(frame.width, frame.height, this.config.input);
    }
    return this.writer;
  }

  private inputTensor(count: number): ort.Tensor {
    let tensor = this.inputTensors.get(count);
    if (tensor === undefined) {
      const { width, height, channels, layout } = this.config.input;
      const dims = layout === 'NCHW' ? [count, channels, height, width] : [count, height, width, channels];
      tensor = new ort.Tensor('float32', this.inputData.subarray(0, count * this.frameSize), dims);
      this.inputTensors.set(count, tensor);
    }
    return tensor;
  }
}
