/**
 * How one new segment of a rendition is checked, for HLS and DASH alike. The decoded
 * rendition's segments (or every rendition's, with segmentChecks `all`) are downloaded; another
 * rendition's get a HEAD (a one-byte Range GET where the server refuses HEAD): status, size and
 * time to the first byte, no body. The first segment of each period of the media (HLS: a
 * discontinuity sequence; DASH: a Period) is probed against the declaration: where an earlier
 * probe of the rendition left a fingerprint (media-fingerprint.ts: MPEG-TS stream types and
 * parameter sets), only its first bytes are read, and it is downloaded and probed only when
 * they show other media (probe-segment.ts: from its parameter sets where they tell all, else
 * with ffprobe); so a ladder costs little more than its decoded rendition. It observes
 * `segment` or `segment_failed` (and `probed`); the detectors judge.
 */
import { httpRequest, type FetchOptions, type FetchResult, type RequestKind } from './fetch.js';
import { watchLoopLag } from './loop-lag.js';
import { FINGERPRINT_BYTES, mediaFingerprint } from './media-fingerprint.js';
import type { DeliveryObservation, ProbedSegment } from './observations.js';
import type { SegmentRef, VariantDeclaration } from './playlist.js';
import { probeSegment } from './probe-segment.js';
import type { RenditionView } from './rendition-poller.js';

/** A segment larger than this is refused (bounded memory): 60 s at 30 Mbit/s. */
export const MAX_SEGMENT_BYTES = 256 * 1024 * 1024;
/** A segment fetch may take this many times its duration (segment_slow's largest ratio) before it is cut. */
const SEGMENT_DEADLINE_DURATIONS = 10;
/** ... and never longer than this, whatever the playlist claims. */
const MAX_SEGMENT_SECONDS = 600;
/** Statuses by which a server refuses HEAD rather than the segment (a signed URL valid for GET only answers 403). */
const HEAD_REFUSED = new Set([403, 405, 501]);

/**
 * A new period is probed again only this long after the rendition's last probe: an ffprobe
 * costs about 0.24 s of CPU, and a stream with a discontinuity at every segment (some ad
 * insertion does that) would otherwise probe every rendition every segment.
 */
export const MIN_PROBE_INTERVAL_SECONDS = 30;

/** Which renditions' segments are downloaded: the decoded one's (others: headers only), or all. */
export type SegmentChecks = 'decoded' | 'all';

export interface SegmentCheckContext {
  /** Timeline seconds now. */
  now: () => number;
  observe: (observation: DeliveryObservation) => void;
  timeoutSeconds: number;
  /** Probe the first segment of each period (declared resolution, codecs, frame rate against the media). */
  probe: boolean;
  /** Seconds between probes at new periods (default MIN_PROBE_INTERVAL_SECONDS). */
  probeIntervalSeconds?: number;
  /** `decoded`: only the decoded rendition's segments are downloaded (default `all`). */
  segmentChecks?: SegmentChecks;
  /** Whether a rendition is the decoded one (its segments are always downloaded). */
  decoded?: (rendition: string) => boolean;
  ffprobePath?: string;
  authorization?: FetchOptions['authorization'];
}

/** Why a check failed: the HTTP status (null: no answer) and the words. */
export interface SegmentFailure {
  status: number | null;
  error: string;
}

/** One segment to check, with what its protocol adds. */
export interface SegmentToCheck {
  segment: SegmentRef;
  /** The period of the media it belongs to: HLS its discontinuity sequence, DASH its Period's start. */
  period: number;
  declared: VariantDeclaration | null;
  /** Before a download: what the body needs first (DASH: its initialization segment); a failure is the segment's. */
  prepare?: () => Promise<SegmentFailure | null>;
  /** The downloaded body (the decoder reads the chosen rendition's). */
  fetched?: (body: Buffer) => void;
  /** What a probe reads of a downloaded body (DASH: the initialization segment, then the body). */
  probeInput?: (body: Buffer) => Buffer;
}

export class SegmentChecker {
  /** The period whose first segment was probed; null: probe the next segment. */
  private probedPeriod: number | null = null;
  /** Monotonic ms of the last probe. */
  private probedAt = Number.NEGATIVE_INFINITY;
  /** The server refused HEAD for a segment: headers-only checks ask for one byte instead. */
  private headRefused = false;
  /** The fingerprint of the last segment probed, and what the probe found (media-fingerprint.ts). */
  private lastProbe: { fingerprint: string; probed: ProbedSegment } | null = null;

  constructor(
    private readonly rendition: string,
    private readonly context: SegmentCheckContext,
    /** The rendition's view: the last segment's bit rate and fetch ratio are written there. */
    private readonly view: RenditionView,
    private readonly signal: AbortSignal,
  ) {}

  /** The rendition's declaration changed: the changed facts are checked against the media again, on the next segment. */
  redeclared(before: VariantDeclaration | null, after: VariantDeclaration): void {
    if (
      before &&
      (resolutionText(before) !== resolutionText(after) ||
        before.codecs !== after.codecs ||
        before.frameRate !== after.frameRate)
    ) {
      this.probedPeriod = null;
    }
  }

  /** Checks one segment; returns why it failed (observed as segment_failed too), or null. */
  async check(s: SegmentToCheck): Promise<SegmentFailure | null> {
    const { segment } = s;
    const { now, observe } = this.context;
    const probe = this.probeDue(s);
    const failed = (failure: SegmentFailure): SegmentFailure => {
      observe({ kind: 'segment_failed', t: now(), rendition: this.rendition, segment, ...failure });
      return failure;
    };
    const answer = await this.segmentRequest(s, probe);
    if (this.stopped()) return null;
    if ('error' in answer) return failed(answer);
    const { result, full, known, lagSeconds } = answer;
    if (result.body === null) return failed({ status: result.status, error: result.error ?? '' });
    const bytes = full ? result.body.length : result.size;
    const fetchSeconds = full ? result.seconds : (result.headersSeconds ?? result.seconds);
    if (segment.duration > 0) {
      this.view.segmentBitrate = bytes === null ? null : (bytes * 8) / segment.duration;
      this.view.fetchRatio = fetchSeconds / segment.duration;
    }
    observe({
      kind: 'segment',
      t: now(),
      rendition: this.rendition,
      segment,
      check: full ? 'full' : 'headers',
      bytes,
      fetchSeconds,
      lagSeconds,
      declared: s.declared,
    });
    if (full) s.fetched?.(result.body);
    if (probe && s.declared && (full || known)) {
      this.probedPeriod = s.period;
      this.probedAt = performance.now();
      const declared = s.declared;
      const probed = known ?? (await this.probe(s.probeInput?.(result.body) ?? result.body));
      if (probed && !this.stopped()) {
        observe({ kind: 'probed', t: now(), rendition: this.rendition, declared, probed });
      }
    }
    return null;
  }

  /**
   * The request a segment needs: the whole segment where it is decoded (or segmentChecks is
   * `all`); otherwise its headers, except for a probed segment. That one's first bytes are
   * read where an earlier probe of this rendition left a fingerprint: the same fingerprint is
   * the same media (`known`: no download, no ffprobe); another, or none, is downloaded whole
   * (after what it needs first: `prepare`). lagSeconds: the analyzer's own lateness during the
   * request that is measured.
   */
  private async segmentRequest(
    s: SegmentToCheck,
    probe: boolean,
  ): Promise<{ result: FetchResult; full: boolean; known: ProbedSegment | null; lagSeconds: number } | SegmentFailure> {
    const { segment } = s;
    const timed = async (ask: () => Promise<FetchResult>, full: boolean, known: ProbedSegment | null = null) => {
      const lag = watchLoopLag();
      const result = await ask();
      return { result, full, known, lagSeconds: lag() };
    };
    const downloaded =
      (this.context.segmentChecks ?? 'all') === 'all' || this.context.decoded?.(this.rendition) === true;
    if (!downloaded && !probe) return timed(() => this.headers(segment), false);
    const last = this.lastProbe;
    if (!downloaded && last !== null) {
      const first = await timed(() => this.request(segment, 'range', FINGERPRINT_BYTES), false);
      const { body } = first.result;
      if (body === null || this.stopped()) return first;
      if (mediaFingerprint(body) === last.fingerprint) return { ...first, known: last.probed };
    }
    const problem = (await s.prepare?.()) ?? null;
    if (problem || this.stopped()) return problem ?? { status: null, error: 'stopped' };
    return timed(() => this.request(segment, 'get'), true);
  }

  /** What a downloaded segment carries: the last probe's answer when its fingerprint is the same, else a new probe's. */
  private async probe(body: Buffer): Promise<ProbedSegment | null> {
    const fingerprint = mediaFingerprint(body);
    if (fingerprint !== null && fingerprint === this.lastProbe?.fingerprint) return this.lastProbe.probed;
    const probed = await probeSegment(body, this.context.ffprobePath);
    this.lastProbe = probed && fingerprint !== null ? { fingerprint, probed } : null;
    return probed;
  }

  /** A call, not a field read: the signal aborts while a fetch is awaited, which flow analysis cannot see. */
  private stopped(): boolean {
    return this.signal.aborted;
  }

  /**
   * The first segment of a period (a new period of the media) is probed: the first one
   * checked and after a changed declaration at once, later ones at most every
   * probeIntervalSeconds.
   */
  private probeDue(s: SegmentToCheck): boolean {
    if (!this.context.probe || s.declared === null) return false;
    if (this.probedPeriod === null) return true;
    const interval = (this.context.probeIntervalSeconds ?? MIN_PROBE_INTERVAL_SECONDS) * 1000;
    return s.period !== this.probedPeriod && performance.now() - this.probedAt >= interval;
  }

  /** Status, size and time to first byte without the body: HEAD, or one byte where HEAD is refused. */
  private async headers(segment: SegmentRef): Promise<FetchResult> {
    if (this.headRefused) return this.request(segment, 'range');
    const head = await this.request(segment, 'head');
    if (head.status === null || !HEAD_REFUSED.has(head.status) || this.stopped()) return head;
    const ranged = await this.request(segment, 'range');
    // The segment is there for a GET: the server refuses HEAD, not the segment.
    if (ranged.body !== null) this.headRefused = true;
    return ranged;
  }

  private request(segment: SegmentRef, kind: RequestKind, rangeBytes?: number): Promise<FetchResult> {
    const { timeoutSeconds, authorization } = this.context;
    // A slow segment is measured (segment_slow), not cut, until far beyond its duration.
    const playable = Math.min(Math.max(segment.duration, 0), MAX_SEGMENT_SECONDS);
    const totalSeconds = Math.min(timeoutSeconds + SEGMENT_DEADLINE_DURATIONS * playable, MAX_SEGMENT_SECONDS);
    return httpRequest(segment.uri, kind, {
      timeoutSeconds,
      totalSeconds,
      maxBytes: MAX_SEGMENT_BYTES,
      signal: this.signal,
      authorization,
      rangeBytes,
    });
  }
}

function resolutionText(v: VariantDeclaration): string {
  return v.resolution ? `${v.resolution.width}x${v.resolution.height}` : '';
}
