/**
 * publish_time: a DASH MPD older than one already seen. MPD@publishTime is when the MPD was
 * generated; ISO/IEC 23009-1 5.4 has every update keep or advance it. One that goes back is
 * a stale copy (a CDN edge, a failed-over packager): its segment list is in the past, and a
 * player that trusts it waits for segments it already played. One event per such load.
 */
import { bool, type OptionTable } from '../../options.js';
import { defineDetector } from '../../detectors/detector.js';
import { RenditionConditions } from './conditions.js';

export const publishTimeOptions = {
  enabled: bool(true, 'Report a DASH MPD whose publishTime goes backwards (DASH delivery)'),
} satisfies OptionTable;

/** The rendition label of findings about the MPD as a whole. */
export const MPD_RENDITION = 'mpd';

export const publishTimeDetector = defineDetector({
  type: 'publish_time',
  options: publishTimeOptions,
  create: (_options, { sink }) => {
    const conditions = new RenditionConditions('publish_time', sink);
    return {
      type: 'publish_time',
      onDelivery(o) {
        if (o.kind !== 'mpd' || o.publishTime === null || o.previousPublishTime === null) return;
        if (o.publishTime >= o.previousPublishTime) return;
        conditions.instant(o.t, {
          rendition: MPD_RENDITION,
          publishTime: new Date(o.publishTime).toISOString(),
          previous: new Date(o.previousPublishTime).toISOString(),
          backSeconds: (o.previousPublishTime - o.publishTime) / 1000,
        });
      },
      flush() {
        // Instant events only.
      },
    };
  },
});
