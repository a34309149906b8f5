/**
 * The HLS delivery metrics (prefix `streamqc_delivery_`, the `stream` label on every series,
 * base units, counters ending in `_total`), on the analyzer's registry. The `rendition` label
 * is bounded: a ladder is cut at MAX_RENDITIONS variants, and its names are kept per
 * playlist URL (delivery/hls-monitor.ts), and a rendition that left the ladder is remembered
 * (rendition_up 0) until MAX_RENDITIONS newer removals push it out (delivery/ladder-history.ts),
 * then its series are removed; `code` is an HTTP status (100-599) or `none`.
 */
import { Counter, Gauge, type Registry } from './prom.js';

export class DeliveryMetrics {
  readonly renditionUp: Gauge;
  readonly renditions: Gauge;
  readonly declaredBandwidth: Gauge;
  readonly segmentBitrate: Gauge;
  readonly fetchRatio: Gauge;
  readonly mediaSequence: Gauge;
  readonly segments: Counter;
  readonly segmentBytes: Counter;
  readonly segmentErrors: Counter;
  readonly playlistLoads: Counter;
  readonly playlistErrors: Counter;
  readonly cues: Counter;
  /** The `code` values counted per rendition, so that a forgotten rendition's error series can be removed. */
  private readonly codes = new Map<string, Set<string>>();

  constructor(registry: Registry) {
    const registers = [registry];
    const r = ['stream', 'rendition'] as const;
    this.renditionUp = new Gauge({
      name: 'streamqc_delivery_rendition_up',
      help: '1 while the rendition is listed, its playlist loads and advances; 0 otherwise',
      labelNames: r,
      registers,
    });
    this.renditions = new Gauge({
      name: 'streamqc_delivery_renditions',
      help: 'Renditions of the ladder: declared (listed) and alive',
      labelNames: ['stream', 'state'],
      registers,
    });
    this.declaredBandwidth = new Gauge({
      name: 'streamqc_delivery_declared_bandwidth_bits_per_second',
      help: 'BANDWIDTH the multivariant playlist declares for the rendition',
      labelNames: r,
      registers,
    });
    this.segmentBitrate = new Gauge({
      name: 'streamqc_delivery_segment_bitrate_bits_per_second',
      help: 'Size over duration of the last segment fetched',
      labelNames: r,
      registers,
    });
    this.fetchRatio = new Gauge({
      name: 'streamqc_delivery_segment_fetch_ratio',
      help: 'Fetch time over duration of the last segment fetched (above 1: slower than real time)',
      labelNames: r,
      registers,
    });
    this.mediaSequence = new Gauge({
      name: 'streamqc_delivery_media_sequence',
      help: 'Media sequence number of the newest segment the playlist lists',
      labelNames: r,
      registers,
    });
    this.segments = new Counter({
      name: 'streamqc_delivery_segments_total',
      help: 'Segments fetched',
      labelNames: r,
      registers,
    });
    this.segmentBytes = new Counter({
      name: 'streamqc_delivery_segment_bytes_total',
      help: 'Bytes of segments fetched',
      labelNames: r,
      registers,
    });
    this.segmentErrors = new Counter({
      name: 'streamqc_delivery_segment_errors_total',
      help: 'Segment fetches that failed, by HTTP status (none: no answer)',
      labelNames: ['stream', 'rendition', 'code'],
      registers,
    });
    this.playlistLoads = new Counter({
      name: 'streamqc_delivery_playlist_loads_total',
      help: 'Media playlist loads that succeeded',
      labelNames: r,
      registers,
    });
    this.playlistErrors = new Counter({
      name: 'streamqc_delivery_playlist_errors_total',
      help: 'Playlist loads that failed, by HTTP status (none: no answer or not a playlist)',
      labelNames: ['stream', 'rendition', 'code'],
      registers,
    });
    this.cues = new Counter({
      name: 'streamqc_delivery_cues_total',
      help: 'Ad cues the playlists mark (EXT-X-CUE-OUT/IN, EXT-X-DATERANGE SCTE35-OUT/IN), once per ladder',
      labelNames: ['stream', 'type'],
      registers,
    });
  }

  segmentError(stream: string, rendition: string, code: string): void {
    this.segmentErrors.inc({ stream, rendition, code });
    this.codeCounted(rendition, code);
  }

  playlistError(stream: string, rendition: string, code: string): void {
    this.playlistErrors.inc({ stream, rendition, code });
    this.codeCounted(rendition, code);
  }

  /**
   * A rendition left the ladder: the gauges of its declaration and last segment go (they would
   * show figures of a rendition no one serves); its rendition_up says 0 and its counters stay.
   */
  removed(stream: string, rendition: string): void {
    const labels = { stream, rendition };
    for (const g of [this.declaredBandwidth, this.segmentBitrate, this.fetchRatio, this.mediaSequence])
      g.remove(labels);
  }

  /** A removed rendition is no longer remembered: every series of it goes (bounded label values). */
  forget(stream: string, rendition: string): void {
    const labels = { stream, rendition };
    this.removed(stream, rendition);
    this.renditionUp.remove(labels);
    for (const c of [this.segments, this.segmentBytes, this.playlistLoads]) c.remove(labels);
    for (const code of this.codes.get(rendition) ?? []) {
      this.segmentErrors.remove({ ...labels, code });
      this.playlistErrors.remove({ ...labels, code });
    }
    this.codes.delete(rendition);
  }

  private codeCounted(rendition: string, code: string): void {
    let codes = this.codes.get(rendition);
    if (!codes) this.codes.set(rendition, (codes = new Set()));
    codes.add(code);
  }
}
