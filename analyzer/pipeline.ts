/**
 * One stream's analysis, wired from stages that each own one job:
 *
 *   ingest/session-loop.ts  probe, connect, reconnect with backoff, stall restarts, the timeline
 *   features/stage.ts       video features (CPU or ONNX), batching, the live drop policy
 *   audio/stage.ts          the audio meter and the windows its readings are reported over
 *   detectors/              the detectors, built from their descriptors (detectors/index.ts)
 *   report/stream-report.ts the defect registry, the metrics and the /status document
 *
 * This class only routes what one stage produces to the next; frames stay in this process.
 */
import type { Logger } from 'pino';
import type { AnalyzerConfig } from './config.js';
import { createDetectors, detectorSetupOf, type DetectorSetup } from './detectors/index.js';
import type { Detector } from './detectors/types.js';
import type { DetectorGauges, LoudnessPeriod } from './detectors/detector.js';
import { AvSyncDrift } from './detectors/av_sync.js';
import { AudioStage } from './audio/stage.js';
import { meterFormatFor } from './audio/format.js';
import { VideoStage } from './features/stage.js';
import type { ProbeResult } from './ingest/probe.js';
import {
  assertPlainFile,
  credentialsFromEnv,
  parseSource,
  withCredentials,
  type SourceRef,
} from './ingest/source-url.js';
import { SessionLoop, type DecodeTargets, type IngestConsumer, type RunResult } from './ingest/session-loop.js';
import type { WallClock } from './ingest/timeline.js';
import { AnalyzerMetrics } from './report/metrics.js';
import { DeliveryMetrics } from './report/delivery-metrics.js';
import type { DeliveryDeps, DeliveryStage } from './delivery/stage.js';
import { deliveryTakes } from './delivery/manifest-kind.js';
import { StreamReport } from './report/stream-report.js';
import type { AnalyzerStatus, ReportedEvent, SignalEvent } from './contract/status.js';
import { TransportTap } from './transport/source-tap.js';
import type { TransportEvent } from './transport/checker.js';
import { cueFacts } from './transport/cues.js';
import { TransportSignals } from './transport/signals.js';
import type { CueEvent as HlsCue } from './delivery/stage.js';

// The /status document is a contract with the operator: its type lives beside its schema.
export type { AnalyzerStatus, Phase, ReportedEvent } from './contract/status.js';
export { analysisGeometry } from './features/stage.js';
export { reconnectDelay, type RunResult } from './ingest/session-loop.js';

/** Transport observations kept until the detectors are built (the probe's few seconds). */
const MAX_TRANSPORT_BACKLOG = 4096;

export interface AnalyzerDeps {
  clock?: WallClock;
  log: Logger;
  /** Called when a defect starts (end null) and when it ends. */
  onDefect?: (phase: 'started' | 'ended', event: ReportedEvent) => void;
  /** Called for each signal event (a PID came or went, a cue out or in). */
  onSignal?: (event: SignalEvent) => void;
  random?: () => number;
  ffmpegPath?: string;
  ffprobePath?: string;
  /** Source credentials; default: STREAMQC_SOURCE_USERNAME / STREAMQC_SOURCE_PASSWORD. */
  credentials?: { username?: string; password?: string };
}

export class Analyzer {
  readonly source: SourceRef;
  readonly metrics: AnalyzerMetrics;
  private readonly clock: WallClock;
  private readonly startedAt: string;
  /** What the configured detectors' options set for the analysis (dark level, clip level, drift, reconnect). */
  private readonly setup: DetectorSetup;
  private readonly report: StreamReport;
  private readonly ingest: SessionLoop;
  private detectors: Detector[] = [];
  private video: VideoStage | null = null;
  private audio: AudioStage | null = null;
  private readonly avSync = new AvSyncDrift();
  /** The transport stream checks: the bytes as received, for the sources they apply to. */
  private readonly transport: TransportTap;
  /**
   * The HLS/DASH client of a source it takes (delivery checks, the decoder's segments); null for
   * other sources. Built by run(): its module and the manifest parsers load only for such a source
   * (0.13 CPU s of start-up that any other source does without).
   */
  private delivery: DeliveryStage | null = null;
  /** What the delivery stage is built with; null when the source is not one it takes. */
  private readonly deliveryDeps: DeliveryDeps | null;
  private stopRequested = false;
  /** Which transport observations are signal events (PIDs that come and go, cues). */
  private readonly signals: TransportSignals;
  /** Transport observations made before the detectors exist (a live source's first packets, a playlist's first cues). */
  private transportBacklog: { t: number; event: TransportEvent }[] | null = [];

  constructor(
    private readonly config: AnalyzerConfig,
    input: string,
    private readonly deps: AnalyzerDeps,
  ) {
    this.source = withCredentials(
      assertPlainFile(parseSource(input, config.live ?? undefined)),
      deps.credentials ?? credentialsFromEnv(),
    );
    this.clock = deps.clock ?? Date.now;
    this.startedAt = new Date(this.clock()).toISOString();
    this.setup = detectorSetupOf(config.detectors);
    const { log, ffmpegPath, ffprobePath } = deps;
    const random = deps.random ?? Math.random;
    const reconnectAfter = this.setup.reconnectAfter;
    this.metrics = new AnalyzerMetrics(config.stream ?? this.source.display);
    this.signals = new TransportSignals(config.detectors.tr101290_priority1.pidErrorPeriod);
    this.transport = new TransportTap(this.source, {
      clock: this.clock,
      metrics: this.metrics.transport,
      observe: (t, event) => {
        this.transportObserved(t, event);
      },
      timelineNow: () => this.ingest.timeline.now(),
      pidErrorPeriod: config.detectors.tr101290_priority1.pidErrorPeriod,
      ioTimeoutSeconds: config.ingest.ioTimeout,
      lost: (reason) => log.warn({ source: this.source.display, reason }, 'source connection lost'),
    });
    this.ingest = new SessionLoop(
      {
        config,
        source: this.transport.decodeSource,
        reconnectAfter,
        clock: this.clock,
        random,
        log,
        ffmpegPath,
        ffprobePath,
        feed: () => this.delivery?.mediaFeed() ?? this.transport.mediaFeed(),
      },
      this.consumer(),
    );
    // Registered whatever the source, so every analyzer exposes the same metric families.
    const deliveryMetrics = new DeliveryMetrics(this.metrics.registry);
    this.deliveryDeps = deliveryTakes(config.delivery.enabled, this.source)
      ? {
          now: () => this.ingest.timeline.now(),
          metrics: deliveryMetrics,
          stream: this.metrics.stream,
          activeDefects: () => this.report.activeDefects,
          wallclock: (t) => this.ingest.timeline.wallclock(t),
          log,
          ffprobePath,
          transport: (segment, body) => this.transport.hlsSegment(segment, body),
          cue: (cue) => {
            this.hlsCue(cue);
          },
          // The client followed a source late, or a new initialization segment came: a new decode session reads the feed.
          reopenDecoder: () => this.ingest.reopen(),
          random,
        }
      : null;
    this.report = new StreamReport(
      this.metrics,
      (t) => this.ingest.timeline.wallclock(t),
      deps.log,
      deps.onDefect,
      deps.onSignal,
    );
  }

  /** Stop a live run (SIGTERM/SIGINT): active defects end now and run() resolves. */
  stop(): void {
    this.stopRequested = true;
    this.ingest.stop();
    // A client still loading the playlist stops too: run() then ends without starting ffmpeg.
    void this.delivery?.stop();
  }

  get ready(): boolean {
    return this.ingest.ready;
  }

  async run(): Promise<RunResult> {
    if (this.deliveryDeps) {
      const { DeliveryStage } = await import('./delivery/stage.js');
      // A stop before the module loaded (SIGTERM at start-up): no client starts.
      if (!this.stopRequested) this.delivery = DeliveryStage.for(this.config, this.source, this.deliveryDeps);
    }
    try {
      await this.transport.start();
    } catch (err) {
      // The source's port cannot be opened (another program holds it): a source error, not a crash.
      return { exitCode: 1, message: (err as Error).message };
    }
    try {
      const refused = (await this.delivery?.start()) ?? null;
      if (refused !== null) return { exitCode: 1, message: refused };
      return await this.ingest.run();
    } finally {
      this.transport.stop();
    }
  }

  status(): AnalyzerStatus {
    const { ingest, video } = this;
    const status = this.report.status({
      source: this.source.display,
      live: ingest.live,
      phase: ingest.phase,
      startedAt: this.startedAt,
      timelineSeconds: ingest.timeline.now(),
      mediaFlowing: this.ready,
      lastMediaWall: ingest.lastMediaWall,
      format: ingest.streamFormat,
      bitrate: ingest.probed?.bitRate ?? null,
      analysis: {
        width: video?.geometry.width ?? 0,
        height: video?.geometry.height ?? 0,
        backend: video?.backend ?? 'none',
        executionProvider: video?.executionProvider ?? 'cpu',
        lagSeconds: video?.lag ?? 0,
        audio: this.audio && { ...this.audio.format },
      },
    });
    const delivery = this.delivery?.status();
    return { ...status, transport: this.transport.status(), ...(delivery ? { delivery } : {}) };
  }

  /**
   * A programme ends here (a marker such as an SCTE-35 cue, or the end of the input): its
   * loudness period closes now and is reported and judged.
   */
  programmeBoundary(closedBy: 'marker' | 'end' = 'marker'): void {
    const period = this.audio?.closePeriod(closedBy);
    if (period) this.loudnessPeriod(period);
  }

  private loudnessPeriod(period: LoudnessPeriod): void {
    this.report.loudnessPeriod(period);
    for (const d of this.detectors) d.onLoudnessPeriod?.(period);
  }

  /** What the transport checker saw, or an HLS cue: to the detectors (once they exist) and, when it is one, as a signal event. */
  private transportObserved(t: number, event: TransportEvent): void {
    if (this.transportBacklog) {
      if (this.transportBacklog.length < MAX_TRANSPORT_BACKLOG) this.transportBacklog.push({ t, event });
    } else {
      for (const d of this.detectors) d.onTransport?.(t, event);
    }
    const signal = this.signals.of(t, event);
    if (signal) this.report.signal({ ...signal, wallclock: this.ingest.timeline.wallclock(signal.start) });
  }

  /** A cue an HLS playlist marks: the same cue events, metrics and defects as an SCTE-35 section's. */
  private hlsCue(cue: HlsCue): void {
    const event: TransportEvent = {
      kind: 'hls_cue',
      t: cue.t,
      direction: cue.type,
      duration: cue.duration,
      id: cue.id,
      tag: cue.marker === 'cue' ? 'EXT-X-CUE' : 'EXT-X-DATERANGE',
      rendition: cue.rendition,
      msn: cue.msn,
    };
    this.metrics.transport.cue(cueFacts(event).command, 'hls');
    this.transportObserved(cue.t, event);
  }

  /** Builds the stages for the probed streams; returns why the input cannot be analysed, or null. */
  private async prepare(probe: ProbeResult, live: boolean): Promise<string | null> {
    const { report } = this;
    this.detectors = createDetectors(this.config.detectors, report.sink);
    const backlog = this.transportBacklog ?? [];
    this.transportBacklog = null;
    for (const { t, event } of backlog) for (const d of this.detectors) d.onTransport?.(t, event);
    this.transport.prepared(probe, live);
    this.delivery?.attach(this.detectors);
    if (probe.video) {
      this.video = await VideoStage.create(probe.video.width, probe.video.height, {
        config: this.config,
        setup: this.setup,
        live,
        clock: this.clock,
        log: this.deps.log,
        sink: report.sink,
        outputs: {
          features: (observation) => {
            for (const d of this.detectors) d.onVideo?.(observation);
            report.videoMeasured(observation.features, this.gauge('blur'));
          },
          processed: (seconds) => report.processed(seconds),
          pauseDecoder: () => this.ingest.pauseVideo(),
          resumeDecoder: () => this.ingest.resumeVideo(),
        },
      });
      report.featureBackend(this.video.backend, this.video.executionProvider);
    }
    if (probe.audio) {
      const plan = meterFormatFor(probe.audio);
      if ('refused' in plan) {
        if (!probe.video) return `cannot analyze ${this.source.display}: ${plan.refused}`;
        this.deps.log.warn({ source: this.source.display, reason: plan.refused }, 'analysing the video only');
      } else {
        this.audio = new AudioStage(plan.format, this.setup.clipLevel, {
          channelLayout: probe.audio.channelLayout,
          periodSeconds: this.config.detectors.loudness.reportPeriod,
        });
      }
    }
    if (probe.bitRate) report.inputBitrate(probe.bitRate);
    return null;
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

  /** How the session loop's media reaches the stages, the detectors and the report. */
  private consumer(): IngestConsumer {
    const frameRate = (): number => this.ingest.probed?.video?.frameRate ?? 25;
    return {
      prepare: (probe, live) => this.prepare(probe, live),
      sessionStarting: (): DecodeTargets => {
        this.video?.reset();
        this.avSync.reset();
        return { analysis: this.video?.geometry ?? { width: 2, height: 2 }, audio: this.audio?.format ?? null };
      },
      sessionEnded: () => this.video?.drain(1 / frameRate()) ?? Promise.resolve(),
      reconnected: () => this.report.reconnected(),
      mediaSoFar: () => this.report.mediaSoFar,
      mediaArrived: (t) => {
        for (const d of this.detectors) d.onMedia?.(t);
        this.report.mediaFlowing(true);
      },
      video: (t, duration, luma, keyframe) => {
        this.report.frameDecoded();
        if (this.video && !this.video.push(t, duration, luma, keyframe)) this.report.frameDropped();
      },
      audioDuration: (samples) => this.audio?.durationOf(samples) ?? 0,
      audio: (t, samples) => {
        if (!this.audio) return;
        const { observation, loudness, period } = this.audio.push(t, samples);
        if (period) this.loudnessPeriod(period);
        this.report.audioAnalysed(observation.duration);
        for (const d of this.detectors) d.onAudio?.(observation);
        this.report.loudnessMeasured(loudness);
      },
      avOffset: (t, offset) => {
        const drift = this.avSync.push(offset, frameRate());
        if (drift === null) return;
        this.report.avDrift(drift);
        for (const d of this.detectors) d.onAvOffset?.(t, drift);
      },
      format: (t, format) => {
        for (const d of this.detectors) d.onFormat?.(t, format);
        this.report.streamFormat(format);
      },
      decodeError: (t, message) => {
        this.report.decodeError();
        this.deps.log.debug({ message }, 'decode error');
        for (const d of this.detectors) d.onDecodeError?.(t, message);
      },
      tick: (at) => {
        this.transport.tick();
        if (at === null) return this.report.lag(0);
        for (const d of this.detectors) d.onTick?.(at.t, at.sinceMedia);
        this.report.lag(this.video?.lag ?? 0);
      },
      mediaMissing: () => this.report.mediaFlowing(false),
      finish: async (end) => {
        // No delivery observation after the detectors' flush.
        await this.delivery?.stop();
        // Before run() resolves, so the HTTP server (closed after it) serves the final figures.
        if (this.audio) this.report.loudnessMeasured(this.audio.finalReadings());
        this.programmeBoundary('end');
        this.transport.finish();
        for (const d of this.detectors) d.flush(end);
        this.video?.flush(end);
        await this.video?.close();
      },
    };
  }
}
