/**
 * discontinuity_sequence: the discontinuity numbering breaks. A segment keeps its
 * discontinuity sequence number from one load to the next: the server increments
 * EXT-X-DISCONTINUITY-SEQUENCE exactly when it removes a segment that carries an
 * EXT-X-DISCONTINUITY tag (RFC 8216 section 6.2.2). A tag dropped from the playlist, or a
 * sequence that moves without one, changes the number of the segments both loads list.
 */
import { bool, type OptionTable } from '../../options.js';
import { defineDetector } from '../../detectors/detector.js';
import { segmentIndex } from '../playlist.js';
import { RenditionConditions } from './conditions.js';

export const discontinuitySequenceOptions = {
  enabled: bool(true, 'Report discontinuity sequence numbers that change between playlist loads (HLS delivery)'),
} satisfies OptionTable;

export const discontinuitySequenceDetector = defineDetector({
  type: 'discontinuity_sequence',
  options: discontinuitySequenceOptions,
  create: (_options, { sink }) => {
    const conditions = new RenditionConditions('discontinuity_sequence', sink);
    return {
      type: 'discontinuity_sequence',
      onDelivery(o) {
        if (o.kind !== 'playlist' || o.previous === null) return;
        const { previous, snapshot } = o;
        if (snapshot.discontinuitySequence < previous.discontinuitySequence) {
          const detail = { expectedAtLeast: previous.discontinuitySequence, got: snapshot.discontinuitySequence };
          conditions.instant(o.t, { rendition: o.rendition, kind: 'backwards', ...detail });
          return;
        }
        for (const s of snapshot.segments) {
          const before = previous.segments[segmentIndex(previous, s.msn)];
          if (before === undefined || before.discontinuitySequence === s.discontinuitySequence) continue;
          const detail = { msn: s.msn, expected: before.discontinuitySequence, got: s.discontinuitySequence };
          conditions.instant(o.t, { rendition: o.rendition, kind: 'renumbered', ...detail });
          return;
        }
      },
      flush() {
        // Instant events only.
      },
    };
  },
});
