/**
 * http_error: a playlist or segment that cannot be loaded (an HTTP status outside 2xx, no
 * answer, a body that is no playlist). Active per rendition and resource from the first
 * failure to the next success of the same kind; the detail names the status.
 */
import { bool, type OptionTable } from '../../options.js';
import { defineDetector } from '../../detectors/detector.js';
import { redactUrlsIn } from '../../ingest/redact-url.js';
import { RenditionConditions } from './conditions.js';

export const httpErrorOptions = {
  enabled: bool(true, 'Report playlists and segments that fail to load, by HTTP status (HLS delivery)'),
} satisfies OptionTable;

export const httpErrorDetector = defineDetector({
  type: 'http_error',
  options: httpErrorOptions,
  create: (_options, { sink }) => {
    const conditions = new RenditionConditions('http_error', sink);
    return {
      type: 'http_error',
      onDelivery(o) {
        switch (o.kind) {
          case 'playlist':
            conditions.end(`${o.rendition}/playlist`, o.t);
            return;
          case 'segment':
            conditions.end(`${o.rendition}/segment`, o.t);
            return;
          case 'playlist_failed':
          case 'segment_failed': {
            const resource = o.kind === 'playlist_failed' ? 'playlist' : 'segment';
            const detail = {
              rendition: o.rendition,
              resource,
              status: o.status ?? 'none',
              error: redactUrlsIn(o.error).slice(0, 200),
            };
            const withSegment = o.kind === 'segment_failed' ? { ...detail, msn: o.segment.msn } : detail;
            conditions.begin(`${o.rendition}/${resource}`, o.t, withSegment);
            return;
          }
          default:
            return;
        }
      },
      flush(t) {
        conditions.flush(t);
      },
    };
  },
});
