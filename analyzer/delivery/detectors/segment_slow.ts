/**
 * segment_slow: a segment that takes longer to fetch than to play. A player that fetches
 * segments slower than real time drains its buffer and stalls, whatever the picture. Active
 * per rendition from the request of the first slow segment to the next segment in time.
 * The time the analyzer's own event loop ran late during the fetch is not counted
 * (a busy analyzer reads late; the server was not slow). On a rendition that is not decoded only the
 * headers are asked for: the time to the first byte is judged, and the probed segments' full
 * fetches.
 */
import { bool, num, type OptionTable } from '../../options.js';
import { defineDetector } from '../../detectors/detector.js';
import { RenditionConditions } from './conditions.js';

export const segmentSlowOptions = {
  enabled: bool(true, 'Report segments that take longer to fetch than their duration (HLS delivery)'),
  ratio: num(1, 0.1, 10, 'Fetch time over segment duration above which a segment is slow (1 = real time)'),
} satisfies OptionTable;

export const segmentSlowDetector = defineDetector({
  type: 'segment_slow',
  options: segmentSlowOptions,
  create: (options, { sink }) => {
    const conditions = new RenditionConditions('segment_slow', sink);
    return {
      type: 'segment_slow',
      onDelivery(o) {
        if (o.kind !== 'segment' || !(o.segment.duration > 0)) return;
        // The analyzer's own lateness is not the server's: the last byte may have waited on us.
        const ratio = Math.max(0, o.fetchSeconds - o.lagSeconds) / o.segment.duration;
        if (ratio <= options.ratio) {
          conditions.end(o.rendition, o.t);
          return;
        }
        const detail = { msn: o.segment.msn, fetchSeconds: Math.round(o.fetchSeconds * 1000) / 1000 };
        conditions.begin(o.rendition, o.t - o.fetchSeconds, {
          rendition: o.rendition,
          ...detail,
          duration: o.segment.duration,
        });
      },
      flush(t) {
        conditions.flush(t);
      },
    };
  },
});
