/**
 * The video stage: decoded luma frames in, features out. It chooses where features run (the
 * CPU kernel, or the ONNX graph on CPU or GPU), batches frames for the graph and for user
 * models, applies the live drop policy, and holds a finite input back while its batches are
 * queued. Frames stay in buffers the stage owns; at most MAX_BATCHES_IN_FLIGHT batches wait.
 */
import type { Logger } from 'pino';
import { ConfigError, type AnalyzerConfig } from '../config.js';
import { DefectTracker, type VideoObservation } from '../detectors/detector.js';
import type { DefectSink, DefectType } from '../detectors/types.js';
import type { DetectorSetup } from '../detectors/index.js';
import type { WallClock } from '../ingest/timeline.js';
import { CpuFeatureExtractor } from './cpu.js';
import { ShotCutMeter } from './shot-cut.js';
import { StillnessMeter } from './stillness.js';
import type { FeatureExtractor, FeatureGeometry, LumaFrame } from './types.js';
// The ONNX modules (native onnxruntime) load only when a config asks for them.
import type { CustomModelRunner } from './custom-model.js';
import type { CorruptionMeter } from './corruption.js';
import { resolveCustomModel } from './custom-model-config.js';

/** Batches queued for the ONNX graph or user models: the bound on frames held in memory. */
const MAX_BATCHES_IN_FLIGHT = 2;

/** Analysis size: decimate by the largest power of two (<= 4) that keeps `minWidth`. */
export function analysisGeometry(
  width: number,
  height: number,
  minWidth: number,
  darkThreshold: number,
): FeatureGeometry {
  let k = 4;
  while (k > 1 && Math.floor(width / k) < minWidth) k /= 2;
  return {
    width: Math.max(3, Math.floor(width / k)),
    height: Math.max(3, Math.floor(height / k)),
    darkThreshold,
    blockPeriod: Math.max(2, 8 / k),
  };
}

/** Where the stage's results go. */
export interface VideoStageOutputs {
  /** One analysed frame, in presentation order. */
  features(observation: VideoObservation): void;
  /** Seconds of feature work per frame. */
  processed(seconds: number): void;
  /** A finite input: hold the decoder back (its pipe fills), or let it go on. */
  pauseDecoder(): void;
  resumeDecoder(): void;
}

export interface VideoStageOptions {
  config: AnalyzerConfig;
  setup: DetectorSetup;
  /** Live: drop frames rather than hold the source back. */
  live: boolean;
  clock: WallClock;
  log: Logger;
  /** Where user models report their defects. */
  sink: DefectSink;
  outputs: VideoStageOutputs;
}

interface UserModel {
  runner: CustomModelRunner;
  tracker: DefectTracker;
  threshold: number;
  above: boolean;
}

export class VideoStage {
  private readonly stillness: StillnessMeter | null;
  private readonly shotCuts: ShotCutMeter | null;
  private readonly models: UserModel[] = [];
  /** Frames waiting for the next batch, with what the features output needs of each. */
  private pending: {
    frame: LumaFrame;
    t: number;
    keyframe: boolean;
    drift: number;
    cut: boolean;
    previous: Uint8Array | null;
  }[] = [];
  /** The corruption model, while an enabled detector reads it; it runs on every `corruptionStride`-th frame. */
  private corruption: CorruptionMeter | null = null;
  private corruptionStride = 1;
  /** Frames since the segment began, and the last one (the model compares each frame with the one before). */
  private frameIndex = 0;
  private lastLuma: Uint8Array | null = null;
  private inFlight: Promise<void> = Promise.resolve();
  private batchesInFlight = 0;
  private lastFrameWall = 0;
  private lagAnchor: number | null = null;
  private lagSeconds = 0;
  private dropping = false;

  private constructor(
    readonly geometry: FeatureGeometry,
    private readonly extractor: FeatureExtractor,
    /** The CPU kernel when it is the extractor: it runs frame by frame, without batches. */
    private readonly cpu: CpuFeatureExtractor | null,
    /** Where the features run: 'cpu', or the ONNX execution provider actually in use. */
    readonly executionProvider: string,
    /** Frames per feature batch: 1 for the CPU kernel (user models then run frame by frame). */
    private readonly batchSize: number,
    private readonly options: VideoStageOptions,
  ) {
    // Drift is measured only while an enabled detector reads it.
    const drift = options.setup.drift;
    this.stillness = drift ? new StillnessMeter(geometry.width, geometry.height, drift.reanchorAbove) : null;
    this.shotCuts = options.setup.shotCuts ? new ShotCutMeter(geometry.width, geometry.height) : null;
  }

  /** Builds the stage for a probed video of `width` x `height`; loads the ONNX runtime and user models when configured. */
  static async create(width: number, height: number, options: VideoStageOptions): Promise<VideoStage> {
    const { config, log } = options;
    const geometry = analysisGeometry(width, height, config.analysis.minAnalysisWidth, options.setup.darkLumaThreshold);
    let stage: VideoStage;
    if (config.analysis.gpu || config.analysis.onnx) {
      const { OnnxFeatureExtractor } = await import('./onnx.js');
      const onnx = await OnnxFeatureExtractor.create(geometry, {
        executionProvider: config.analysis.gpu ? 'cuda' : 'cpu',
        threads: config.analysis.threads,
        batchSize: config.analysis.batchSize,
        log,
      });
      stage = new VideoStage(geometry, onnx, null, onnx.executionProvider, config.analysis.batchSize, options);
    } else {
      const cpu = new CpuFeatureExtractor(geometry);
      stage = new VideoStage(geometry, cpu, cpu, 'cpu', 1, options);
    }
    const corruption = options.setup.corruption;
    if (corruption) {
      const { CorruptionMeter } = await import('./corruption.js');
      stage.corruption = await CorruptionMeter.create({
        executionProvider: config.analysis.gpu ? 'cuda' : 'cpu',
        threads: config.analysis.threads,
        log,
      });
      stage.corruptionStride = corruption.stride;
    }
    // A model that fails to load leaves what was loaded before it to be released.
    if (config.models.length > 0)
      await stage.loadModels().catch(async (err: unknown) => {
        await stage.close();
        throw err;
      });
    return stage;
  }

  get backend(): string {
    return this.extractor.backend;
  }

  /** Live: how much later than real time frames are handled, seconds (0 for a finite input). */
  get lag(): number {
    return Math.max(0, this.lagSeconds);
  }

  /** A new session: the previous frame and the lag anchor belong to the old one. */
  reset(): void {
    this.lagAnchor = null;
    this.extractor.reset();
    this.stillness?.reset();
    this.shotCuts?.reset();
    this.frameIndex = 0;
    this.lastLuma = null;
  }

  /**
   * One decoded frame at timeline `t`; false when it was dropped (live only: never hold
   * ffmpeg back, it would lose the source's packets instead; skip frames while analysis lags
   * real time or the batch queue is full).
   */
  push(t: number, duration: number, luma: Uint8Array, keyframe: boolean): boolean {
    if (this.options.live && (this.shouldDrop(t, duration) || this.batchesInFlight >= MAX_BATCHES_IN_FLIGHT))
      return false;
    const frame: LumaFrame = { width: this.geometry.width, height: this.geometry.height, data: luma };
    const drift = this.stillness?.measure(luma, keyframe) ?? Number.NaN;
    const cut = this.shotCuts?.measure(luma) ?? false;
    if (this.cpu && this.models.length === 0 && !this.corruption) {
      const t0 = process.hrtime.bigint();
      const features = this.cpu.extractOne(frame);
      this.options.outputs.processed(Number(process.hrtime.bigint() - t0) / 1e9);
      this.options.outputs.features({ t, duration, features, keyframe, drift, cut, corruption: Number.NaN });
      return true;
    }
    // Batched path (ONNX graph, user models, corruption model): frames are copied into the batch.
    const data = luma.slice();
    const measured = this.corruption !== null && this.frameIndex % this.corruptionStride === 0;
    this.pending.push({
      frame: { ...frame, data },
      t,
      keyframe,
      drift,
      cut,
      previous: measured ? (this.lastLuma ?? data) : null,
    });
    this.frameIndex++;
    if (this.corruption) this.lastLuma = data;
    if (this.pending.length >= this.batchSize) this.flushBatch(duration);
    return true;
  }

  /** Analyses what is pending and waits for every queued batch. */
  async drain(duration: number): Promise<void> {
    this.flushBatch(duration);
    await this.inFlight;
  }

  /** Ends the user models' active defects at timeline `t`. */
  flush(t: number): void {
    for (const m of this.models) m.tracker.close(t);
  }

  async close(): Promise<void> {
    await this.extractor.close();
    for (const m of this.models) await m.runner.close();
    await this.corruption?.close();
  }

  private async loadModels(): Promise<void> {
    const { config, log, sink } = this.options;
    const { CustomModelRunner } = await import('./custom-model.js');
    for (const model of config.models) {
      // A model that cannot be loaded is bad configuration (exit 2), not a bad input.
      const runner = await CustomModelRunner.load(model, {
        executionProvider: config.analysis.gpu ? 'cuda' : 'cpu',
        threads: config.analysis.threads,
        batchSize: config.analysis.batchSize,
        log,
        field: `models[${config.models.indexOf(model)}]`,
      }).catch((err: unknown) => {
        throw new ConfigError(`invalid config:\n  ${(err as Error).message}`);
      });
      const { defect } = resolveCustomModel(model);
      this.models.push({
        runner,
        threshold: defect.threshold,
        above: defect.above,
        // A custom `model:<name>` type is bounded by the config, so it is a safe label value.
        tracker: new DefectTracker(defect.type as DefectType, sink, defect.minDuration),
      });
    }
  }

  private flushBatch(duration: number): void {
    if (this.pending.length === 0) return;
    const { live, outputs, log } = this.options;
    const batch = this.pending;
    this.pending = [];
    const frames = batch.map((p) => p.frame);
    this.batchesInFlight++;
    // A finite input waits for analysis instead: ffmpeg blocks on the full pipe.
    if (!live && this.batchesInFlight >= MAX_BATCHES_IN_FLIGHT) outputs.pauseDecoder();
    const extractor = this.extractor;
    this.inFlight = this.inFlight.then(async () => {
      try {
        const t0 = process.hrtime.bigint();
        const measured = batch.flatMap((p) => (p.previous ? [{ frame: p.frame, previous: p.previous }] : []));
        const [featuresOf, scores, areas] = await Promise.all([
          extractor.extract(frames),
          Promise.all(this.models.map((m) => m.runner.score(frames))),
          this.corruption && measured.length > 0 ? this.corruption.area(measured) : [],
        ]);
        const per = Number(process.hrtime.bigint() - t0) / 1e9 / frames.length;
        let nextArea = 0;
        batch.forEach(({ t, keyframe, drift, cut, previous }, i) => {
          outputs.processed(per);
          const corruption = previous ? (areas[nextArea++] ?? Number.NaN) : Number.NaN;
          const features = featuresOf[i];
          if (features) outputs.features({ t, duration, features, keyframe, drift, cut, corruption });
          this.models.forEach((m, k) => {
            const score = scores[k]?.[i];
            if (score === undefined) return;
            m.tracker.update(t, duration, m.above ? score > m.threshold : score < m.threshold, () => ({ score }));
          });
        });
      } catch (err) {
        log.error({ err: (err as Error).message }, 'feature extraction failed for a batch');
      } finally {
        this.batchesInFlight--;
        if (!live && this.batchesInFlight < MAX_BATCHES_IN_FLIGHT) outputs.resumeDecoder();
      }
    });
  }

  /**
   * Live only. Lag is how much later than real time a frame is handled, relative to an
   * anchor taken when analysis was keeping up. A frame arriving well after the previous
   * one means we were waiting for the source (not the other way round): re-anchor.
   */
  private shouldDrop(t: number, duration: number): boolean {
    const now = this.options.clock() / 1000;
    const waitedForSource = now - this.lastFrameWall > 2 * duration;
    this.lastFrameWall = now;
    if (this.lagAnchor === null || waitedForSource || now - t < this.lagAnchor) this.lagAnchor = now - t;
    this.lagSeconds = now - t - this.lagAnchor;
    const max = this.options.config.ingest.maxLag;
    if (this.dropping && this.lagSeconds < max / 2) this.dropping = false;
    else if (!this.dropping && this.lagSeconds > max) {
      this.dropping = true;
      this.options.log.warn(
        { lagSeconds: Number(this.lagSeconds.toFixed(3)) },
        'analysis behind real time; dropping frames until caught up',
      );
    }
    return this.dropping;
  }
}
