/**
 * The per-stream monolith: wires ingest -> features -> detectors -> reports and owns their
 * start and stop. Frames stay in this process, in buffers allocated once per session.
 *
 * Live sources are reconnected with capped exponential backoff and jitter; while media is
 * missing the stall detector runs on wall-clock ticks. When analysis falls behind real time
 * by more than `ingest.maxLag`, frames are dropped on purpose (and counted) until it has
 * caught up, so memory never grows with lag. Finite inputs are never dropped from: they are
 * read as fast as analysis allows.
 */
import type { Logger } from 'pino';
import { ConfigError, type AnalyzerConfig } from './config.js';
import { createDetectors, detectorSetupOf, type DetectorSetup } from './detectors/index.js';
import type { DefectType, Detector, StreamFormat } from './detectors/types.js';
import { AvSyncDrift } from './detectors/av_sync.js';
import { AudioStage } from './audio/stage.js';
import { meterFormatFor } from './audio/format.js';
import { StillnessMeter } from './features/stillness.js';
import { CpuFeatureExtractor } from './features/cpu.js';
import type { FeatureExtractor, FeatureGeometry, LumaFrame, VideoFeatures } from './features/types.js';
// The ONNX modules (native onnxruntime) load only when a config asks for them.
import type { CustomModelRunner } from './features/custom-model.js';
import { AUDIO_BLOCK, DecodeSession, type SessionExit } from './ingest/decode-session.js';
import { isLivePlaylist, ProbeAborted, probeSource, type ProbeResult } from './ingest/probe.js';
import { assertPlainFile, credentialsFromEnv, parseSource, redact, withCredentials, type SourceRef } from './ingest/source-url.js';
import { Timeline, type WallClock } from './ingest/timeline.js';
import { AnalyzerMetrics } from './report/metrics.js';
import { StreamReport } from './report/stream-report.js';
import { DefectTracker, type DetectorGauges } from './detectors/detector.js';
import type { AnalyzerStatus, Phase, ReportedEvent } from './contract/status.js';

// The /status document is a contract with the operator: its type lives beside its schema.
export type { AnalyzerStatus, Phase, ReportedEvent } from './contract/status.js';

export interface AnalyzerDeps {
  clock?: WallClock;
  log: Logger;
  /** Called when a defect starts (end null) and when it ends. */
  onDefect?: (phase: 'started' | 'ended', event: ReportedEvent) => void;
  random?: () => number;
  ffmpegPath?: string;
  ffprobePath?: string;
  /** Source credentials; default: STREAMQC_SOURCE_USERNAME / STREAMQC_SOURCE_PASSWORD. */
  credentials?: { username?: string; password?: string };
}

export interface RunResult {
  exitCode: 0 | 1;
  message: string | null;
}

/** Batches queued for the ONNX graph or user models: the bound on frames held in memory. */
const MAX_BATCHES_IN_FLIGHT = 2;
const TICK_MS = 250;

/** Analysis size: decimate by the largest power of two (<= 4) that keeps `minWidth`. */
export function analysisGeometry(width: number, height: number, minWidth: number, darkThreshold: number): FeatureGeometry {
  let k = 4;
  while (k > 1 && Math.floor(width / k) < minWidth) k /= 2;
  return {
    width: Math.max(3, Math.floor(width / k)),
    height: Math.max(3, Math.floor(height / k)),
    darkThreshold,
    blockPeriod: Math.max(2, 8 / k),
  };
}

/**
 * Seconds to wait before reconnect attempt `attempt` (0 = first): exponential from the
 * initial delay, capped, with +/- jitter so a fleet of analyzers does not reconnect in step.
 * `random` is a uniform draw in [0, 1).
 */
export function reconnectDelay(
  attempt: number,
  options: Pick<AnalyzerConfig['ingest'], 'reconnectInitialDelay' | 'reconnectMaxDelay' | 'reconnectJitter'>,
  random: number,
): number {
  const base = Math.min(options.reconnectMaxDelay, options.reconnectInitialDelay * 2 ** Math.min(attempt, 60));
  return base * (1 + options.reconnectJitter * (2 * random - 1));
}

export class Analyzer {
  readonly source: SourceRef;
  readonly metrics: AnalyzerMetrics;
  private readonly clock: WallClock;
  private readonly log: Logger;
  private readonly random: () => number;
  private timeline: Timeline;
  private detectors: Detector[] = [];
  /** What the configured detectors' options set for the analysis (dark level, clip level, drift, reconnect). */
  private readonly detectorSetup: DetectorSetup;
  private readonly report: StreamReport;
  private live: boolean;

  private probe: ProbeResult | null = null;
  private geometry: FeatureGeometry | null = null;
  private extractor: FeatureExtractor | null = null;
  private cpu: CpuFeatureExtractor | null = null;
  private stillness: StillnessMeter | null = null;
  /** Where the features run: 'cpu', or the ONNX execution provider actually in use. */
  private executionProvider = 'cpu';
  /** Frames per feature batch: 1 for the CPU kernel (user models then run frame by frame). */
  private batchSize = 1;
  private models: { runner: CustomModelRunner; tracker: DefectTracker; threshold: number; above: boolean }[] = [];
  private audio: AudioStage | null = null;
  private session: DecodeSession | null = null;
  private stopRequested = false;
  /** Aborted by stop(): ends a probe at once (it may otherwise run up to its deadline). */
  private readonly stopping = new AbortController();
  private stopWaiters: (() => void)[] = [];
  private ticker: NodeJS.Timeout | null = null;

  private phase: Phase = 'starting';
  private readonly startedAt: string;
  private format: StreamFormat = {
    videoCodec: null, width: null, height: null, frameRate: null,
    audioCodec: null, sampleRate: null, channels: null, channelLayout: null,
  };
  private formatAnnounced = false;
  private lastMediaWall: number | null = null;
  private sessionStartWall = 0;
  private mediaLost = false;
  private endT = 0;
  /** Live: the timeline time at which stop() was asked for. */
  private stoppedAt: number | null = null;
  private lastVideoT: number | null = null;
  private lastFrameWall = 0;
  private lagAnchor: number | null = null;
  private lagSeconds = 0;
  private dropping = false;
  /** Frames waiting for the next batch, with what onFeatures needs of each. */
  private pending: { frame: LumaFrame; t: number; keyframe: boolean; drift: number }[] = [];
  private inFlight: Promise<void> = Promise.resolve();
  private batchesInFlight = 0;
  private readonly avSync = new AvSyncDrift();

  constructor(
    private readonly config: AnalyzerConfig,
    input: string,
    private readonly deps: AnalyzerDeps,
  ) {
    this.source = withCredentials(assertPlainFile(parseSource(input, config.live ?? undefined)), deps.credentials ?? credentialsFromEnv());
    this.live = this.source.live;
    this.clock = deps.clock ?? Date.now;
    this.log = deps.log;
    this.random = deps.random ?? Math.random;
    this.startedAt = new Date(this.clock()).toISOString();
    this.timeline = new Timeline(this.clock, { live: this.live, maxStep: 5 });
    this.metrics = new AnalyzerMetrics(config.stream ?? this.source.display);
    this.detectorSetup = detectorSetupOf(config.detectors);
    this.report = new StreamReport(this.metrics, (t) => this.timeline.wallclock(t), deps.log, deps.onDefect);
  }

  /** Stop a live run (SIGTERM/SIGINT): active defects end now and run() resolves. */
  stop(): void {
    if (this.stopRequested) return;
    this.stopRequested = true;
    if (this.live) {
      // The contract: active defects end at the signal, not when the children have exited
      // (about 2 s later), and nothing starts in between: no ticks (a stall would), no media.
      this.stoppedAt = this.timeline.now();
      this.stopTicker();
    }
    for (const w of this.stopWaiters.splice(0)) w();
    this.stopping.abort();
    void this.session?.stop();
  }

  get ready(): boolean {
    return !this.mediaLost && this.lastMediaWall !== null && this.clock() - this.lastMediaWall < 5000;
  }

  async run(): Promise<RunResult> {
    const started = this.clock();
    let attempt = 0;
    let everOpened = false;
    try {
      // A reconnect reuses the layout probed before (probing a live source costs seconds of
      // its media); only a session that delivered nothing probes again.
      let reuseProbe = false;
      while (!this.stopRequested) {
        let probe: ProbeResult;
        if (reuseProbe && this.probe) {
          probe = this.probe;
        } else {
          try {
            probe = await probeSource(this.source, {
              ioTimeoutSeconds: this.config.ingest.ioTimeout,
              signal: this.stopping.signal,
              ffprobePath: this.deps.ffprobePath,
            });
          } catch (err) {
            if (err instanceof ProbeAborted || this.stopRequested) break;
            const message = (err as Error).message;
            const giveUp = this.config.ingest.openTimeout;
            const waited = (this.clock() - started) / 1000;
            if (!this.live || (!everOpened && giveUp > 0 && waited >= giveUp)) {
              this.phase = 'failed';
              return { exitCode: 1, message };
            }
            this.log.warn({ source: this.source.display, err: message }, 'source unavailable; will retry');
            await this.backoff(attempt++);
            continue;
          }
        }
        if (this.probe === null) {
          const refused = await this.prepare(probe);
          if (refused !== null) {
            this.phase = 'failed';
            return { exitCode: 1, message: refused };
          }
        } else if (everOpened) {
          this.report.reconnected();
        }
        this.probe = probe;
        everOpened = true;
        this.phase = 'running';
        const mediaBefore = this.report.mediaSoFar;
        const exit = await this.runSession(probe);
        await this.drainBatches();
        if (this.stopRequested) break;
        if (!this.live) {
          if (this.report.mediaSoFar === 0) {
            this.phase = 'failed';
            const why = exit.lastError === null ? 'no frames were decoded' : redact(exit.lastError, this.source);
            return { exitCode: 1, message: `cannot decode ${this.source.display}: ${why}` };
          }
          if (exit.signal !== null) {
            // Killed from outside (OOM killer, an operator): the analysis is incomplete, and
            // the events so far are still reported (the detectors are flushed below).
            this.phase = 'failed';
            return {
              exitCode: 1,
              message: `cannot decode ${this.source.display} to its end: ffmpeg was killed by ${exit.signal} after ${this.endT.toFixed(1)} s of media`,
            };
          }
          break;
        }
        const delivered = this.report.mediaSoFar > mediaBefore;
        reuseProbe = delivered;
        const err = exit.lastError === null ? null : redact(exit.lastError, this.source);
        this.log.warn({ source: this.source.display, code: exit.code, err }, 'source lost; reconnecting');
        this.phase = 'reconnecting';
        // A session that delivered media resets the backoff.
        if (delivered) attempt = 0;
        await this.backoff(attempt++);
      }
      this.phase = 'finished';
      return { exitCode: 0, message: null };
    } finally {
      this.stopTicker();
      await this.drainBatches();
      const end = this.live ? (this.stoppedAt ?? this.timeline.now()) : this.endT;
      if (this.audio) this.report.finalIntegratedLoudness(this.audio.integratedLufs);
      for (const d of this.detectors) d.flush(end);
      for (const m of this.models) m.tracker.close(end);
      await this.extractor?.close();
      for (const m of this.models) await m.runner.close();
    }
  }

  private async backoff(attempt: number): Promise<void> {
    const delay = reconnectDelay(attempt, this.config.ingest, this.random());
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay * 1000);
      this.stopWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Builds the analysis for the probed streams; returns why the input cannot be analysed, or null. */
  private async prepare(probe: ProbeResult): Promise<string | null> {
    if (this.config.live === null && (this.source.scheme === 'http' || this.source.scheme === 'https')) {
      // Live only on evidence (an HLS or DASH playlist without an end), never for a mere
      // missing duration: a finite file from a server without Range would be re-read forever.
      this.live = isLivePlaylist(probe);
      this.timeline = new Timeline(this.clock, { live: this.live, maxStep: 5 });
    }
    this.detectors = createDetectors(this.config.detectors, this.report.sink);
    if (probe.video) {
      const dark = this.detectorSetup.darkLumaThreshold;
      this.geometry = analysisGeometry(probe.video.width, probe.video.height, this.config.analysis.minAnalysisWidth, dark);
      if (this.config.analysis.gpu || this.config.analysis.onnx) {
        const { OnnxFeatureExtractor } = await import('./features/onnx.js');
        const onnx = await OnnxFeatureExtractor.create(this.geometry, {
          executionProvider: this.config.analysis.gpu ? 'cuda' : 'cpu',
          threads: this.config.analysis.threads,
          batchSize: this.config.analysis.batchSize,
          log: this.log,
        });
        this.extractor = onnx;
        this.executionProvider = onnx.executionProvider;
        this.batchSize = this.config.analysis.batchSize;
      } else {
        this.cpu = new CpuFeatureExtractor(this.geometry);
        this.extractor = this.cpu;
      }
      // Drift is measured only while an enabled detector reads it.
      const drift = this.detectorSetup.drift;
      if (drift) this.stillness = new StillnessMeter(this.geometry.width, this.geometry.height, drift.reanchorAbove);
      this.report.featureBackend(this.extractor.backend, this.executionProvider);
      if (this.config.models.length > 0) await this.loadModels();
    }
    if (probe.audio) {
      const plan = meterFormatFor(probe.audio);
      if ('refused' in plan) {
        if (!probe.video) return `cannot analyze ${this.source.display}: ${plan.refused}`;
        this.log.warn({ source: this.source.display, reason: plan.refused }, 'analysing the video only');
      } else {
        this.audio = new AudioStage(plan.format, this.detectorSetup.clipLevel);
      }
    }
    if (probe.bitRate) this.report.inputBitrate(probe.bitRate);
    this.startTicker();
    return null;
  }

  private async loadModels(): Promise<void> {
    const { CustomModelRunner, resolveCustomModel } = await import('./features/custom-model.js');
    for (const model of this.config.models) {
      // A model that cannot be loaded is bad configuration (exit 2), not a bad input.
      const runner = await CustomModelRunner.load(model, {
        executionProvider: this.config.analysis.gpu ? 'cuda' : 'cpu',
        threads: this.config.analysis.threads,
        batchSize: this.config.analysis.batchSize,
        log: this.log,
        field: `models[${this.config.models.indexOf(model)}]`,
      }).catch((err: unknown) => {
        throw new ConfigError(`invalid config:\n  ${(err as Error).message}`);
      });
      const { defect } = resolveCustomModel(model);
      this.models.push({
        runner,
        threshold: defect.threshold,
        above: defect.above,
        // A custom `model:<name>` type is bounded by the config, so it is a safe label value.
        tracker: new DefectTracker(defect.type as DefectType, this.report.sink, defect.minDuration),
      });
    }
  }

  private runSession(probe: ProbeResult): Promise<SessionExit> {
    this.timeline.newSegment();
    this.lagAnchor = null;
    this.avSync.reset();
    this.extractor?.reset();
    this.stillness?.reset();
    const frameStep = 1 / (probe.video?.frameRate ?? 25);
    const audioStep = this.audio ? AUDIO_BLOCK / this.audio.format.sampleRate : 0.02;
    const session = new DecodeSession(
      {
        source: this.source,
        probe,
        analysis: this.geometry ?? { width: 2, height: 2 },
        audio: this.audio?.format ?? null,
        ioTimeoutSeconds: this.config.ingest.ioTimeout,
        live: this.live,
        ffmpegPath: this.deps.ffmpegPath,
      },
      {
        video: (pts, luma, keyframe) => this.onVideo(this.timeline.map(pts, frameStep), frameStep, luma, keyframe),
        audio: (pts, samples) => this.onAudio(this.timeline.map(pts, audioStep, !probe.video), samples),
        avOffset: (_pts, offset) => this.onAvOffset(offset),
        format: (update) => this.onFormat(update.kind === 'video'
          ? { ...this.format, width: update.width, height: update.height, frameRate: update.frameRate }
          : { ...this.format, sampleRate: update.sampleRate, channelLayout: update.channelLayout }),
        decodeError: (message, pts) => this.onDecodeError(redact(message, this.source), pts),
        diagnostic: (level, message) =>
          this.log[level === 'warning' ? 'warn' : 'error']({ source: this.source.display }, `ffmpeg: ${redact(message, this.source)}`),
      },
    );
    this.session = session;
    this.sessionStartWall = this.clock();
    this.onFormat({
      ...this.format,
      videoCodec: probe.video?.codec ?? null,
      audioCodec: probe.audio?.codec ?? null,
      channels: probe.audio?.channels ?? null,
      ...(this.formatAnnounced ? {} : {
        width: probe.video?.width ?? null,
        height: probe.video?.height ?? null,
        frameRate: probe.video?.frameRate ?? null,
        sampleRate: probe.audio?.sampleRate ?? null,
        channelLayout: probe.audio?.channelLayout ?? null,
      }),
    });
    if (this.stopRequested) void session.stop();
    return session.exited.finally(() => {
      this.session = null;
    });
  }

  private mediaArrived(t: number): void {
    this.lastMediaWall = this.clock();
    if (this.mediaLost) {
      this.mediaLost = false;
      this.phase = 'running';
    }
    for (const d of this.detectors) d.onMedia?.(t);
    this.report.mediaFlowing(true);
  }

  private onVideo(t: number, duration: number, luma: Uint8Array, keyframe: boolean): void {
    if (this.stoppedAt !== null) return;
    this.mediaArrived(t);
    this.report.frameDecoded();
    this.endT = Math.max(this.endT, t + duration);
    this.lastVideoT = t;
    // Live: never hold ffmpeg back (it would lose the source's packets instead); skip frames
    // while analysis lags real time or the batch queue is full.
    if (this.live && (this.shouldDrop(t, duration) || this.batchesInFlight >= MAX_BATCHES_IN_FLIGHT)) {
      this.report.frameDropped();
      return;
    }
    const geometry = this.geometry;
    if (!geometry) return;
    const frame: LumaFrame = { width: geometry.width, height: geometry.height, data: luma };
    const drift = this.stillness?.measure(luma, keyframe) ?? Number.NaN;
    if (this.cpu && this.models.length === 0) {
      const t0 = process.hrtime.bigint();
      const features = this.cpu.extractOne(frame);
      this.report.processed(Number(process.hrtime.bigint() - t0) / 1e9);
      this.onFeatures(t, duration, features, keyframe, drift);
      return;
    }
    // Batched path (ONNX graph and/or user models): frames are copied into the batch.
    this.pending.push({ frame: { ...frame, data: luma.slice() }, t, keyframe, drift });
    if (this.pending.length >= this.batchSize) this.flushBatch(duration);
  }

  private flushBatch(duration: number): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const frames = batch.map((p) => p.frame);
    this.batchesInFlight++;
    // A finite input waits for analysis instead: ffmpeg blocks on the full pipe.
    if (!this.live && this.batchesInFlight >= MAX_BATCHES_IN_FLIGHT) this.session?.pauseVideo();
    const extractor = this.extractor;
    this.inFlight = this.inFlight.then(async () => {
      try {
        const t0 = process.hrtime.bigint();
        const [features, scores] = await Promise.all([
          extractor ? extractor.extract(frames) : Promise.resolve([]),
          Promise.all(this.models.map((m) => m.runner.score(frames))),
        ]);
        const per = Number(process.hrtime.bigint() - t0) / 1e9 / frames.length;
        batch.forEach(({ t, keyframe, drift }, i) => {
          this.report.processed(per);
          if (features[i]) this.onFeatures(t, duration, features[i], keyframe, drift);
          this.models.forEach((m, k) => {
            const score = scores[k][i];
            m.tracker.update(t, duration, m.above ? score > m.threshold : score < m.threshold, () => ({ score }));
          });
        });
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'feature extraction failed for a batch');
      } finally {
        this.batchesInFlight--;
        if (!this.live && this.batchesInFlight < MAX_BATCHES_IN_FLIGHT) this.session?.resumeVideo();
      }
    });
  }

  private async drainBatches(): Promise<void> {
    this.flushBatch(1 / (this.probe?.video?.frameRate ?? 25));
    await this.inFlight;
  }

  /**
   * Live only. Lag is how much later than real time a frame is handled, relative to an
   * anchor taken when analysis was keeping up. A frame arriving well after the previous
   * one means we were waiting for the source (not the other way round): re-anchor.
   */
  private shouldDrop(t: number, duration: number): boolean {
    const now = this.clock() / 1000;
    const waitedForSource = now - this.lastFrameWall > 2 * duration;
    this.lastFrameWall = now;
    if (this.lagAnchor === null || waitedForSource || now - t < this.lagAnchor) this.lagAnchor = now - t;
    this.lagSeconds = now - t - this.lagAnchor;
    const max = this.config.ingest.maxLag;
    if (this.dropping && this.lagSeconds < max / 2) this.dropping = false;
    else if (!this.dropping && this.lagSeconds > max) {
      this.dropping = true;
      this.log.warn({ lagSeconds: Number(this.lagSeconds.toFixed(3)) }, 'analysis behind real time; dropping frames until caught up');
    }
    return this.dropping;
  }

  private onFeatures(t: number, duration: number, features: VideoFeatures, keyframe: boolean, drift: number): void {
    for (const d of this.detectors) d.onVideo?.({ t, duration, features, keyframe, drift });
    this.report.videoMeasured(features, this.gauge('blur'));
  }

  /** The last finite value a detector exposes for a gauge (undefined: no enabled detector does). */
  private gauge(name: keyof DetectorGauges): number | undefined {
    let value: number | undefined;
    for (const d of this.detectors) {
      const v = d.gauges?.()[name];
      if (v !== undefined && Number.isFinite(v)) value = v;
    }
    return value;
  }

  private onAudio(t: number, samples: Float32Array): void {
    const audio = this.audio;
    if (!audio || this.stoppedAt !== null) return;
    this.mediaArrived(t);
    const { observation, loudness } = audio.push(t, samples);
    this.report.audioAnalysed(observation.duration);
    this.endT = Math.max(this.endT, t + observation.duration);
    for (const d of this.detectors) d.onAudio?.(observation);
    this.report.loudnessMeasured(loudness);
  }

  /** The raw offset becomes drift from the session's baseline (AvSyncDrift, beside its detector). */
  private onAvOffset(offset: number): void {
    const t = this.lastVideoT;
    if (t === null) return;
    const drift = this.avSync.push(offset, this.probe?.video?.frameRate ?? 25);
    if (drift === null) return;
    this.report.avDrift(drift);
    for (const d of this.detectors) d.onAvOffset?.(t, drift);
  }

  private onFormat(next: StreamFormat): void {
    const changed = JSON.stringify(next) !== JSON.stringify(this.format);
    this.format = next;
    if (!changed && this.formatAnnounced) return;
    this.formatAnnounced = true;
    const t = this.lastVideoT ?? this.timeline.now();
    for (const d of this.detectors) d.onFormat?.(t, next);
    this.report.streamFormat(next);
  }

  private onDecodeError(message: string, pts: number | null): void {
    if (this.stoppedAt !== null) return;
    this.report.decodeError();
    this.log.debug({ message }, 'decode error');
    const t = pts === null ? this.timeline.now() : this.timeline.peek(pts);
    for (const d of this.detectors) d.onDecodeError?.(t, message);
  }

  private startTicker(): void {
    if (this.ticker) return;
    this.ticker = setInterval(() => this.tick(), TICK_MS);
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }

  private tick(): void {
    if (!this.live) {
      this.report.lag(0);
      return;
    }
    // Before the first media the stream has not started: opening is the probe's business.
    if (this.lastMediaWall === null) return;
    const since = (this.clock() - this.lastMediaWall) / 1000;
    const now = this.timeline.now();
    for (const d of this.detectors) d.onTick?.(now, since);
    this.report.lag(Math.max(0, this.lagSeconds));
    if (since > 1.5) {
      this.report.mediaFlowing(false);
      if (!this.mediaLost) {
        this.mediaLost = true;
        this.phase = 'stalled';
      }
    }
    // ffmpeg may wait forever on some protocols; restart the session after `reconnectAfter`
    // of silence, counted from its start too, so a session still opening is left alone.
    const silent = Math.min(since, (this.clock() - this.sessionStartWall) / 1000);
    if (this.session && silent > this.detectorSetup.reconnectAfter) {
      this.log.warn({ silentSeconds: Number(since.toFixed(1)) }, 'no media; restarting ingest');
      void this.session.stop();
    }
  }

  status(): AnalyzerStatus {
    return this.report.status({
      source: this.source.display,
      live: this.live,
      phase: this.phase,
      startedAt: this.startedAt,
      timelineSeconds: this.timeline.now(),
      mediaFlowing: this.ready,
      lastMediaWall: this.lastMediaWall,
      format: this.format,
      bitrate: this.probe?.bitRate ?? null,
      analysis: {
        width: this.geometry?.width ?? 0,
        height: this.geometry?.height ?? 0,
        backend: this.extractor?.backend ?? 'none',
        executionProvider: this.executionProvider,
        lagSeconds: Math.max(0, this.lagSeconds),
        audio: this.audio && { ...this.audio.format },
      },
    });
  }
}
