/**
 * program_date_time: EXT-X-PROGRAM-DATE-TIME jumps. Within a discontinuity sequence the date
 * of a segment is the date of the one before plus its duration (RFC 8216 section 4.3.2.6
 * maps the first sample of each segment to that date); a jump beyond the tolerance breaks
 * every client that seeks or syncs by date. Judged on the segments each load adds.
 */
import { bool, num, type OptionTable } from '../../options.js';
import { defineDetector } from '../../detectors/detector.js';
import type { SegmentRef } from '../playlist.js';
import { RenditionConditions } from './conditions.js';

export const programDateTimeOptions = {
  enabled: bool(true, 'Report EXT-X-PROGRAM-DATE-TIME jumps between consecutive segments (HLS delivery)'),
  // Before EXT-X-VERSION 3 durations are integers: up to 0.5 s of rounding per segment.
  tolerance: num(1, 0.001, 3600, 'Largest difference from the previous date plus its duration that is no jump', {
    unit: 's',
  }),
} satisfies OptionTable;

/** Seconds the date of `next` differs from `previous`'s date plus its duration; null when not comparable. */
export function dateJump(previous: SegmentRef, next: SegmentRef): number | null {
  if (previous.programDateTime === null || next.programDateTime === null || next.discontinuity) return null;
  return (next.programDateTime - previous.programDateTime) / 1000 - previous.duration;
}

export const programDateTimeDetector = defineDetector({
  type: 'program_date_time',
  options: programDateTimeOptions,
  create: (options, { sink }) => {
    const conditions = new RenditionConditions('program_date_time', sink);
    return {
      type: 'program_date_time',
      onDelivery(o) {
        if (o.kind !== 'playlist' || o.added.length === 0) return;
        const { segments } = o.snapshot;
        const from = Math.max(1, segments.length - o.added.length);
        for (let i = from; i < segments.length; i++) {
          const [previous, next] = [segments[i - 1], segments[i]];
          if (previous === undefined || next === undefined) continue;
          const jump = dateJump(previous, next);
          if (jump === null || Math.abs(jump) <= options.tolerance) continue;
          conditions.instant(o.t, {
            rendition: o.rendition,
            msn: next.msn,
            jumpSeconds: Math.round(jump * 1000) / 1000,
          });
          return;
        }
      },
      flush() {
        // Instant events only.
      },
    };
  },
});
