/**
 * segment_duration: a segment longer than the target duration. RFC 8216 section 4.3.3.1:
 * each EXTINF duration, rounded to the nearest integer, MUST be less than or equal to the
 * target duration (a client's reload cadence and buffer depend on it). One event per load
 * that lists new offenders.
 */
import { bool, type OptionTable } from '../../options.js';
import { defineDetector } from '../../detectors/detector.js';
import { RenditionConditions } from './conditions.js';

export const segmentDurationOptions = {
  enabled: bool(true, 'Report segments whose duration exceeds the target duration (HLS delivery)'),
} satisfies OptionTable;

export const segmentDurationDetector = defineDetector({
  type: 'segment_duration',
  options: segmentDurationOptions,
  create: (_options, { sink }) => {
    const conditions = new RenditionConditions('segment_duration', sink);
    return {
      type: 'segment_duration',
      onDelivery(o) {
        if (o.kind !== 'playlist') return;
        const { targetDuration } = o.snapshot;
        const over = o.added.filter((s) => Math.round(s.duration) > targetDuration);
        const first = over[0];
        if (first === undefined) return;
        const detail = { msn: first.msn, duration: first.duration, targetDuration, segments: over.length };
        conditions.instant(o.t, { rendition: o.rendition, ...detail });
      },
      flush() {
        // Instant events only.
      },
    };
  },
});
