/**
 * One Representation of a DASH presentation: what each MPD load lists of it becomes the same
 * observations an HLS media playlist makes (`playlist`, then `segment` or `segment_failed`
 * per new segment), and its SegmentTimeline's breaks a `timeline`. Segments are checked once,
 * in order, by a loop of their own, so a slow segment never delays the MPD's cadence, as HLS
 * segments are (segment-check.ts): the decoded Representation's are downloaded, another's get
 * a HEAD, and a full fetch only for the first segment of each Period, which is probed. The
 * initialization segment is fetched once per URL, before the first download that needs it,
 * and handed on with every media segment, so the decoder of the chosen Representation reads a
 * complete fragmented MP4 stream.
 */
import { httpGet, type FetchResult } from './fetch.js';
import { InitSection } from './init-section.js';
import type { DashRepresentation, PeriodListing } from './dash-manifest.js';
import type { MediaPlaylistSnapshot, SegmentRef } from './playlist.js';
import { SegmentChecker, type SegmentCheckContext } from './segment-check.js';
import { SegmentQueue } from './segment-queue.js';
import { unloadedView, type RenditionView } from './rendition-poller.js';

/** Segments waiting to be fetched; older ones are skipped when the fetcher falls further behind (as for HLS). */
const MAX_PENDING_SEGMENTS = 8;
/** Periods whose numbering is remembered: a live MPD lists the few its time-shift buffer reaches. */
const MAX_NUMBERED_PERIODS = 16;

export interface RepresentationContext extends SegmentCheckContext {
  /** A media segment of this Representation was fetched, with its initialization segment (null: none). */
  segmentFetched?: (rendition: string, segment: SegmentRef, body: Buffer, init: Buffer | null) => void;
  signal: AbortSignal;
}

export class RepresentationFollower {
  private previous: MediaPlaylistSnapshot | null = null;
  /** How the newest Period that lists it declares and initializes it. */
  private newest: PeriodListing;
  private readonly init = new InitSection((url, maxBytes) => this.get(url, maxBytes));
  private readonly queue = new SegmentQueue(MAX_PENDING_SEGMENTS, () => this.stopped());
  private readonly stopping = new AbortController();
  private readonly view: RenditionView;
  private readonly checker: SegmentChecker;
  /**
   * Period start -> what is added to its $Number$s to make one sequence of the Representation:
   * the first Period seen keeps its numbers, a later one continues after the newest segment
   * seen before it (a Period may count from 1 again, which is no step back of the stream).
   */
  private readonly numbering = new Map<number, number>();
  private newestMsn = Number.NEGATIVE_INFINITY;
  /**
   * msn -> the Period that lists the segment: a segment is checked (declaration, probe) and
   * initialized as its own Period says, even when the MPD has moved on to the next one.
   */
  private readonly listings = new Map<number, PeriodListing>();
  private readonly done: Promise<void>;

  constructor(
    readonly name: string,
    first: DashRepresentation,
    private readonly context: RepresentationContext,
  ) {
    this.newest = { start: first.periodStart, declaration: first.declaration, initUri: first.initUri };
    this.view = unloadedView(name, first.declaration);
    const signal = AbortSignal.any([this.stopping.signal, context.signal]);
    this.checker = new SegmentChecker(name, context, this.view, signal);
    this.done = this.queue.run((segment) => this.fetchSegment(segment));
  }

  get status(): RenditionView {
    return { ...this.view, declared: this.newest.declaration };
  }

  /** This Representation as an MPD load lists it. */
  listed(representation: DashRepresentation): void {
    const { now, observe } = this.context;
    const snapshot = this.renumbered(representation);
    const previous = this.previous;
    const newest = previous?.segments.at(-1)?.msn ?? Number.NEGATIVE_INFINITY;
    const added = previous === null ? snapshot.segments : snapshot.segments.filter((s) => s.msn > newest);
    const t = now();
    this.checker.redeclared(this.newest.declaration, representation.declaration);
    this.newest = {
      start: representation.periodStart,
      declaration: representation.declaration,
      initUri: representation.initUri,
    };
    this.previous = snapshot;
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

  /** The MPD's segments of this Representation numbered as one sequence across its Periods. */
  private renumbered({ snapshot, segmentPeriods, periodStart }: DashRepresentation): MediaPlaylistSnapshot {
    const segments = snapshot.segments.map((segment, i) => {
      const period = segmentPeriods[i]?.start ?? periodStart;
      let offset = this.numbering.get(period);
      if (offset === undefined) {
        offset = Number.isFinite(this.newestMsn) ? this.newestMsn + 1 - segment.msn : 0;
        this.numbering.set(period, offset);
        const oldest = this.numbering.keys().next().value;
        if (this.numbering.size > MAX_NUMBERED_PERIODS && oldest !== undefined) this.numbering.delete(oldest);
      }
      const msn = segment.msn + offset;
      this.newestMsn = Math.max(this.newestMsn, msn);
      const listing = segmentPeriods[i];
      if (listing && !this.listings.has(msn)) this.listings.set(msn, listing);
      return offset === 0 ? segment : { ...segment, msn };
    });
    // Only segments still to be fetched need theirs: those of the window.
    const oldest = segments[0]?.msn ?? Number.POSITIVE_INFINITY;
    for (const msn of this.listings.keys()) if (msn < oldest) this.listings.delete(msn);
    return { ...snapshot, mediaSequence: segments[0]?.msn ?? snapshot.mediaSequence, segments };
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
    // Its own Period's listing; the newest Period's for one no longer in the MPD's window.
    const listing = this.listings.get(segment.msn) ?? this.newest;
    const failure = await this.checker.check({
      segment,
      period: listing.start,
      declared: listing.declaration,
      prepare: () => this.init.need(listing.initUri),
      fetched: (body) => this.context.segmentFetched?.(this.name, segment, body, this.init.body),
      probeInput: (body) => this.init.before(body),
    });
    this.view.lastFailure = failure;
  }

  private get(url: string, maxBytes: number): Promise<FetchResult> {
    const { timeoutSeconds, authorization } = this.context;
    const signal = AbortSignal.any([this.stopping.signal, this.context.signal]);
    return httpGet(url, { timeoutSeconds, maxBytes, signal, authorization });
  }
}
