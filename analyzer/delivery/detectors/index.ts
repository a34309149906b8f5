/**
 * The delivery detectors: the checks of an HLS source's playlists, segments and ladder, fed
 * by the analyzer's own HLS client (delivery/hls-monitor.ts) through Detector.onDelivery.
 * They are detectors like any other (one per file, an option table each) and join the
 * analyzer's detector list (detectors/index.ts); on a source that is not HLS they see nothing.
 */
import { bandwidthMismatchDetector } from './bandwidth_mismatch.js';
import { discontinuitySequenceDetector } from './discontinuity_sequence.js';
import { httpErrorDetector } from './http_error.js';
import { ladderMisalignedDetector } from './ladder_misaligned.js';
import { mediaSequenceDetector } from './media_sequence.js';
import { playlistStaleDetector } from './playlist_stale.js';
import { programDateTimeDetector } from './program_date_time.js';
import { publishTimeDetector } from './publish_time.js';
import { renditionDownDetector } from './rendition_down.js';
import { segmentDurationDetector } from './segment_duration.js';
import { segmentSlowDetector } from './segment_slow.js';
import { segmentTimelineDetector } from './segment_timeline.js';
import { variantMismatchDetector } from './variant_mismatch.js';

export const DELIVERY_DETECTORS = [
  playlistStaleDetector,
  mediaSequenceDetector,
  discontinuitySequenceDetector,
  segmentDurationDetector,
  programDateTimeDetector,
  httpErrorDetector,
  segmentSlowDetector,
  ladderMisalignedDetector,
  renditionDownDetector,
  bandwidthMismatchDetector,
  variantMismatchDetector,
  publishTimeDetector,
  segmentTimelineDetector,
] as const;

export const DELIVERY_DEFECT_TYPES: readonly string[] = DELIVERY_DETECTORS.map((d) => d.type);
