/**
 * The report stage: what one stream's analysis tells the world. It observes the defect sink
 * (the active defects, the last events, the counters), writes every Prometheus series and
 * assembles the /status document (contract/status.ts) from what the other stages expose.
 * It decides nothing about the media: the stages tell it what happened, it keeps the books.
 */
import type { Logger } from 'pino';
import type { AnalyzerStatus, ReportedEvent, SignalEvent } from '../contract/status.js';
import type { DefectEvent, DefectSink, DefectType, StreamFormat } from '../detectors/types.js';
import type { LoudnessPeriod } from '../detectors/detector.js';
import type { LoudnessReadings } from '../audio/stage.js';
import type { VideoFeatures } from '../features/types.js';
import type { AnalyzerMetrics } from './metrics.js';

const RECENT_EVENTS = 100;
/** Signal events kept apart, so that a stream full of cues does not push its defects out. */
const RECENT_SIGNALS = 50;
/** Programme periods kept in /status: a day of hourly reports. */
const RECENT_LOUDNESS_PERIODS = 24;

/** What the other stages contribute to the /status document, read when it is asked for. */
export type StatusParts = Pick<
  AnalyzerStatus,
  'source' | 'live' | 'phase' | 'startedAt' | 'timelineSeconds' | 'mediaFlowing' | 'format' | 'bitrate' | 'analysis'
> & { lastMediaWall: number | null };

export class StreamReport {
  /** Where the detectors (and user models) report; the report observes it. */
  readonly sink: DefectSink;
  private readonly active = new Map<string, ReportedEvent>();
  private readonly activeByType = new Map<DefectType, number>();
  private readonly recent: ReportedEvent[] = [];
  private readonly recentSignals: SignalEvent[] = [];
  private signals = 0;
  private readonly counters: AnalyzerStatus['counters'] = {
    frames: 0,
    framesDropped: 0,
    audioSeconds: 0,
    decodeErrors: 0,
    reconnects: 0,
    defects: {},
  };
  private loudness: LoudnessReadings = {
    momentaryLufs: null,
    shortTermLufs: null,
    integratedLufs: null,
    truePeakDbtp: null,
    loudnessRangeLu: null,
    maxMomentaryLufs: null,
    maxShortTermLufs: null,
    maxTruePeakDbtp: null,
  };
  private readonly loudnessPeriods: LoudnessPeriod[] = [];
  private readonly label: { stream: string };

  constructor(
    readonly metrics: AnalyzerMetrics,
    /** The wall-clock time of a timeline second (the timeline may be replaced once the source is probed). */
    private readonly wallclock: (t: number) => string,
    private readonly log: Logger,
    private readonly onDefect?: (phase: 'started' | 'ended', event: ReportedEvent) => void,
    private readonly onSignal?: (event: SignalEvent) => void,
  ) {
    this.label = { stream: metrics.stream };
    this.sink = {
      started: (e) => this.defectStarted(e),
      ended: (e) => this.defectEnded(e),
    };
  }

  frameDecoded(): void {
    this.counters.frames++;
    this.metrics.frames.inc(this.label);
  }

  frameDropped(): void {
    this.counters.framesDropped++;
    this.metrics.framesDropped.inc(this.label);
  }

  audioAnalysed(seconds: number): void {
    this.counters.audioSeconds += seconds;
    this.metrics.audioSeconds.inc(this.label, seconds);
  }

  decodeError(): void {
    this.counters.decodeErrors++;
    this.metrics.decodeErrors.inc(this.label);
  }

  reconnected(): void {
    this.counters.reconnects++;
    this.metrics.reconnects.inc(this.label);
  }

  mediaFlowing(up: boolean): void {
    this.metrics.up.set(this.label, up ? 1 : 0);
  }

  lag(seconds: number): void {
    this.metrics.lag.set(this.label, seconds);
  }

  processed(seconds: number): void {
    this.metrics.processing.observe(this.label, seconds);
  }

  featureBackend(backend: string, executionProvider: string): void {
    this.metrics.featureBackend.set({ ...this.label, backend, execution_provider: executionProvider }, 1);
  }

  inputBitrate(bitsPerSecond: number): void {
    this.metrics.inputBitrate.set(this.label, bitsPerSecond);
  }

  /** One analysed frame's gauges; `blur` as a detector exposes it (undefined: none does). */
  videoMeasured(features: VideoFeatures, blur: number | undefined): void {
    this.metrics.blackRatio.setLatest(this.label, features.darkRatio);
    this.metrics.blockiness.setLatest(this.label, features.blockiness);
    this.metrics.meanLuma.setLatest(this.label, features.meanLuma);
    if (blur !== undefined && Number.isFinite(blur)) this.metrics.blur.setLatest(this.label, blur);
  }

  /** The loudness readings as of the last audio block, or a finished input's final ones. */
  loudnessMeasured(readings: LoudnessReadings): void {
    this.loudness = readings;
    const { metrics } = this;
    const label = this.label;
    const windowed = (gauge: typeof metrics.loudness, window: string, value: number | null): void => {
      if (value !== null) gauge.setLatest({ ...label, window }, value);
    };
    windowed(metrics.loudness, 'momentary', readings.momentaryLufs);
    windowed(metrics.loudness, 'short_term', readings.shortTermLufs);
    windowed(metrics.loudness, 'integrated', readings.integratedLufs);
    windowed(metrics.loudnessMax, 'momentary', readings.maxMomentaryLufs);
    windowed(metrics.loudnessMax, 'short_term', readings.maxShortTermLufs);
    if (readings.truePeakDbtp !== null) metrics.truePeak.setLatest(label, readings.truePeakDbtp);
    if (readings.loudnessRangeLu !== null) metrics.loudnessRange.setLatest(label, readings.loudnessRangeLu);
    if (readings.maxTruePeakDbtp !== null) metrics.truePeakMax.setLatest(label, readings.maxTruePeakDbtp);
  }

  /** A programme period closed: kept in a bounded history, its figures the programme gauges. */
  loudnessPeriod(period: LoudnessPeriod): void {
    this.loudnessPeriods.push({ ...period });
    if (this.loudnessPeriods.length > RECENT_LOUDNESS_PERIODS) this.loudnessPeriods.shift();
    const { metrics } = this;
    metrics.programmePeriods.inc(this.label);
    // A figure the period has no value for (silence) is removed, never left from an older period.
    const gauge = (g: typeof metrics.programmeLoudness, value: number | null): void => {
      if (value === null) g.remove(this.label);
      else g.set(this.label, value);
    };
    gauge(metrics.programmeLoudness, period.integratedLufs);
    gauge(metrics.programmeRange, period.loudnessRangeLu);
    gauge(metrics.programmeTruePeak, period.maxTruePeakDbtp);
  }

  /** The loudness readings /status shows now. */
  get loudnessReadings(): LoudnessReadings {
    return { ...this.loudness };
  }

  avDrift(seconds: number): void {
    this.metrics.avOffset.set(this.label, seconds);
  }

  /** The stream's format, announced at start and on every change. */
  streamFormat(next: StreamFormat): void {
    this.metrics.streamInfo.reset();
    this.metrics.streamInfo.set(
      {
        stream: this.metrics.stream,
        video_codec: next.videoCodec ?? '',
        resolution: next.width && next.height ? `${next.width}x${next.height}` : '',
        frame_rate: next.frameRate ? String(Math.round(next.frameRate * 1000) / 1000) : '',
        audio_codec: next.audioCodec ?? '',
        sample_rate: next.sampleRate ? String(next.sampleRate) : '',
        channel_layout: next.channelLayout ?? '',
      },
      1,
    );
    if (next.frameRate) this.metrics.frameRate.set(this.label, next.frameRate);
  }

  /** Frames plus seconds of audio so far: zero until some media was analysed. */
  get mediaSoFar(): number {
    return this.counters.frames + this.counters.audioSeconds;
  }

  /** The defects active now (the delivery stage reads which renditions are down). */
  get activeDefects(): ReportedEvent[] {
    return [...this.active.values()];
  }

  status(parts: StatusParts): AnalyzerStatus {
    return {
      stream: this.metrics.stream,
      source: parts.source,
      live: parts.live,
      phase: parts.phase,
      startedAt: parts.startedAt,
      timelineSeconds: parts.timelineSeconds,
      mediaFlowing: parts.mediaFlowing,
      lastMediaAt: parts.lastMediaWall === null ? null : new Date(parts.lastMediaWall).toISOString(),
      format: parts.format,
      bitrate: parts.bitrate,
      analysis: parts.analysis,
      activeDefects: [...this.active.values()],
      // Oldest first by when they ended (a signal is an instant); sort() is stable.
      recentEvents: [...this.recent, ...this.recentSignals].sort((a, b) => (a.end ?? a.start) - (b.end ?? b.start)),
      counters: { ...this.counters, signals: this.signals, defects: { ...this.counters.defects } },
      loudness: { ...this.loudness },
      loudnessPeriods: this.loudnessPeriods.map((p) => ({ ...p })),
    };
  }

  /** A signal event (a PID came or went, a cue out or in): kept for /status and handed on as it is. */
  signal(e: SignalEvent): void {
    this.signals++;
    this.recentSignals.push(e);
    if (this.recentSignals.length > RECENT_SIGNALS) this.recentSignals.shift();
    this.log.info({ type: e.type, start: e.start, detail: e.detail }, 'signal');
    this.onSignal?.(e);
  }

  private defectStarted(e: DefectEvent): void {
    const reported: ReportedEvent = { ...e, wallclock: this.wallclock(e.start) };
    this.active.set(`${e.type}@${e.start}`, reported);
    const n = (this.activeByType.get(e.type) ?? 0) + 1;
    this.activeByType.set(e.type, n);
    this.metrics.setDefect(e.type, true);
    this.metrics.defects.inc({ stream: this.metrics.stream, type: e.type });
    this.counters.defects[e.type] = (this.counters.defects[e.type] ?? 0) + 1;
    this.log.info({ type: e.type, start: e.start, detail: e.detail }, 'defect started');
    this.onDefect?.('started', reported);
  }

  private defectEnded(e: DefectEvent): void {
    const key = `${e.type}@${e.start}`;
    const wallclock = this.active.get(key)?.wallclock ?? this.wallclock(e.start);
    this.active.delete(key);
    const n = Math.max(0, (this.activeByType.get(e.type) ?? 1) - 1);
    this.activeByType.set(e.type, n);
    if (n === 0) this.metrics.setDefect(e.type, false);
    const reported: ReportedEvent = { ...e, wallclock };
    if (e.end !== null)
      this.metrics.defectSeconds.inc({ stream: this.metrics.stream, type: e.type }, Math.max(0, e.end - e.start));
    this.recent.push(reported);
    if (this.recent.length > RECENT_EVENTS) this.recent.shift();
    this.log.info({ type: e.type, start: e.start, end: e.end }, 'defect ended');
    this.onDefect?.('ended', reported);
  }
}
