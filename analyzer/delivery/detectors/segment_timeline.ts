/**
 * segment_timeline: a gap or an overlap in a DASH SegmentTimeline. An S element with @t
 * declares where its segments start; a live timeline runs on without holes or overlaps
 * (ISO/IEC 23009-1 5.3.9.6, DASH-IF IOP 4.5.2), or a player stalls at the hole or plays a
 * moment twice. The MPD gives times in integer timescale units, so a break is exact; the
 * tolerance is for packagers that round. One event per break, when it is first listed.
 */
import { bool, num, type OptionTable } from '../../options.js';
import { defineDetector } from '../../detectors/detector.js';
import { RenditionConditions } from './conditions.js';

export const segmentTimelineOptions = {
  enabled: bool(true, 'Report gaps and overlaps in a DASH SegmentTimeline (DASH delivery)'),
  tolerance: num(0, 0, 10, 'Largest gap or overlap between consecutive segments that is no break', { unit: 's' }),
} satisfies OptionTable;

export const segmentTimelineDetector = defineDetector({
  type: 'segment_timeline',
  options: segmentTimelineOptions,
  create: (options, { sink }) => {
    const conditions = new RenditionConditions('segment_timeline', sink);
    /** The newest break reported per rendition: a break stays listed while it is in the window. */
    const reported = new Map<string, number>();
    return {
      type: 'segment_timeline',
      onDelivery(o) {
        if (o.kind !== 'timeline') return;
        const newest = reported.get(o.rendition) ?? Number.NEGATIVE_INFINITY;
        for (const b of o.breaks) {
          if (b.number <= newest || Math.abs(b.offsetSeconds) <= options.tolerance) continue;
          reported.set(o.rendition, b.number);
          conditions.instant(o.t, {
            rendition: o.rendition,
            kind: b.offsetSeconds > 0 ? 'gap' : 'overlap',
            number: b.number,
            seconds: Math.round(Math.abs(b.offsetSeconds) * 1000) / 1000,
          });
        }
      },
      flush() {
        // Instant events only.
      },
    };
  },
});
