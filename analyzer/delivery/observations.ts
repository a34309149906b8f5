/**
 * What the HLS client observes, as the delivery detectors see it: every playlist load, every
 * segment fetch, every reload of the ladder, every probed first segment. The client measures
 * and reports; the detectors (delivery/detectors/) judge. `t` is timeline seconds when the
 * observation was made (the analyzer's one timeline: wall-clock time for a live source).
 */
import type { TimelineBreak } from './dash-manifest.js';
import type { MediaPlaylistSnapshot, SegmentRef, VariantDeclaration } from './playlist.js';

/** What ffprobe reads from a variant's segment, for comparison with its declaration. */
export interface ProbedSegment {
  width: number | null;
  height: number | null;
  frameRate: number | null;
  /** ffprobe codec names, e.g. `h264`, `aac`. */
  codecs: string[];
}

export type SegmentCheck = 'full' | 'headers';

export type DeliveryObservation =
  | {
      kind: 'playlist';
      t: number;
      /**
       * Timeline seconds when this load was asked for: the playlist is at least as fresh as
       * that (a slow answer is not a stale playlist); t when not known.
       */
      requestedAt?: number;
      rendition: string;
      snapshot: MediaPlaylistSnapshot;
      /** The previous successful load of this rendition, null for its first. */
      previous: MediaPlaylistSnapshot | null;
      /** Segments this load lists that the previous one did not (by media sequence number). */
      added: SegmentRef[];
    }
  | {
      kind: 'playlist_failed';
      t: number;
      rendition: string;
      /** HTTP status, or null when no response came. */
      status: number | null;
      error: string;
    }
  | {
      kind: 'segment';
      t: number;
      rendition: string;
      segment: SegmentRef;
      /**
       * How it was checked: `full` fetched its body; `headers` asked for its headers only (a
       * HEAD, or a one-byte Range where HEAD is refused), on a rendition that is not decoded
       * (delivery.segmentChecks: decoded).
       */
      check: SegmentCheck;
      /** Its size: the bytes fetched, or what the headers say; null when a headers-only check was not told. */
      bytes: number | null;
      /** Seconds from the request to the last byte (`full`), or to the headers (`headers`: a lower bound). */
      fetchSeconds: number;
      /**
       * The longest this process's event loop ran late during the fetch, seconds: by about this
       * much the analyzer, not the server, may have delayed the last byte (loop-lag.ts).
       */
      lagSeconds: number;
      declared: VariantDeclaration | null;
    }
  | {
      kind: 'segment_failed';
      t: number;
      rendition: string;
      segment: SegmentRef;
      status: number | null;
      error: string;
    }
  | {
      /** The multivariant playlist was (re)loaded: the variants it lists now. */
      kind: 'ladder';
      t: number;
      variants: VariantDeclaration[];
    }
  | {
      kind: 'probed';
      t: number;
      rendition: string;
      declared: VariantDeclaration;
      probed: ProbedSegment;
    }
  | {
      /** DASH: an MPD was loaded (what only the MPD as a whole says). */
      kind: 'mpd';
      t: number;
      /** MPD@publishTime, ms since the epoch, or null. */
      publishTime: number | null;
      /** The previous load's publishTime, null for the first (or when it had none). */
      previousPublishTime: number | null;
    }
  | {
      /** DASH: the SegmentTimeline of a Representation, as one MPD load lists it. */
      kind: 'timeline';
      t: number;
      rendition: string;
      breaks: TimelineBreak[];
    }
  | {
      /** Periodic: lets time-based checks (staleness) judge while nothing else arrives. */
      kind: 'tick';
      t: number;
    };

export type DeliveryObservationKind = DeliveryObservation['kind'];
