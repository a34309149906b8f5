/**
 * The delivery stage: for an HLS or DASH source (manifest-kind.ts tells which), the analyzer's
 * own client (hls-monitor.ts, dash-monitor.ts) follows every rendition; what it observes goes
 * to the detectors (their onDelivery), the delivery metrics and /status; the chosen
 * rendition's segments go to the decoder through a pipe (segment-feed.ts), so ffmpeg never
 * downloads them a second time. Any other source, or a manifest the client cannot load, is
 * decoded as before: ffmpeg opens the URL itself.
 */
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AnalyzerConfig } from '../config.js';
import type { CueStatus, DeliveryStatus, RenditionStatus, ReportedEvent } from '../contract/status.js';
import type { Detector } from '../detectors/types.js';
import { cappedBackoff } from '../backoff.js';
import { redactUrlsIn } from '../ingest/redact-url.js';
import type { MediaFeed } from '../ingest/session-loop.js';
import { credentialsApart, type SourceRef } from '../ingest/source-url.js';
import type { DeliveryMetrics } from '../report/delivery-metrics.js';
import { DashDeliveryMonitor, type DashMonitorOptions } from './dash-monitor.js';
import { httpRequest, type FetchOptions } from './fetch.js';
import { deliveryTakes, kindByAnswer, kindByPath, preview, SNIFF_BYTES, type ManifestKind } from './manifest-kind.js';
import { HlsDeliveryMonitor, type CueEvent, type HlsMonitorOptions } from './hls-monitor.js';

export type { CueEvent } from './hls-monitor.js';
import type { DeliveryObservation } from './observations.js';
import { LadderHistory } from './ladder-history.js';
import { HIGHEST } from './options.js';
import type { SegmentRef, VariantDeclaration } from './playlist.js';
import type { RenditionView } from './rendition-poller.js';
import { SegmentFeed } from './segment-feed.js';

/** Observations kept until the detectors exist (they are built once the first segment is probed). */
const MAX_PENDING_OBSERVATIONS = 512;
const RECENT_CUES = 20;
/** The defects that make a rendition not alive. */
const DOWN_TYPES = new Set(['playlist_stale', 'rendition_down']);

export interface DeliveryDeps {
  /** Timeline seconds now. */
  now: () => number;
  metrics: DeliveryMetrics;
  stream: string;
  /** The defects active now: a rendition with playlist_stale or rendition_down is not alive. */
  activeDefects: () => readonly ReportedEvent[];
  /** The ISO 8601 wall-clock time of timeline seconds `t`. */
  wallclock: (t: number) => string;
  log: Logger;
  ffprobePath?: string;
  /** Each segment the decoder is given, for the transport checks. */
  transport?: (segment: SegmentRef, body: Buffer) => void;
  /** Each cue the playlists mark, once per ladder (for the cue events, metrics and defects). */
  cue?: (cue: CueEvent) => void;
  /**
   * The decoder must start a new session on the fetched segments: the client follows a source
   * it could not follow at start, or the decoded rendition needs another initialization segment.
   */
  reopenDecoder?: () => void;
  /** Uniform in [0, 1): the jitter of the retries. */
  random?: () => number;
}

export class DeliveryStage {
  private monitor: HlsDeliveryMonitor | DashDeliveryMonitor | null = null;
  /** The client while start() sets it up: stop() ends it there too. */
  private starting: HlsDeliveryMonitor | DashDeliveryMonitor | null = null;
  private readonly stopping = new AbortController();
  /** The attempts to follow a source that could not be followed at start. */
  private retrying: Promise<void> = Promise.resolve();
  /** Why the decoded rendition's last segment or playlist failed (redacted); null after a segment arrived. */
  private lastSegmentProblem: string | null = null;
  private feed: SegmentFeed | null = null;
  private chosen: string | null = null;
  private detectors: Detector[] | null = null;
  private pending: DeliveryObservation[] = [];
  private readonly cues: CueStatus[] = [];
  /** Renditions that left the ladder: still shown, as down, until they return (bounded). */
  private readonly history = new LadderHistory();

  constructor(
    private readonly config: AnalyzerConfig,
    private readonly source: SourceRef,
    private readonly deps: DeliveryDeps,
  ) {}

  /**
   * The stage for a source that may be an HLS or DASH manifest (an http(s) URL whose path does
   * not name media), or null (another source, or `delivery.enabled` is off).
   */
  static for(config: AnalyzerConfig, source: SourceRef, deps: DeliveryDeps): DeliveryStage | null {
    return deliveryTakes(config.delivery.enabled, source) ? new DeliveryStage(config, source, deps) : null;
  }

  /**
   * Loads the playlist and starts following it. Returns why the run cannot go on (a rendition
   * asked for by name that the ladder lacks), or null. A source the client cannot follow (a
   * playlist that cannot be loaded, lists itself, or whose chosen variant is no media playlist)
   * is left to ffmpeg, whose probe has the deadlines and the messages of any source.
   */
  async start(): Promise<string | null> {
    const { url, authorization } = credentialsApart(this.source.input);
    const kind = kindByPath(this.source) ?? (await this.kindByAnswer(url, authorization));
    if (kind === 'media' || kind === null || this.stopped()) return null;
    const outcome = await this.follow(kind, url, authorization, false);
    if (outcome === 'retry' && !this.stopped()) this.retrying = this.followLater(kind, url, authorization);
    return typeof outcome === 'object' ? outcome.refused : null;
  }

  /**
   * The source could not be followed at start (its origin down, its playlist failing): ffmpeg
   * reads it meanwhile, and the client tries again with the reconnect backoff (ingest.reconnect*)
   * until it follows; then the decoder switches to the fetched segments (deps.reopenDecoder).
   */
  private async followLater(
    kind: ManifestKind,
    url: string,
    authorization: FetchOptions['authorization'],
  ): Promise<void> {
    const { reconnectInitialDelay, reconnectMaxDelay, reconnectJitter } = this.config.ingest;
    const random = this.deps.random ?? Math.random;
    for (let attempt = 0; !this.stopped(); attempt++) {
      const delay = cappedBackoff(attempt, reconnectInitialDelay, reconnectMaxDelay, reconnectJitter, random());
      await sleep(delay * 1000, undefined, { signal: this.stopping.signal }).catch(() => undefined);
      if (this.stopped()) return;
      const outcome = await this.follow(kind, url, authorization, true);
      if (outcome === 'retry') continue;
      if (typeof outcome === 'object') {
        this.deps.log.warn({ source: this.source.display }, `${outcome.refused}: delivery checks stay off`);
      }
      if (outcome === 'following') this.deps.reopenDecoder?.();
      return;
    }
  }

  /**
   * One attempt to follow the source: `following`, `retry` (it may load later), `left` (it
   * never will: a file, an EXT-X-MAP byte range, a stop), or why the run cannot go on.
   */
  private async follow(
    kind: ManifestKind,
    url: string,
    authorization: FetchOptions['authorization'],
    again: boolean,
  ): Promise<'following' | 'retry' | 'left' | { refused: string }> {
    const dash = kind === 'dash';
    const monitor = this.client(kind, {
      url,
      now: this.deps.now,
      observe: (o) => this.observe(o),
      cue: (c) => this.cueSeen(c),
      segmentFetched: (rendition: string, segment: SegmentRef, body: Buffer, init?: Buffer | null) => {
        if (rendition !== this.chosen) return;
        // Fragmented MP4 (DASH, HLS with EXT-X-MAP) starts with its initialization segment; another
        // one (a Period or a map coded otherwise) starts another decode session, probed anew, here.
        if (init && this.feed?.setHeader(init) === true) this.deps.reopenDecoder?.();
        this.feed?.push(body, segment);
      },
      timeoutSeconds: this.config.ingest.ioTimeout,
      probe: this.config.delivery.probe,
      segmentChecks: this.config.delivery.segmentChecks,
      decoded: (rendition) => rendition === this.chosen,
      ffprobePath: this.deps.ffprobePath,
      authorization,
      multivariantReloadSeconds: this.config.delivery.multivariantReload,
    });
    this.starting = monitor;
    try {
      await monitor.start();
    } catch (err) {
      await this.leftToFfmpeg(monitor, redactUrlsIn((err as Error).message), again);
      return 'retry';
    }
    if (this.stopped()) {
      await this.leftToFfmpeg(monitor, 'stopped');
      return 'left';
    }
    const renditions = monitor.renditions;
    // DASH lists audio as Representations of their own: `highest` is among those with a picture.
    const decodable = monitor instanceof DashDeliveryMonitor ? monitor.decodable : renditions;
    const chosen = chooseRendition(decodable, this.config.delivery.rendition);
    if (chosen === null) {
      await this.leftToFfmpeg(monitor, null);
      const names = decodable.map((r) => r.name).join(', ');
      return {
        refused: `delivery.rendition "${this.config.delivery.rendition}" is not in the ladder of ${this.source.display}: it has ${names} (or ${HIGHEST})`,
      };
    }
    // Chosen before any segment arrives (the first loads are still in flight): its first
    // segment is downloaded in full and reaches the decoder.
    this.chosen = chosen;
    const pipe: SourceRef = { input: 'pipe:0', scheme: 'pipe', display: this.source.display, live: true };
    // The transport checks read MPEG-TS: fragmented MP4 segments (DASH's, HLS's with EXT-X-MAP) are not theirs.
    const tsChecks = this.deps.transport;
    const transport =
      dash || tsChecks === undefined
        ? undefined
        : (segment: SegmentRef, body: Buffer) => {
            if (!segment.initUri) tsChecks(segment, body);
          };
    this.feed = new SegmentFeed(pipe, true, this.config.ingest.ioTimeout, () => this.lastSegmentProblem, transport);
    const first = await this.firstLoad(monitor, chosen);
    if (!first?.loaded) {
      const why = first?.lastFailure?.error ?? `no answer within ${this.config.ingest.ioTimeout} s`;
      const reason = `the playlist of rendition ${chosen} cannot be followed: ${redactUrlsIn(why)}`;
      await this.leftToFfmpeg(monitor, reason, again);
      return 'retry';
    }
    if (first.ended || first.initByteRange === true) {
      // A playlist with an end (a static MPD) is a file, not a live delivery: ffmpeg reads it to its
      // end. Fragmented MP4 is followed (its initialization section heads the pipe), unless
      // EXT-X-MAP names a byte range, which the client does not read: left to ffmpeg too.
      const why = first.ended ? 'has an end' : 'has an EXT-X-MAP byte range';
      await this.leftToFfmpeg(monitor, null);
      this.deps.log.info(
        { source: this.source.display },
        `the ${dash ? 'MPD' : 'HLS playlist'} ${why}: decoded by ffmpeg, no delivery checks`,
      );
      return 'left';
    }
    this.monitor = monitor;
    this.starting = null;
    this.deps.log.info(
      { source: this.source.display, rendition: chosen, ladder: renditions.length },
      dash ? 'following DASH' : 'following HLS',
    );
    return 'following';
  }

  /** A call, not a field read: stop() aborts while start() awaits, which flow analysis cannot see. */
  private stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /**
   * The client lets the source go: ffmpeg opens it itself (and says what is wrong with it).
   * A retry that fails again says so only at debug level (the first failure was a warning).
   */
  private async leftToFfmpeg(
    monitor: HlsDeliveryMonitor | DashDeliveryMonitor,
    reason: string | null,
    again = false,
  ): Promise<void> {
    await monitor.stop();
    this.chosen = null;
    this.feed = null;
    this.starting = null;
    if (reason !== null && !this.stopped()) {
      const protocol = monitor instanceof DashDeliveryMonitor ? 'DASH' : 'HLS';
      const log = again ? this.deps.log.debug.bind(this.deps.log) : this.deps.log.warn.bind(this.deps.log);
      log({ source: this.source.display, reason }, `${protocol} delivery checks off; ffmpeg reads the source`);
    }
  }

  /**
   * The chosen rendition after its first load: once loaded, once its playlist turned out
   * unusable (a 2xx whose body is no media playlist: no retry makes it one), or after an I/O
   * timeout.
   */
  private async firstLoad(
    monitor: { renditions: RenditionView[] },
    chosen: string,
  ): Promise<RenditionView | undefined> {
    const deadline = performance.now() + this.config.ingest.ioTimeout * 1000;
    for (;;) {
      const view = monitor.renditions.find((r) => r.name === chosen);
      const status = view?.lastFailure?.status ?? null;
      const unusable = status !== null && status >= 200 && status <= 299;
      if (view?.loaded || unusable || this.stopping.signal.aborted || performance.now() > deadline) return view;
      await sleep(50);
    }
  }

  /** The client of the source's protocol. */
  private client(
    kind: ManifestKind,
    options: HlsMonitorOptions & DashMonitorOptions,
  ): HlsDeliveryMonitor | DashDeliveryMonitor {
    return kind === 'dash' ? new DashDeliveryMonitor(options) : new HlsDeliveryMonitor(options);
  }

  /**
   * A URL whose path does not say: its answer's Content-Type, or its first bytes. Neither (a
   * progressive download, a TS over HTTP), or no answer: null, and ffmpeg reads the source.
   */
  private async kindByAnswer(url: string, authorization: FetchOptions['authorization']): Promise<ManifestKind | null> {
    const { ioTimeout } = this.config.ingest;
    const options = { timeoutSeconds: ioTimeout, maxBytes: SNIFF_BYTES, signal: this.stopping.signal, authorization };
    const answer = await httpRequest(url, 'peek', options);
    const source = this.source.display;
    if (answer.body === null) {
      if (!this.stopped()) {
        const reason = redactUrlsIn(answer.error ?? '');
        this.deps.log.warn({ source, reason }, 'cannot tell whether the source is HLS or DASH; ffmpeg reads it');
      }
      return null;
    }
    const kind = kindByAnswer(answer.contentType, answer.body);
    if (kind === null) {
      this.deps.log.info(
        { source, contentType: answer.contentType, start: preview(answer.body) },
        'neither an HLS playlist (#EXTM3U, application/vnd.apple.mpegurl) nor a DASH MPD (<MPD, application/dash+xml): ffmpeg reads the source, no delivery checks',
      );
    }
    return kind;
  }

  /** What the decoder reads: the chosen rendition's segments; null when the client does not follow the source. */
  mediaFeed(): MediaFeed | null {
    // While a retry is still making sure of the source, the decoder keeps reading it itself.
    return this.monitor ? this.feed : null;
  }

  /** The detectors are built: they get what was observed so far, then everything as it comes. */
  attach(detectors: Detector[]): void {
    this.detectors = detectors.filter((d) => d.onDelivery !== undefined);
    for (const o of this.pending.splice(0)) this.deliver(o);
  }

  /** Ends the client (also while start() is loading: it returns at once and ffmpeg is not started). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.starting?.stop();
    await this.retrying;
    await this.monitor?.stop();
    this.feed?.close();
  }

  /**
   * The ladder for /status: the renditions listed now, then those that left it (down since the
   * load that first missed them); null when the client does not follow the source.
   */
  status(): DeliveryStatus | null {
    if (!this.monitor) return null;
    // The earliest defect that holds each rendition down: since when it is down.
    const down = new Map<string, ReportedEvent>();
    for (const e of this.deps.activeDefects()) {
      const name = String(e.detail?.rendition);
      const before = down.get(name);
      if (DOWN_TYPES.has(e.type) && (before === undefined || e.start < before.start)) down.set(name, e);
    }
    const listed = this.monitor.renditions.map((r) => {
      const event = down.get(r.name);
      const alive = r.loaded && event === undefined;
      return renditionStatus(r, alive, true, event ? { t: event.start, wallclock: event.wallclock } : null);
    });
    const names = new Set(listed.map((r) => r.name));
    const removed = this.history.removed
      .filter((g) => !names.has(g.view.name))
      .map((g) => {
        // Its rendition_down (reason `removed`) starts at the same load; without it (the detector is off), the load's time.
        const event = down.get(g.view.name);
        const since = event && event.start <= g.since.t ? { t: event.start, wallclock: event.wallclock } : g.since;
        return renditionStatus(g.view, false, false, since);
      });
    const alive = listed.filter((r) => r.alive).length;
    const renditions = [...listed, ...removed];
    return { rendition: this.chosen, declared: listed.length, alive, renditions, cues: [...this.cues] };
  }

  /** The ladder's gauges, as of now (every tick of the client): a removed rendition reads 0. */
  private ladderMeasured(): void {
    if (this.monitor) this.history.followed(this.monitor.renditions);
    const ladder = this.status();
    if (!ladder) return;
    const { metrics, stream } = this.deps;
    metrics.renditions.set({ stream, state: 'declared' }, ladder.declared);
    metrics.renditions.set({ stream, state: 'alive' }, ladder.alive);
    for (const r of ladder.renditions) metrics.renditionUp.set({ stream, rendition: r.name }, r.alive ? 1 : 0);
  }

  /** A ladder load: removed renditions keep only their down gauge; forgotten ones lose every series. */
  private ladderListed(t: number, variants: readonly VariantDeclaration[]): void {
    const { metrics, stream } = this.deps;
    const { removed, forgotten } = this.history.listed({ t, wallclock: this.deps.wallclock(t) }, variants);
    for (const name of removed) metrics.removed(stream, name);
    for (const name of forgotten) metrics.forget(stream, name);
    if (removed.length > 0) this.ladderMeasured();
  }

  private observe(o: DeliveryObservation): void {
    if ('rendition' in o && o.rendition === this.chosen) {
      if (o.kind === 'segment') this.lastSegmentProblem = null;
      if (o.kind === 'segment_failed' || o.kind === 'playlist_failed') {
        const what = o.kind === 'segment_failed' ? `segment ${o.segment.msn}` : 'playlist';
        this.lastSegmentProblem = `${what} of rendition ${o.rendition}: ${redactUrlsIn(o.error)}`;
      }
    }
    if (this.detectors) {
      this.deliver(o);
    } else if (this.pending.length < MAX_PENDING_OBSERVATIONS) {
      this.pending.push(o);
    }
    // After the detectors: the ladder's gauges read the defects this observation started or ended.
    this.measure(o);
  }

  private deliver(o: DeliveryObservation): void {
    for (const d of this.detectors ?? []) d.onDelivery?.(o);
  }

  /** The delivery metrics of one observation. */
  private measure(o: DeliveryObservation): void {
    const { metrics, stream } = this.deps;
    switch (o.kind) {
      case 'playlist': {
        const labels = { stream, rendition: o.rendition };
        metrics.playlistLoads.inc(labels);
        const last = o.snapshot.segments.at(-1);
        if (last) metrics.mediaSequence.set(labels, last.msn);
        return;
      }
      case 'playlist_failed':
        metrics.playlistError(stream, o.rendition, String(o.status ?? 'none'));
        return;
      case 'segment': {
        const labels = { stream, rendition: o.rendition };
        metrics.segments.inc(labels);
        // Bytes downloaded: a headers-only check downloads none (its size still gives the bit rate).
        if (o.check === 'full' && o.bytes !== null) metrics.segmentBytes.inc(labels, o.bytes);
        if (o.segment.duration > 0) {
          if (o.bytes !== null) metrics.segmentBitrate.set(labels, (o.bytes * 8) / o.segment.duration);
          metrics.fetchRatio.set(labels, o.fetchSeconds / o.segment.duration);
        }
        return;
      }
      case 'segment_failed':
        metrics.segmentError(stream, o.rendition, String(o.status ?? 'none'));
        return;
      case 'ladder':
        this.ladderListed(o.t, o.variants);
        for (const v of o.variants) metrics.declaredBandwidth.set({ stream, rendition: v.name }, v.bandwidth);
        return;
      case 'tick':
        this.ladderMeasured();
        return;
      default:
        return;
    }
  }

  private cueSeen(cue: CueEvent): void {
    this.cues.push({ ...cue });
    if (this.cues.length > RECENT_CUES) this.cues.shift();
    this.deps.metrics.cues.inc({ stream: this.deps.stream, type: cue.type });
    this.deps.cue?.(cue);
    this.deps.log.info(
      { cue: cue.type, t: cue.t, duration: cue.duration, id: cue.id, rendition: cue.rendition },
      'cue',
    );
  }
}

/** The rendition to decode: `highest` is the largest declared BANDWIDTH; a name must be in the ladder. */
export function chooseRendition(renditions: readonly RenditionView[], wanted: string): string | null {
  if (wanted !== HIGHEST) return renditions.some((r) => r.name === wanted) ? wanted : null;
  let best: RenditionView | null = null;
  for (const r of renditions) {
    if (best === null || (r.declared?.bandwidth ?? 0) > (best.declared?.bandwidth ?? 0)) best = r;
  }
  return best?.name ?? null;
}

function renditionStatus(
  r: RenditionView,
  alive: boolean,
  listed: boolean,
  down: { t: number; wallclock: string } | null,
): RenditionStatus {
  const d = r.declared;
  return {
    name: r.name,
    listed,
    downSince: alive ? null : (down?.wallclock ?? null),
    downStart: alive ? null : (down?.t ?? null),
    bandwidth: d?.bandwidth ?? null,
    resolution: d?.resolution ? `${d.resolution.width}x${d.resolution.height}` : null,
    codecs: d?.codecs ?? null,
    frameRate: d?.frameRate ?? null,
    alive,
    targetDuration: r.targetDuration,
    lastMediaSequence: r.lastMediaSequence,
    segmentBitrate: r.segmentBitrate === null ? null : Math.round(r.segmentBitrate),
    fetchRatio: r.fetchRatio === null ? null : Math.round(r.fetchRatio * 1000) / 1000,
  };
}
