/**
 * media_sequence: the media sequence goes backwards or skips. Between two loads of a media
 * playlist, a segment (known by its URI) keeps its media sequence number, the playlist's
 * EXT-X-MEDIA-SEQUENCE never decreases, and no segment goes unlisted between the two windows
 * (RFC 8216 sections 4.3.3.2 and 6.2.2). One event per load that breaks these.
 */
import { bool, type OptionTable } from '../../options.js';
import { defineDetector } from '../../detectors/detector.js';
import type { MediaPlaylistSnapshot } from '../playlist.js';
import { RenditionConditions, type Detail } from './conditions.js';

export const mediaSequenceOptions = {
  enabled: bool(true, 'Report a media sequence that goes backwards or skips segments (HLS delivery)'),
} satisfies OptionTable;

/** What is wrong with the sequence from `previous` to `next`, or null. */
export function sequenceFault(previous: MediaPlaylistSnapshot, next: MediaPlaylistSnapshot): Detail | null {
  if (next.mediaSequence < previous.mediaSequence) {
    return { kind: 'backwards', expectedAtLeast: previous.mediaSequence, got: next.mediaSequence };
  }
  const before = new Map(previous.segments.map((s) => [s.uri, s.msn]));
  for (const s of next.segments) {
    const was = before.get(s.uri);
    if (was !== undefined && was !== s.msn) {
      return {
        kind: was > s.msn ? 'backwards' : 'skip',
        // The file name only: a signed URL's query is a credential.
        segment: new URL(s.uri).pathname.split('/').pop() ?? '',
        expected: was,
        got: s.msn,
      };
    }
  }
  const lastBefore = previous.segments.at(-1)?.msn;
  const firstNow = next.segments[0]?.msn;
  if (lastBefore !== undefined && firstNow !== undefined && firstNow > lastBefore + 1) {
    return { kind: 'skip', expected: lastBefore + 1, got: firstNow };
  }
  return null;
}

export const mediaSequenceDetector = defineDetector({
  type: 'media_sequence',
  options: mediaSequenceOptions,
  create: (_options, { sink }) => {
    const conditions = new RenditionConditions('media_sequence', sink);
    return {
      type: 'media_sequence',
      onDelivery(o) {
        if (o.kind !== 'playlist' || o.previous === null) return;
        const fault = sequenceFault(o.previous, o.snapshot);
        if (fault) conditions.instant(o.t, { rendition: o.rendition, ...fault });
      },
      flush() {
        // Instant events only.
      },
    };
  },
});
