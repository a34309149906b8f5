/**
 * bandwidth_mismatch: a segment whose bit rate exceeds the variant's declared BANDWIDTH.
 * BANDWIDTH is the peak segment bit rate (RFC 8216 section 4.3.4.2), and Apple's HLS
 * authoring specification asks the measured peak to be within 10% of it: an ABR player that
 * trusts a low figure picks a variant the network cannot carry. Active per rendition from
 * the first segment over the limit to the next one within it. On a rendition that is not
 * decoded the size is the Content-Length of a HEAD (or the total of a one-byte Range).
 */
import { bool, num, type OptionTable } from '../../options.js';
import { defineDetector } from '../../detectors/detector.js';
import { RenditionConditions } from './conditions.js';

export const bandwidthMismatchOptions = {
  enabled: bool(true, 'Report segments whose bit rate exceeds the declared BANDWIDTH (HLS delivery)'),
  tolerance: num(0.1, 0, 10, 'Share above BANDWIDTH a segment may reach (Apple HLS authoring: 10%)'),
} satisfies OptionTable;

export const bandwidthMismatchDetector = defineDetector({
  type: 'bandwidth_mismatch',
  options: bandwidthMismatchOptions,
  create: (options, { sink }) => {
    const conditions = new RenditionConditions('bandwidth_mismatch', sink);
    return {
      type: 'bandwidth_mismatch',
      onDelivery(o) {
        // A headers-only check whose server gave no size says nothing about the bit rate.
        if (o.kind !== 'segment' || o.declared === null || o.bytes === null || !(o.segment.duration > 0)) return;
        const measured = Math.round((o.bytes * 8) / o.segment.duration);
        const declared = o.declared.bandwidth;
        // DASH: a segment may exceed @bandwidth by what minBufferTime absorbs (bits <= bandwidth x (duration + minBufferTime)).
        const bucket = 1 + (o.declared.minBufferTime ?? 0) / o.segment.duration;
        if (measured <= declared * bucket * (1 + options.tolerance)) {
          conditions.end(o.rendition, o.t);
          return;
        }
        conditions.begin(o.rendition, o.t, { rendition: o.rendition, msn: o.segment.msn, measured, declared });
      },
      flush(t) {
        conditions.flush(t);
      },
    };
  },
});
