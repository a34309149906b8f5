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
import type { AnalyzerConfig } from './config.js';
import { createDetectors, detectorSetupOf, type DetectorSetup } from './detectors/index.js';
import type { Detector, StreamFormat } from './detectors/types.js';
import { AvSyncDrift } from './detectors/av_sync.js';
import { AudioStage } from './audio/stage.js';
import { meterFormatFor } from './audio/format.js';
import { VideoStage } from './features/stage.js';
import type { VideoFeatures } from './features/types.js';
import { AUDIO_BLOCK, DecodeSession, type SessionExit } from './ingest/decode-session.js';
import { isLivePlaylist, ProbeAborted, probeSource, type ProbeResult } from './ingest/probe.js';
import { assertPlainFile, credentialsFromEnv, parseSource, redact, withCredentials, type SourceRef } from './ingest/source-url.js';
import { Timeline, type WallClock } from './ingest/timeline.js';
import { AnalyzerMetrics } from './report/metrics.js';
import { StreamReport } from './report/stream-report.js';
import type { DetectorGauges } from './detectors/detector.js';
import type { AnalyzerStatus, Phase, ReportedEvent } from './contract/status.js';

// The /status document is a contract with the operator: its type lives beside its schema.
export type { AnalyzerStatus, Phase, ReportedEvent } from './contract/status.js';
export { analysisGeometry } from './features/stage.js';

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

const TICK_MS = 250;

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
  private video: VideoStage | null = null;
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
      this.video?.flush(end);
      await this.video?.close();
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
      this.video = await VideoStage.create(probe.video.width, probe.video.height, {
        config: this.config, setup: this.detectorSetup, live: this.live, clock: this.clock, log: this.log, sink: this.report.sink,
        outputs: {
          features: (t, duration, features, keyframe, drift) => this.onFeatures(t, duration, features, keyframe, drift),
          processed: (seconds) => this.report.processed(seconds),
          pauseDecoder: () => this.session?.pauseVideo(),
          resumeDecoder: () => this.session?.resumeVideo(),
        },
      });
      this.report.featureBackend(this.video.backend, this.video.executionProvider);
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

  private runSession(probe: ProbeResult): Promise<SessionExit> {
    this.timeline.newSegment();
    this.video?.reset();
    this.avSync.reset();
    const frameStep = 1 / (probe.video?.frameRate ?? 25);
    const audioStep = this.audio ? AUDIO_BLOCK / this.audio.format.sampleRate : 0.02;
    const session = new DecodeSession(
      {
        source: this.source,
        probe,
        analysis: this.video?.geometry ?? { width: 2, height: 2 },
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
    if (this.video && !this.video.push(t, duration, luma, keyframe)) this.report.frameDropped();
  }

  private async drainBatches(): Promise<void> {
    await this.video?.drain(1 / (this.probe?.video?.frameRate ?? 25));
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
    this.report.lag(this.video?.lag ?? 0);
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
        width: this.video?.geometry.width ?? 0,
        height: this.video?.geometry.height ?? 0,
        backend: this.video?.backend ?? 'none',
        executionProvider: this.video?.executionProvider ?? 'cpu',
        lagSeconds: this.video?.lag ?? 0,
        audio: this.audio && { ...this.audio.format },
      },
    });
  }
}
