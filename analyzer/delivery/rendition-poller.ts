/**
 * One rendition of an HLS ladder, followed the way RFC 8216 section 6.3.4 tells a client to:
 * after a load that changed the playlist, the next reload waits the target duration (from the
 * start of that load); after a load that changed nothing, half of it. Every segment that
 * appears is checked once, in order, by a second loop, so a slow segment never delays the
 * playlist's cadence (segment-check.ts: the decoded rendition's segments are downloaded, another
 * rendition's get a HEAD, and the first segment of each discontinuity sequence is probed,
 * downloaded only when its first bytes show other media than the last probe). Both loops only
 * observe; the detectors judge.
 */
import { waitForBeat } from '../beat.js';
import { InitSection } from './init-section.js';
import { httpGet, type FetchResult } from './fetch.js';
import { parsePlaylist, type MediaPlaylistSnapshot, type SegmentRef, type VariantDeclaration } from './playlist.js';
import { SegmentChecker, type SegmentCheckContext } from './segment-check.js';
import { SegmentQueue } from './segment-queue.js';

export { MAX_SEGMENT_BYTES, MIN_PROBE_INTERVAL_SECONDS, type SegmentChecks } from './segment-check.js';

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
/** Reload delay before any target duration is known (the first load failed). */
const FIRST_RETRY_SECONDS = 1;
/**
 * The shortest target duration the reload cadence follows: RFC 8216 4.3.3.1 makes it a whole
 * number of seconds, so a playlist that claims less (0.001) cannot drive a tight reload loop.
 */
const MIN_TARGET_DURATION = 1;
export interface PollerContext extends SegmentCheckContext {
  /** The bytes of each fetched segment (for the decoder of the chosen rendition), with its initialization section (fMP4). */
  segmentFetched?: (rendition: string, segment: SegmentRef, body: Buffer, init: Buffer | null) => void;
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
  /** HLS: that section is a byte range of a resource, which the client does not read. */
  initByteRange?: boolean;
  /** Why the last playlist load failed, with the HTTP status (a 2xx: the body is no usable playlist); null after a success. */
  lastFailure: { status: number | null; error: string } | null;
}

/** A rendition before its first load: known only by its declaration. */
export function unloadedView(name: string, declared: VariantDeclaration | null): RenditionView {
  return {
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
}

export class RenditionPoller {
  private previous: MediaPlaylistSnapshot | null = null;
  private previousText: string | null = null;
  private readonly queue = new SegmentQueue(MAX_PENDING_SEGMENTS, () => this.stopped());
  private readonly stopping = new AbortController();
  private readonly checker: SegmentChecker;
  /** EXT-X-MAP's initialization section of fragmented MP4 segments. */
  private readonly init = new InitSection((url, maxBytes) => this.get(url, maxBytes));
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
    this.view = unloadedView(name, declared);
    this.checker = new SegmentChecker(name, context, this.view, this.stopping.signal);
    this.done = Promise.all([this.pollPlaylist(), this.queue.run((segment) => this.fetchSegment(segment))]).then(
      () => undefined,
    );
  }

  get status(): RenditionView {
    return { ...this.view, declared: this.declared };
  }

  /** The multivariant playlist was reloaded and still lists this rendition (maybe with new attributes). */
  redeclare(declared: VariantDeclaration): void {
    this.checker.redeclared(this.declared, declared);
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
    this.view.initByteRange = snapshot.initByteRange === true;
    if (added.length > 0) this.view.lastAdvanceAt = t;
    observe({ kind: 'playlist', t, requestedAt, rendition: this.name, snapshot, previous, added });
    // A client joining live starts at the newest segment; after that every new one is fetched.
    this.queue.add(previous === null ? added.slice(-1) : added);
  }

  private async fetchSegment(segment: SegmentRef): Promise<void> {
    await this.checker.check({
      segment,
      period: segment.discontinuitySequence,
      declared: this.declared,
      prepare: () => this.init.need(segment.initUri ?? null),
      fetched: (body) => this.context.segmentFetched?.(this.name, segment, body, this.init.body),
      probeInput: (body) => this.init.before(body),
    });
  }

  private get(url: string, maxBytes: number): Promise<FetchResult> {
    const { timeoutSeconds, authorization } = this.context;
    return httpGet(url, { timeoutSeconds, maxBytes, signal: this.stopping.signal, authorization });
  }

  private sleep(ms: number): Promise<void> {
    return waitForBeat(ms, this.stopping.signal);
  }
}

/** The target duration the reload cadence follows: never below MIN_TARGET_DURATION. */
function reloadTarget(snapshot: MediaPlaylistSnapshot): number {
  return Math.max(snapshot.targetDuration, MIN_TARGET_DURATION);
}
