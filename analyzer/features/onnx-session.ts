/**
 * Opening an onnxruntime session on the execution provider the analyzer asked for. A GPU is
 * a request, not a requirement: when CUDA cannot be loaded (no device, no CUDA build of the
 * runtime) the session opens on CPU, says so once through the logger, and reports the
 * provider it really uses so metrics are labelled truthfully.
 */
import * as ort from 'onnxruntime-node';

export type ExecutionProvider = 'cuda' | 'cpu';

/** The one logging call this module needs; a pino logger fits. */
export interface WarningLog {
  warn(message: string): void;
}

export interface SessionRequest {
  executionProvider: ExecutionProvider;
  /** Intra-op threads on CPU (ignored by CUDA kernels). */
  threads: number;
  log: WarningLog;
  /** What the session is for, in log messages (e.g. 'feature graph', 'model "blurnet"'). */
  purpose: string;
}

export interface OpenedSession {
  session: ort.InferenceSession;
  executionProvider: ExecutionProvider;
}

function sessionOptions(providers: ExecutionProvider[], threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    intraOpNumThreads: threads,
    // The graphs are chains of data-parallel kernels; parallelism lives inside each op.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Only errors: the runtime's warnings (e.g. about unused initializers) are not the user's problem.
    logSeverityLevel: 3,
    // Idle pool threads sleep instead of spinning: spinning doubled CPU time per frame (measured)
    // for no latency gain, and CPU time is what a pod's limit and the node's stream count pay for.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

export async function openSession(model: Uint8Array, request: SessionRequest): Promise<OpenedSession> {
  if (!Number.isInteger(request.threads) || request.threads < 1) {
    throw new Error(`threads: ${request.threads} is not an integer >= 1`);
  }
  if (request.executionProvider === 'cuda') {
    try {
      // CPU stays listed so nodes CUDA has no kernel for still run.
      const session = await ort.InferenceSession.create(model, sessionOptions(['cuda', 'cpu'], request.threads));
      return { session, executionProvider: 'cuda' };
    } catch (err) {
      const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      request.log.warn(`${request.purpose}: CUDA execution provider unavailable, running on CPU (${reason})`);
    }
  }
  const session = await ort.InferenceSession.create(model, sessionOptions(['cpu'], request.threads));
  return { session, executionProvider: 'cpu' };
}

/**
 * Runs async jobs one after another in call order. A session's input buffers are reused
 * between runs, so an overlapping call must wait rather than overwrite them mid-run.
 */
export class InOrder {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every job queued so far has finished. */
  async idle(): Promise<void> {
    await this.tail;
  }
}

/** A run's output as float64 values, whatever numeric type the graph produced. */
export function numericOutput(results: ort.InferenceSession.ReturnType, name: string): ArrayLike<number> {
  const value = results[name];
  if (value === undefined) throw new Error(`onnx output ${name} is missing from the run results`);
  const data = value.data;
  if (
    data instanceof Float64Array ||
    data instanceof Float32Array ||
    data instanceof Int32Array ||
    data instanceof Uint8Array ||
    data instanceof Int8Array ||
    data instanceof Uint16Array ||
    data instanceof Int16Array
  ) {
    return data;
  }
  throw new Error(`onnx output ${name} has type ${value.type}, not a number type`);
}
