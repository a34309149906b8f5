/**
 * The analyzer's Prometheus metrics, per the metrics contract in DESIGN.md: prefix
 * `streamqc_`, the `stream` label on every series, base units, counters end in `_total`.
 * Renaming one is a breaking change (alerts and dashboards use these names).
 */
import { Counter, Gauge, Histogram, Registry, type GaugeConfiguration } from './prom.js';
import { DEFECT_TYPES, type DefectType } from '../detectors/types.js';
import { TransportMetrics } from '../transport/metrics.js';

/**
 * A gauge measured on every frame or audio block. setLatest() only keeps the value; reading the
 * metrics (a scrape, or get()) writes the latest of each series to the gauge. prom-client checks
 * and hashes the labels on every set: the 18,000 sets of a 30 s 720p clip cost about 65 ms of
 * node's CPU, about 5 % of its share of the analysis.
 */
export class LatestGauge<T extends string = string> extends Gauge<T> {
  private readonly latest = new Map<string, { labels: Partial<Record<T, string | number>>; value: number }>();

  constructor(config: Omit<GaugeConfiguration<T>, 'collect'>) {
    super({
      ...config,
      collect(this: Gauge<T>) {
        (this as LatestGauge<T>).publish();
      },
    });
  }

  setLatest(labels: Partial<Record<T, string | number>>, value: number): void {
    const key = Object.values(labels).join('\0');
    const entry = this.latest.get(key);
    if (entry) entry.value = value;
    else this.latest.set(key, { labels, value });
  }

  private publish(): void {
    for (const { labels, value } of this.latest.values()) this.set(labels, value);
    this.latest.clear();
  }
}

export class AnalyzerMetrics {
  readonly registry = new Registry();
  readonly up: Gauge;
  readonly frames: Counter;
  readonly framesDropped: Counter;
  readonly audioSeconds: Counter;
  readonly defectActive: Gauge;
  readonly defects: Counter;
  readonly defectSeconds: Counter;
  readonly blackRatio: LatestGauge;
  readonly blockiness: LatestGauge;
  readonly blur: LatestGauge;
  readonly meanLuma: LatestGauge;
  readonly loudness: LatestGauge;
  readonly truePeak: LatestGauge;
  readonly loudnessMax: LatestGauge;
  readonly loudnessRange: LatestGauge;
  readonly truePeakMax: LatestGauge;
  readonly programmeLoudness: Gauge;
  readonly programmeRange: Gauge;
  readonly programmeTruePeak: Gauge;
  readonly programmePeriods: Counter;
  readonly avOffset: Gauge;
  readonly inputBitrate: Gauge;
  readonly streamInfo: Gauge;
  readonly decodeErrors: Counter;
  readonly reconnects: Counter;
  readonly lag: Gauge;
  readonly processing: Histogram;
  readonly frameRate: Gauge;
  readonly featureBackend: Gauge;
  /** The transport checks' series (transport/metrics.ts). */
  readonly transport: TransportMetrics;

  constructor(readonly stream: string) {
    const registers = [this.registry];
    const s = ['stream'] as const;
    this.registry.setDefaultLabels({});
    this.up = new Gauge({
      name: 'streamqc_up',
      help: '1 while media is flowing from the source, 0 otherwise',
      labelNames: s,
      registers,
    });
    this.frames = new Counter({
      name: 'streamqc_frames_total',
      help: 'Video frames decoded',
      labelNames: s,
      registers,
    });
    this.framesDropped = new Counter({
      name: 'streamqc_frames_dropped_total',
      help: 'Video frames decoded but not analysed because analysis lagged real time',
      labelNames: s,
      registers,
    });
    this.audioSeconds = new Counter({
      name: 'streamqc_audio_seconds_total',
      help: 'Seconds of audio analysed',
      labelNames: s,
      registers,
    });
    this.defectActive = new Gauge({
      name: 'streamqc_defect_active',
      help: '1 while a defect of this type is active',
      labelNames: ['stream', 'type'],
      registers,
    });
    this.defects = new Counter({
      name: 'streamqc_defects_total',
      help: 'Defect events started',
      labelNames: ['stream', 'type'],
      registers,
    });
    this.defectSeconds = new Counter({
      name: 'streamqc_defect_seconds_total',
      help: 'Seconds spent in closed defect events',
      labelNames: ['stream', 'type'],
      registers,
    });
    this.blackRatio = new LatestGauge({
      name: 'streamqc_video_black_ratio',
      help: 'Share of dark pixels in the last analysed frame',
      labelNames: s,
      registers,
    });
    this.blockiness = new LatestGauge({
      name: 'streamqc_video_blockiness',
      help: 'Block-grid edge energy ratio of the last analysed frame (1 = no grid)',
      labelNames: s,
      registers,
    });
    this.blur = new LatestGauge({
      name: 'streamqc_video_blur',
      help: 'Loss of detail against the stream baseline, 0 (sharp) to 1',
      labelNames: s,
      registers,
    });
    this.meanLuma = new LatestGauge({
      name: 'streamqc_video_luma_mean',
      help: 'Mean luma of the last analysed frame, 0..255',
      labelNames: s,
      registers,
    });
    this.loudness = new LatestGauge({
      name: 'streamqc_audio_loudness_lufs',
      help: 'EBU R128 loudness',
      labelNames: ['stream', 'window'],
      registers,
    });
    this.truePeak = new LatestGauge({
      name: 'streamqc_audio_true_peak_dbtp',
      help: 'Highest true peak over the last second',
      labelNames: s,
      registers,
    });
    this.loudnessMax = new LatestGauge({
      name: 'streamqc_audio_loudness_max_lufs',
      help: 'Highest EBU R128 loudness of the segment, on a 10 ms grid (EBU Mode Max M and Max S)',
      labelNames: ['stream', 'window'],
      registers,
    });
    this.loudnessRange = new LatestGauge({
      name: 'streamqc_audio_loudness_range_lu',
      help: 'EBU Tech 3342 loudness range (LRA) of the segment',
      labelNames: s,
      registers,
    });
    this.truePeakMax = new LatestGauge({
      name: 'streamqc_audio_true_peak_max_dbtp',
      help: 'Highest true peak of the segment',
      labelNames: s,
      registers,
    });
    this.programmeLoudness = new Gauge({
      name: 'streamqc_audio_programme_loudness_lufs',
      help: 'Integrated loudness of the last complete programme period (report period or between markers)',
      labelNames: s,
      registers,
    });
    this.programmeRange = new Gauge({
      name: 'streamqc_audio_programme_loudness_range_lu',
      help: 'Loudness range (LRA) of the last complete programme period',
      labelNames: s,
      registers,
    });
    this.programmeTruePeak = new Gauge({
      name: 'streamqc_audio_programme_true_peak_max_dbtp',
      help: 'Highest true peak of the last complete programme period',
      labelNames: s,
      registers,
    });
    this.programmePeriods = new Counter({
      name: 'streamqc_audio_programme_periods_total',
      help: 'Programme loudness periods completed',
      labelNames: s,
      registers,
    });
    this.avOffset = new Gauge({
      name: 'streamqc_av_offset_seconds',
      help: 'Audio minus video timestamp drift from the stream start',
      labelNames: s,
      registers,
    });
    this.inputBitrate = new Gauge({
      name: 'streamqc_input_bitrate_bits_per_second',
      help: 'Source bitrate as reported by the container',
      labelNames: s,
      registers,
    });
    this.streamInfo = new Gauge({
      name: 'streamqc_stream_info',
      help: 'Stream facts as labels; value 1',
      labelNames: ['stream', 'video_codec', 'resolution', 'frame_rate', 'audio_codec', 'sample_rate', 'channel_layout'],
      registers,
    });
    this.decodeErrors = new Counter({
      name: 'streamqc_decode_errors_total',
      help: 'Corrupt-data reports from the decoder',
      labelNames: s,
      registers,
    });
    this.reconnects = new Counter({
      name: 'streamqc_reconnects_total',
      help: 'Reconnects to the source after loss',
      labelNames: s,
      registers,
    });
    this.lag = new Gauge({
      name: 'streamqc_analysis_lag_seconds',
      help: 'How far analysis is behind real time (live sources)',
      labelNames: s,
      registers,
    });
    this.processing = new Histogram({
      name: 'streamqc_frame_processing_seconds',
      help: 'CPU time to analyse one video frame',
      labelNames: s,
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1],
      registers,
    });
    this.frameRate = new Gauge({
      name: 'streamqc_video_frame_rate',
      help: 'Decoded frames per second (nominal)',
      labelNames: s,
      registers,
    });
    this.featureBackend = new Gauge({
      name: 'streamqc_feature_backend_info',
      help: 'Feature backend in use (cpu kernel or onnx with its execution provider); value 1',
      labelNames: ['stream', 'backend', 'execution_provider'],
      registers,
    });
    this.transport = new TransportMetrics(this.registry, stream);
    // Every defect type exists from the start, so alerts and dashboards see zeros, not gaps.
    for (const type of DEFECT_TYPES) this.setDefect(type, false);
    for (const type of DEFECT_TYPES) {
      this.defects.inc({ stream, type }, 0);
      this.defectSeconds.inc({ stream, type }, 0);
    }
    this.up.set({ stream }, 0);
    this.frames.inc({ stream }, 0);
    this.framesDropped.inc({ stream }, 0);
    this.decodeErrors.inc({ stream }, 0);
    this.reconnects.inc({ stream }, 0);
    this.programmePeriods.inc({ stream }, 0);
  }

  setDefect(type: DefectType, active: boolean): void {
    this.defectActive.set({ stream: this.stream, type }, active ? 1 : 0);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
