/**
 * One Representation of a DASH presentation: what each MPD load lists of it becomes the same
 * observations an HLS media playlist makes (`playlist`, then `segment` or `segment_failed`
 * per new segment), and its SegmentTimeline's breaks a `timeline`. Segments are fetched once,
 * in order, by a loop of their own, so a slow segment never delays the MPD's cadence; the
 * initialization segment is fetched once per URL and handed on with every media segment, so
 * the decoder of the chosen Representation reads a complete fragmented MP4 stream.
 */
import { httpGet, type FetchResult } from './fetch.js';
import type { DashRepresentation } from './dash-manifest.js';
import type { DeliveryObservation } from './observations.js';
import type { MediaPlaylistSnapshot, SegmentRef, VariantDeclaration } from './playlist.js';
import { watchLoopLag } from './loop-lag.js';
import { probeSegment } from './probe-segment.js';
import { SegmentQueue } from './segment-queue.js';
import { MAX_SEGMENT_BYTES, type RenditionView } from './rendition-poller.js';

/** Segments waiting to be fetched; older ones are skipped when the fetcher falls further behind (as for HLS). */
const MAX_PENDING_SEGMENTS = 8;
/** An initialization segment is a few kB of boxes; this bounds a hostile one. */
const MAX_INIT_BYTES = 4 * 1024 * 1024;

export interface RepresentationContext {
  now: () => number;
  observe: (observation: DeliveryObservation) => void;
  /** A media segment of this Representation was fetched, with its initialization segment (null: none). */
  segmentFetched?: (rendition: string, segment: SegmentRef, body: Buffer, init: Buffer | null) => void;
  timeoutSeconds: number;
  probe: boolean;
  ffprobePath?: string;
  signal: AbortSignal;
  authorization?: { origin: string; header: string };
}

export class RepresentationFollower {
  private previous: MediaPlaylistSnapshot | null = null;
  private declared: VariantDeclaration;
  private initUri: string | null = null;
  private init: Buffer | null = null;
  private readonly queue = new SegmentQueue(MAX_PENDING_SEGMENTS, () => this.stopped());
  private readonly stopping = new AbortController();
  private probed = false;
  private readonly view: RenditionView;
  private readonly done: Promise<void>;

  constructor(
    readonly name: string,
    first: DashRepresentation,
    private readonly context: RepresentationContext,
  ) {
    this.declared = first.declaration;
    this.view = {
      name,
      declared: first.declaration,
      loaded: false,
      targetDuration: null,
      lastMediaSequence: null,
      lastAdvanceAt: null,
      segmentBitrate: null,
      fetchRatio: null,
      lastFailure: null,
      ended: false,
      initSection: false,
    };
    this.done = this.queue.run((segment) => this.fetchSegment(segment));
  }

  get status(): RenditionView {
    return { ...this.view, declared: this.declared };
  }

  /** This Representation as an MPD load lists it. */
  listed(representation: DashRepresentation): void {
    const { now, observe } = this.context;
    const { snapshot } = representation;
    const previous = this.previous;
    const newest = previous?.segments.at(-1)?.msn ?? Number.NEGATIVE_INFINITY;
    const added = previous === null ? snapshot.segments : snapshot.segments.filter((s) => s.msn > newest);
    const t = now();
    this.declared = representation.declaration;
    this.previous = snapshot;
    if (representation.initUri !== this.initUri) {
      this.initUri = representation.initUri;
      this.init = null;
    }
    Object.assign(this.view, {
      loaded: true,
      targetDuration: snapshot.targetDuration,
      lastMediaSequence: snapshot.segments.at(-1)?.msn ?? null,
      ended: snapshot.endList,
      initSection: snapshot.initSection,
    });
    if (added.length > 0) this.view.lastAdvanceAt = t;
    observe({ kind: 'playlist', t, rendition: this.name, snapshot, previous, added });
    observe({ kind: 'timeline', t, rendition: this.name, breaks: representation.timelineBreaks });
    // A client joining live starts at the newest segment; after that every new one is fetched.
    this.queue.add(previous === null ? added.slice(-1) : added);
  }

  /** The MPD could not be loaded: neither can this Representation's segment list. */
  unlisted(status: number | null, error: string): void {
    this.view.loaded = false;
    this.context.observe({ kind: 'playlist_failed', t: this.context.now(), rendition: this.name, status, error });
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.queue.interrupt();
    await this.done;
  }

  private stopped(): boolean {
    return this.stopping.signal.aborted || this.context.signal.aborted;
  }

  private async fetchSegment(segment: SegmentRef): Promise<void> {
    const { now, observe } = this.context;
    const failed = (result: FetchResult, what: string): void => {
      const error = `${what}${result.error ?? ''}`;
      this.view.lastFailure = { status: result.status, error };
      observe({ kind: 'segment_failed', t: now(), rendition: this.name, segment, status: result.status, error });
    };
    if (this.initUri !== null && this.init === null) {
      const initResult = await this.get(this.initUri, MAX_INIT_BYTES);
      if (this.stopped()) return;
      if (initResult.body === null) {
        failed(initResult, 'initialization segment: ');
        return;
      }
      this.init = initResult.body;
    }
    const lag = watchLoopLag();
    const result = await this.get(segment.uri, MAX_SEGMENT_BYTES);
    const lagSeconds = lag();
    if (this.stopped()) return;
    if (result.body === null) {
      failed(result, '');
      return;
    }
    this.view.lastFailure = null;
    const bytes = result.body.length;
    if (segment.duration > 0) {
      this.view.segmentBitrate = (bytes * 8) / segment.duration;
      this.view.fetchRatio = result.seconds / segment.duration;
    }
    const t = now();
    observe({
      kind: 'segment',
      t,
      rendition: this.name,
      segment,
      // Every Representation is downloaded in full: DASH has no headers-only checks yet.
      check: 'full',
      bytes,
      fetchSeconds: result.seconds,
      lagSeconds,
      declared: this.declared,
    });
    this.context.segmentFetched?.(this.name, segment, result.body, this.init);
    if (this.context.probe && !this.probed) await this.probe(result.body);
  }

  /** The first segment against the Representation's @width/@height/@codecs/@frameRate. */
  private async probe(body: Buffer): Promise<void> {
    this.probed = true;
    const declared = this.declared;
    const probed = await probeSegment(this.init ? Buffer.concat([this.init, body]) : body, this.context.ffprobePath);
    if (probed && !this.stopped()) {
      this.context.observe({ kind: 'probed', t: this.context.now(), rendition: this.name, declared, probed });
    }
  }

  private get(url: string, maxBytes: number): Promise<FetchResult> {
    const { timeoutSeconds, authorization } = this.context;
    const signal = AbortSignal.any([this.stopping.signal, this.context.signal]);
    return httpGet(url, { timeoutSeconds, maxBytes, signal, authorization });
  }
}
