/**
 * One rendition of an HLS ladder, followed the way RFC 8216 section 6.3.4 tells a client to:
 * after a load that changed the playlist, the next reload waits the target duration (from the
 * start of that load); after a load that changed nothing, half of it. Every segment that
 * appears is fetched once, in order, by a second loop, so a slow segment never delays the
 * playlist's cadence. Both loops only observe; the detectors judge.
 */
import { httpGet, type FetchOptions, type FetchResult } from './fetch.js';
import type { DeliveryObservation } from './observations.js';
import { parsePlaylist, type MediaPlaylistSnapshot, type SegmentRef, type VariantDeclaration } from './playlist.js';
import { probeSegment } from './probe-segment.js';

/** Segments waiting to be fetched; older ones are skipped when the fetcher falls further behind. */
const MAX_PENDING_SEGMENTS = 8;
/** A media playlist larger than this is no playlist a live client could use. */
const MAX_PLAYLIST_BYTES = 4 * 1024 * 1024;
/** A segment larger than this is refused (bounded memory): 60 s at 30 Mbit/s. */
export const MAX_SEGMENT_BYTES = 256 * 1024 * 1024;
/** Reload delay before any target duration is known (the first load failed). */
const FIRST_RETRY_SECONDS = 1;

export interface PollerContext {
  /** Timeline seconds now. */
  now: () => number;
  observe: (observation: DeliveryObservation) => void;
  /** The bytes of each fetched segment (for the decoder of the chosen rendition). */
  segmentFetched?: (rendition: string, segment: SegmentRef, body: Buffer) => void;
  timeoutSeconds: number;
  /** Probe the first segment fetched (declared RESOLUTION/CODECS/FRAME-RATE against the media). */
  probe: boolean;
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
}

export class RenditionPoller {
  private previous: MediaPlaylistSnapshot | null = null;
  private previousText: string | null = null;
  private readonly pending: SegmentRef[] = [];
  private wakeFetcher: (() => void) | null = null;
  private readonly stopping = new AbortController();
  private probed = false;
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
    };
    this.done = Promise.all([this.pollPlaylist(), this.fetchSegments()]).then(() => undefined);
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
      this.probed = false;
    }
    this.declared = declared;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.wakeFetcher?.();
    await this.done;
  }

  /** A call, not a field read: stop() flips it while a fetch is awaited, which flow analysis cannot see. */
  private stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async pollPlaylist(): Promise<void> {
    while (!this.stopped()) {
      const started = performance.now();
      const wait = await this.loadPlaylist();
      if (wait === null) return; // the playlist ended (EXT-X-ENDLIST): nothing more will come
      await this.sleep(wait * 1000 - (performance.now() - started));
    }
  }

  /** One load; returns the seconds until the next, or null when the playlist ended. */
  private async loadPlaylist(): Promise<number | null> {
    const retry = this.previous === null ? FIRST_RETRY_SECONDS : this.previous.targetDuration / 2;
    const result = await this.get(this.uri, MAX_PLAYLIST_BYTES);
    if (this.stopped()) return retry;
    const failed = (error: string): number => {
      this.view.loaded = false;
      const { now, observe } = this.context;
      observe({ kind: 'playlist_failed', t: now(), rendition: this.name, status: result.status, error });
      return retry;
    };
    if (result.body === null) return failed(result.error ?? '');
    const text = result.body.toString('utf8');
    let snapshot: MediaPlaylistSnapshot;
    try {
      const parsed = parsePlaylist(text, this.uri);
      if (parsed.kind !== 'media') return failed(`${this.uri} is a multivariant playlist, not a media playlist`);
      snapshot = parsed.snapshot;
    } catch (err) {
      return failed((err as Error).message);
    }
    const changed = text !== this.previousText;
    this.accept(snapshot);
    this.previousText = text;
    if (snapshot.endList) return null;
    return changed ? snapshot.targetDuration : snapshot.targetDuration / 2;
  }

  private accept(snapshot: MediaPlaylistSnapshot): void {
    const { now, observe } = this.context;
    const previous = this.previous;
    const newest = previous?.segments.at(-1)?.msn ?? Number.NEGATIVE_INFINITY;
    const added = previous === null ? snapshot.segments : snapshot.segments.filter((s) => s.msn > newest);
    const t = now();
    this.previous = snapshot;
    this.view.loaded = true;
    this.view.targetDuration = snapshot.targetDuration;
    this.view.lastMediaSequence = snapshot.segments.at(-1)?.msn ?? null;
    this.view.ended = snapshot.endList;
    this.view.initSection = snapshot.initSection;
    if (added.length > 0) this.view.lastAdvanceAt = t;
    observe({ kind: 'playlist', t, rendition: this.name, snapshot, previous, added });
    // A client joining live starts at the newest segment; after that every new one is fetched.
    this.enqueue(previous === null ? added.slice(-1) : added);
  }

  private enqueue(segments: SegmentRef[]): void {
    if (segments.length === 0) return;
    this.pending.push(...segments);
    this.pending.splice(0, Math.max(0, this.pending.length - MAX_PENDING_SEGMENTS));
    this.wakeFetcher?.();
  }

  private async fetchSegments(): Promise<void> {
    while (!this.stopped()) {
      const segment = this.pending.shift();
      if (segment === undefined) {
        await new Promise<void>((resolve) => (this.wakeFetcher = resolve));
        this.wakeFetcher = null;
        continue;
      }
      await this.fetchSegment(segment);
    }
  }

  private async fetchSegment(segment: SegmentRef): Promise<void> {
    const { now, observe } = this.context;
    const result = await this.get(segment.uri, MAX_SEGMENT_BYTES);
    if (this.stopped()) return;
    const t = now();
    if (result.body === null) {
      const { status, error } = result;
      observe({ kind: 'segment_failed', t, rendition: this.name, segment, status, error: error ?? '' });
      return;
    }
    const bytes = result.body.length;
    if (segment.duration > 0) {
      this.view.segmentBitrate = (bytes * 8) / segment.duration;
      this.view.fetchRatio = result.seconds / segment.duration;
    }
    observe({
      kind: 'segment',
      t,
      rendition: this.name,
      segment,
      bytes,
      fetchSeconds: result.seconds,
      declared: this.declared,
    });
    this.context.segmentFetched?.(this.name, segment, result.body);
    if (this.context.probe && !this.probed && this.declared) {
      this.probed = true;
      const declared = this.declared;
      const probed = await probeSegment(result.body, this.context.ffprobePath);
      if (probed && !this.stopped()) observe({ kind: 'probed', t: now(), rendition: this.name, declared, probed });
    }
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

function resolutionText(v: VariantDeclaration): string {
  return v.resolution ? `${v.resolution.width}x${v.resolution.height}` : '';
}
