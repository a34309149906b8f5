/**
 * One rendition of an HLS ladder, followed the way RFC 8216 section 6.3.4 tells a client to:
 * after a load that changed the playlist, the next reload waits the target duration (from the
 * start of that load); after a load that changed nothing, half of it. Every segment that
 * appears is checked once, in order, by a second loop, so a slow segment never delays the
 * playlist's cadence: the decoded rendition's segments (or all, with segmentChecks `all`) are
 * downloaded; another rendition's get a HEAD, and the segment that is probed (the first of
 * each discontinuity sequence) a read of its first bytes: downloaded and ffprobed only when
 * they show other media than the last probe (media-fingerprint.ts), so that a ladder costs
 * little more than its decoded rendition. Both loops only observe; the detectors judge.
 */
import { httpGet, httpRequest, type FetchOptions, type FetchResult, type RequestKind } from './fetch.js';
import { watchLoopLag } from './loop-lag.js';
import { FINGERPRINT_BYTES, mediaFingerprint } from './media-fingerprint.js';
import type { DeliveryObservation, ProbedSegment } from './observations.js';
import { parsePlaylist, type MediaPlaylistSnapshot, type SegmentRef, type VariantDeclaration } from './playlist.js';
import { probeSegment } from './probe-segment.js';
import { SegmentQueue } from './segment-queue.js';

/** Segments waiting to be fetched; older ones are skipped when the fetcher falls further behind. */
const MAX_PENDING_SEGMENTS = 8;
/**
 * A media playlist larger than this is refused (an http_error naming the size): parsing is
 * synchronous, about 0.2 s per MiB, and must not starve /status. 1 MiB holds some 7000
 * segments, hours of a live window.
 */
export const MAX_PLAYLIST_BYTES = 1024 * 1024;
/**
 * Bytes of changed playlist text parsed per second of a rendition's reload cadence, at most:
 * about 5% of the event loop at the parser's 5 MB/s, so that a ladder of large, ever-changing
 * playlists cannot starve /status. A window of 2000 segments (some 300 kB) still reloads
 * every 1.2 s; counted in bytes, not parse time, so that a loaded machine does not slow it.
 */
const PARSE_BYTES_PER_SECOND = 256 * 1024;
/** A segment larger than this is refused (bounded memory): 60 s at 30 Mbit/s. */
export const MAX_SEGMENT_BYTES = 256 * 1024 * 1024;
/** Reload delay before any target duration is known (the first load failed). */
const FIRST_RETRY_SECONDS = 1;
/**
 * The shortest target duration the reload cadence follows: RFC 8216 4.3.3.1 makes it a whole
 * number of seconds, so a playlist that claims less (0.001) cannot drive a tight reload loop.
 */
const MIN_TARGET_DURATION = 1;
/** A segment fetch may take this many times its duration (segment_slow's largest ratio) before it is cut. */
const SEGMENT_DEADLINE_DURATIONS = 10;
/** ... and never longer than this, whatever the playlist claims. */
const MAX_SEGMENT_SECONDS = 600;
/** Statuses by which a server refuses HEAD rather than the segment (a signed URL valid for GET only answers 403). */
const HEAD_REFUSED = new Set([403, 405, 501]);

/**
 * A discontinuity is probed again only this long after the rendition's last probe: ffprobe
 * costs about 0.1 s of CPU, and a stream with a discontinuity at every segment (some ad
 * insertion does that) would otherwise probe every rendition every segment.
 */
export const MIN_PROBE_INTERVAL_SECONDS = 30;

/** Which renditions' segments are downloaded: the decoded one's (others: headers only), or all. */
export type SegmentChecks = 'decoded' | 'all';

export interface PollerContext {
  /** Timeline seconds now. */
  now: () => number;
  observe: (observation: DeliveryObservation) => void;
  /** The bytes of each fetched segment (for the decoder of the chosen rendition). */
  segmentFetched?: (rendition: string, segment: SegmentRef, body: Buffer) => void;
  timeoutSeconds: number;
  /** Probe the first segment of each discontinuity sequence (declared RESOLUTION/CODECS/FRAME-RATE against the media). */
  probe: boolean;
  /** Seconds between probes at discontinuities (default MIN_PROBE_INTERVAL_SECONDS). */
  probeIntervalSeconds?: number;
  /** `decoded`: only the decoded rendition's segments are downloaded (default `all`). */
  segmentChecks?: SegmentChecks;
  /** Whether a rendition is the decoded one (its segments are always downloaded). */
  decoded?: (rendition: string) => boolean;
  ffprobePath?: string;
  authorization?: FetchOptions['authorization'];
}

/** What `/status` shows of one rendition. */
export interface RenditionView {
  name: string;
  declared: VariantDeclaration | null;
  /** The last playlist load succeeded. */
  loaded: boolean;
  targetDuration: number | null;
  lastMediaSequence: number | null;
  /** Timeline seconds of the last load that added a segment. */
  lastAdvanceAt: number | null;
  /** The last fetched segment's size over its duration, bits/s. */
  segmentBitrate: number | null;
  /** The last fetched segment's fetch time over its duration (over 1: slower than real time). */
  fetchRatio: number | null;
  /** The playlist has ended (EXT-X-ENDLIST): a finite presentation. */
  ended: boolean;
  /** Its segments need EXT-X-MAP's initialization section (fragmented MP4). */
  initSection: boolean;
  /** Why the last playlist load failed, with the HTTP status (a 2xx: the body is no usable playlist); null after a success. */
  lastFailure: { status: number | null; error: string } | null;
}

export class RenditionPoller {
  private previous: MediaPlaylistSnapshot | null = null;
  private previousText: string | null = null;
  private readonly queue = new SegmentQueue(MAX_PENDING_SEGMENTS, () => this.stopped());
  private readonly stopping = new AbortController();
  /** The discontinuity sequence whose first segment was probed; null: probe the next segment. */
  private probedSequence: number | null = null;
  /** The fingerprint of the last segment ffprobe read, and what it found (media-fingerprint.ts). */
  private lastProbe: { fingerprint: string; probed: ProbedSegment } | null = null;
  /** Monotonic ms of the last probe. */
  private probedAt = Number.NEGATIVE_INFINITY;
  /** The server refused HEAD for a segment: headers-only checks ask for one byte instead. */
  private headRefused = false;
  /** Bytes the last load parsed (the reload cadence backs off from large changing playlists). */
  private parsedBytes = 0;
  private view: RenditionView;
  private readonly done: Promise<void>;

  constructor(
    readonly name: string,
    readonly uri: string,
    private declared: VariantDeclaration | null,
    private readonly context: PollerContext,
  ) {
    this.view = {
      name,
      declared,
      loaded: false,
      targetDuration: null,
      lastMediaSequence: null,
      lastAdvanceAt: null,
      segmentBitrate: null,
      fetchRatio: null,
      ended: false,
      initSection: false,
      lastFailure: null,
    };
    this.done = Promise.all([this.pollPlaylist(), this.queue.run((segment) => this.fetchSegment(segment))]).then(
      () => undefined,
    );
  }

  get status(): RenditionView {
    return { ...this.view, declared: this.declared };
  }

  /** The multivariant playlist was reloaded and still lists this rendition (maybe with new attributes). */
  redeclare(declared: VariantDeclaration): void {
    const before = this.declared;
    // A changed declaration is checked against the media again, on the next segment.
    if (
      before &&
      (resolutionText(before) !== resolutionText(declared) ||
        before.codecs !== declared.codecs ||
        before.frameRate !== declared.frameRate)
    ) {
      this.probedSequence = null;
    }
    this.declared = declared;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.queue.interrupt();
    await this.done;
  }

  /** A call, not a field read: stop() flips it while a fetch is awaited, which flow analysis cannot see. */
  private stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async pollPlaylist(): Promise<void> {
    while (!this.stopped()) {
      const started = performance.now();
      this.parsedBytes = 0;
      const wait = await this.loadPlaylist();
      if (wait === null) return; // the playlist ended (EXT-X-ENDLIST): nothing more will come
      const parseBudget = (this.parsedBytes / PARSE_BYTES_PER_SECOND) * 1000;
      await this.sleep(Math.max(wait * 1000 - (performance.now() - started), parseBudget));
    }
  }

  /** One load; returns the seconds until the next, or null when the playlist ended. */
  private async loadPlaylist(): Promise<number | null> {
    const retry = this.previous === null ? FIRST_RETRY_SECONDS : reloadTarget(this.previous) / 2;
    const requestedAt = this.context.now();
    const result = await this.get(this.uri, MAX_PLAYLIST_BYTES);
    if (this.stopped()) return retry;
    const failed = (error: string): number => {
      this.view.loaded = false;
      this.view.lastFailure = { status: result.status, error };
      const { now, observe } = this.context;
      observe({ kind: 'playlist_failed', t: now(), rendition: this.name, status: result.status, error });
      return retry;
    };
    if (result.body === null) return failed(result.error ?? '');
    const text = result.body.toString('utf8');
    if (this.previous !== null && text === this.previousText) {
      // Unchanged: nothing to parse (a large live window is parsed once per change, not per reload).
      this.accept(this.previous, requestedAt);
      return reloadTarget(this.previous) / 2;
    }
    let snapshot: MediaPlaylistSnapshot;
    this.parsedBytes = result.body.length;
    try {
      const parsed = parsePlaylist(text, this.uri);
      if (parsed.kind !== 'media') {
        // RFC 8216 4.3.4.2: a variant's URI names a media playlist; one that is multivariant again is a loop or a nest.
        return failed(`${this.uri} is a multivariant playlist where a variant's media playlist was expected`);
      }
      snapshot = parsed.snapshot;
    } catch (err) {
      return failed((err as Error).message);
    }
    const changed = text !== this.previousText;
    this.accept(snapshot, requestedAt);
    this.previousText = text;
    if (snapshot.endList) return null;
    return changed ? reloadTarget(snapshot) : reloadTarget(snapshot) / 2;
  }

  private accept(snapshot: MediaPlaylistSnapshot, requestedAt: number): void {
    const { now, observe } = this.context;
    const previous = this.previous;
    const newest = previous?.segments.at(-1)?.msn ?? Number.NEGATIVE_INFINITY;
    const added = previous === null ? snapshot.segments : snapshot.segments.filter((s) => s.msn > newest);
    const t = now();
    this.previous = snapshot;
    this.view.loaded = true;
    this.view.lastFailure = null;
    this.view.targetDuration = snapshot.targetDuration;
    this.view.lastMediaSequence = snapshot.segments.at(-1)?.msn ?? null;
    this.view.ended = snapshot.endList;
    this.view.initSection = snapshot.initSection;
    if (added.length > 0) this.view.lastAdvanceAt = t;
    observe({ kind: 'playlist', t, requestedAt, rendition: this.name, snapshot, previous, added });
    // A client joining live starts at the newest segment; after that every new one is fetched.
    this.queue.add(previous === null ? added.slice(-1) : added);
  }

  private async fetchSegment(segment: SegmentRef): Promise<void> {
    const probe = this.probeDue(segment);
    const lag = watchLoopLag();
    const { result, full, known } = await this.segmentRequest(segment, probe);
    const lagSeconds = lag();
    if (this.stopped()) return;
    const { now, observe } = this.context;
    const t = now();
    if (result.body === null) {
      const { status, error } = result;
      observe({ kind: 'segment_failed', t, rendition: this.name, segment, status, error: error ?? '' });
      return;
    }
    const bytes = full ? result.body.length : result.size;
    const fetchSeconds = full ? result.seconds : (result.headersSeconds ?? result.seconds);
    if (segment.duration > 0) {
      this.view.segmentBitrate = bytes === null ? null : (bytes * 8) / segment.duration;
      this.view.fetchRatio = fetchSeconds / segment.duration;
    }
    observe({
      kind: 'segment',
      t,
      rendition: this.name,
      segment,
      check: full ? 'full' : 'headers',
      bytes,
      fetchSeconds,
      lagSeconds,
      declared: this.declared,
    });
    if (full) this.context.segmentFetched?.(this.name, segment, result.body);
    if (probe && this.declared && (full || known)) {
      this.probedSequence = segment.discontinuitySequence;
      this.probedAt = performance.now();
      const declared = this.declared;
      const probed = known ?? (await this.probe(result.body));
      if (probed && !this.stopped()) observe({ kind: 'probed', t: now(), rendition: this.name, declared, probed });
    }
  }

  /**
   * The request a segment needs: the whole segment where it is decoded (or segmentChecks is
   * `all`); otherwise its headers, except for a probed segment. That one's first bytes are
   * read where an earlier probe of this rendition left a fingerprint: the same fingerprint is
   * the same media (`known`, no download and no ffprobe); another, or none, is downloaded whole.
   */
  private async segmentRequest(
    segment: SegmentRef,
    probe: boolean,
  ): Promise<{ result: FetchResult; full: boolean; known: ProbedSegment | null }> {
    const downloaded = (this.context.segmentChecks ?? 'all') === 'all' || this.context.decoded?.(this.name) === true;
    if (downloaded) return { result: await this.getSegment(segment, 'get'), full: true, known: null };
    if (!probe) return { result: await this.checkSegment(segment), full: false, known: null };
    const last = this.lastProbe;
    if (last !== null) {
      const head = await this.getSegment(segment, 'range', FINGERPRINT_BYTES);
      if (head.body === null || this.stopped()) return { result: head, full: false, known: null };
      if (mediaFingerprint(head.body) === last.fingerprint) return { result: head, full: false, known: last.probed };
    }
    return { result: await this.getSegment(segment, 'get'), full: true, known: null };
  }

  /** What a downloaded segment carries: the last probe's answer when its fingerprint is the same, else ffprobe's. */
  private async probe(body: Buffer): Promise<ProbedSegment | null> {
    const fingerprint = mediaFingerprint(body);
    if (fingerprint !== null && fingerprint === this.lastProbe?.fingerprint) return this.lastProbe.probed;
    const probed = await probeSegment(body, this.context.ffprobePath);
    this.lastProbe = probed && fingerprint !== null ? { fingerprint, probed } : null;
    return probed;
  }

  /**
   * The first segment of a discontinuity sequence (a new period of the media) is probed: the
   * first one checked and after a changed declaration at once, later ones at most every
   * probeIntervalSeconds.
   */
  private probeDue(segment: SegmentRef): boolean {
    if (!this.context.probe || this.declared === null) return false;
    if (this.probedSequence === null) return true;
    const interval = (this.context.probeIntervalSeconds ?? MIN_PROBE_INTERVAL_SECONDS) * 1000;
    return segment.discontinuitySequence !== this.probedSequence && performance.now() - this.probedAt >= interval;
  }

  /** Status, size and time to first byte without the body: HEAD, or one byte where HEAD is refused. */
  private async checkSegment(segment: SegmentRef): Promise<FetchResult> {
    if (this.headRefused) return this.getSegment(segment, 'range');
    const head = await this.getSegment(segment, 'head');
    if (head.status === null || !HEAD_REFUSED.has(head.status) || this.stopped()) return head;
    const ranged = await this.getSegment(segment, 'range');
    // The segment is there for a GET: the server refuses HEAD, not the segment.
    if (ranged.body !== null) this.headRefused = true;
    return ranged;
  }

  private getSegment(segment: SegmentRef, kind: RequestKind, rangeBytes?: number): Promise<FetchResult> {
    const { timeoutSeconds, authorization } = this.context;
    // A slow segment is measured (segment_slow), not cut, until far beyond its duration.
    const playable = Math.min(Math.max(segment.duration, 0), MAX_SEGMENT_SECONDS);
    const totalSeconds = Math.min(timeoutSeconds + SEGMENT_DEADLINE_DURATIONS * playable, MAX_SEGMENT_SECONDS);
    return httpRequest(segment.uri, kind, {
      timeoutSeconds,
      totalSeconds,
      maxBytes: MAX_SEGMENT_BYTES,
      signal: this.stopping.signal,
      authorization,
      rangeBytes,
    });
  }

  private get(url: string, maxBytes: number): Promise<FetchResult> {
    const { timeoutSeconds, authorization } = this.context;
    return httpGet(url, { timeoutSeconds, maxBytes, signal: this.stopping.signal, authorization });
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.stopped()) return Promise.resolve();
    return new Promise((resolve) => {
      const { signal } = this.stopping;
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** The target duration the reload cadence follows: never below MIN_TARGET_DURATION. */
function reloadTarget(snapshot: MediaPlaylistSnapshot): number {
  return Math.max(snapshot.targetDuration, MIN_TARGET_DURATION);
}

function resolutionText(v: VariantDeclaration): string {
  return v.resolution ? `${v.resolution.width}x${v.resolution.height}` : '';
}
