/**
 * playlist_stale: a live media playlist that stops adding segments. RFC 8216 section 6.2.1
 * asks the server for a new segment no later than 1.5 target durations after the previous
 * version of the playlist; the client sees a change at most one reload interval late (half a
 * target duration after an unchanged load, section 6.3.4), so that is added before judging.
 * The defect starts when the playlist last advanced and ends when it advances again. It is
 * judged on the client's own reloads of that playlist, never on a clock alone: a client that
 * fell behind (its process busy) has not seen a stale playlist, only a late one. A reload that
 * adds nothing is judged as of when it was asked for: an answer that took long to arrive (a
 * busy analyzer or a loaded machine; once in a 300 s bench run) is as fresh as its request.
 */
import { bool, num, type OptionTable } from '../../options.js';
import { defineDetector } from '../../detectors/detector.js';
import { RenditionConditions } from './conditions.js';

export const playlistStaleOptions = {
  enabled: bool(true, 'Report a live media playlist that adds no segment in time (HLS delivery)'),
  targetDurations: num(1.5, 1, 100, 'Target durations without a new segment (RFC 8216 6.2.1: 1.5) before it is stale', {
    unit: 'target durations',
  }),
} satisfies OptionTable;

interface Progress {
  lastAdvance: number;
  targetDuration: number;
  ended: boolean;
}

export const playlistStaleDetector = defineDetector({
  type: 'playlist_stale',
  options: playlistStaleOptions,
  create: (options, { sink }) => {
    const conditions = new RenditionConditions('playlist_stale', sink);
    const progress = new Map<string, Progress>();
    const judge = (rendition: string, t: number): void => {
      const p = progress.get(rendition);
      if (p !== undefined) {
        const limit = (options.targetDurations + 0.5) * p.targetDuration;
        if (!p.ended && t - p.lastAdvance > limit) {
          conditions.begin(rendition, p.lastAdvance, {
            rendition,
            targetDuration: p.targetDuration,
            limitSeconds: limit,
          });
        }
      }
    };
    return {
      type: 'playlist_stale',
      onDelivery(o) {
        if (o.kind === 'playlist') {
          const known = progress.get(o.rendition);
          const { targetDuration, endList } = o.snapshot;
          if (known === undefined || o.added.length > 0) {
            progress.set(o.rendition, { lastAdvance: o.t, targetDuration, ended: endList });
            conditions.end(o.rendition, o.t);
          } else {
            known.targetDuration = targetDuration;
            known.ended = endList;
          }
          judge(o.rendition, o.requestedAt ?? o.t);
        } else if (o.kind === 'playlist_failed') {
          judge(o.rendition, o.t);
        } else if (o.kind === 'ladder') {
          // A variant no longer listed is rendition_down's; it is judged again once it returns.
          const listed = new Set(o.variants.map((v) => v.name));
          for (const rendition of [...progress.keys()]) {
            if (listed.has(rendition)) continue;
            progress.delete(rendition);
            conditions.end(rendition, o.t);
          }
        }
      },
      flush(t) {
        conditions.flush(t);
      },
    };
  },
});
