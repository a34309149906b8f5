/**
 * rendition_down: a variant of the ladder that viewers cannot get. Either the multivariant
 * playlist no longer lists it (it returns when listed again), or its media playlist has
 * failed to load for as long as a playlist may go without a new segment (RFC 8216 6.2.1:
 * 1.5 target durations, plus the client's reload interval, as playlist_stale judges).
 * Removals are tracked for the last MAX_RENDITIONS renditions removed, as /status keeps them
 * (delivery/ladder-history.ts): an older one ends when it is no longer tracked, so that names
 * that come and go (an MPD whose Representation ids change) cannot pile up active defects.
 */
import { bool, num, type OptionTable } from '../../options.js';
import { defineDetector } from '../../detectors/detector.js';
import { MAX_RENDITIONS } from '../playlist.js';
import { RenditionConditions } from './conditions.js';

export const renditionDownOptions = {
  enabled: bool(true, 'Report variants removed from the ladder or whose playlist cannot be loaded (HLS delivery)'),
  targetDurations: num(1.5, 1, 100, 'Target durations of failed playlist loads before a variant is down', {
    unit: 'target durations',
  }),
} satisfies OptionTable;

interface Failing {
  since: number;
  status: number | string;
}

export const renditionDownDetector = defineDetector({
  type: 'rendition_down',
  options: renditionDownOptions,
  create: (options, { sink }) => {
    const conditions = new RenditionConditions('rendition_down', sink);
    const listed = new Set<string>();
    const targetDurations = new Map<string, number>();
    const failing = new Map<string, Failing>();
    /** Removed renditions whose removal is active, oldest first. */
    const removed = new Set<string>();
    const ladder = (t: number, names: Set<string>): void => {
      for (const name of listed) {
        if (names.has(name)) continue;
        conditions.begin(name, t, { rendition: name, reason: 'removed' });
        removed.add(name);
      }
      for (const name of names) {
        // Returned to the ladder: down no longer, unless its playlist still fails.
        if (!listed.has(name) && !failing.has(name)) conditions.end(name, t);
        removed.delete(name);
      }
      for (const name of removed) {
        if (removed.size <= MAX_RENDITIONS) break;
        removed.delete(name);
        failing.delete(name);
        conditions.end(name, t);
      }
      listed.clear();
      for (const name of names) listed.add(name);
    };
    return {
      type: 'rendition_down',
      onDelivery(o) {
        switch (o.kind) {
          case 'ladder':
            ladder(o.t, new Set(o.variants.map((v) => v.name)));
            return;
          case 'playlist':
            targetDurations.set(o.rendition, o.snapshot.targetDuration);
            failing.delete(o.rendition);
            if (listed.size === 0 || listed.has(o.rendition)) conditions.end(o.rendition, o.t);
            return;
          case 'playlist_failed': {
            const since = failing.get(o.rendition)?.since ?? o.t;
            failing.set(o.rendition, { since, status: o.status ?? 'none' });
            return;
          }
          case 'tick':
            for (const [rendition, f] of failing) {
              const td = targetDurations.get(rendition);
              if (td === undefined || o.t - f.since <= (options.targetDurations + 0.5) * td) continue;
              conditions.begin(rendition, f.since, { rendition, reason: 'unreachable', status: f.status });
            }
            return;
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
