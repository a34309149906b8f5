/**
 * ladder_misaligned: renditions of one ladder that are not at the same point of the stream.
 * A player switches variants by media sequence number (or by date), so the same number must
 * be the same moment everywhere: the renditions' newest sequence numbers may differ by one
 * (their playlists are reloaded at different instants), and the dates of one sequence number
 * by no more than the tolerance. Judged over the renditions whose playlist advanced within the
 * last two target durations: one that stopped advancing is playlist_stale (or down), and its
 * sequence numbers falling behind is that fault, not a second one. Reported once it lasts two
 * target durations, naming the rendition farthest off.
 */
import { bool, num, type OptionTable } from '../../options.js';
import { defineDetector } from '../../detectors/detector.js';
import { lastMsn, segmentIndex, type MediaPlaylistSnapshot } from '../playlist.js';
import type { Detail } from './conditions.js';
import { RenditionConditions } from './conditions.js';

export const ladderMisalignedOptions = {
  enabled: bool(true, 'Report renditions whose sequence numbers or dates disagree (HLS delivery)'),
  tolerance: num(1, 0.001, 3600, 'Largest difference between the dates of one sequence number across renditions', {
    unit: 's',
  }),
} satisfies OptionTable;

interface Latest {
  snapshot: MediaPlaylistSnapshot;
  /** When its newest sequence number last changed (or it was first loaded). */
  advancedAt: number;
}

/** The rendition farthest from the others and why, or null when the ladder agrees. */
export function misalignment(latest: Map<string, MediaPlaylistSnapshot>, tolerance: number): Detail | null {
  const newest = [...latest].flatMap(([name, s]) => {
    const msn = lastMsn(s);
    return msn === null ? [] : [{ name, msn }];
  });
  if (newest.length < 2) return null;
  const sorted = newest.map((n) => n.msn).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  const farthest = newest.reduce((a, b) => (Math.abs(b.msn - median) > Math.abs(a.msn - median) ? b : a));
  if (Math.abs(farthest.msn - median) > 1) {
    return { rendition: farthest.name, kind: 'sequence', msn: farthest.msn, ladderMsn: median };
  }
  // Dates of the newest sequence number every rendition lists.
  const common = Math.min(...newest.map((n) => n.msn));
  const dates = [...latest].flatMap(([name, s]) => {
    const date = s.segments[segmentIndex(s, common)]?.programDateTime ?? null;
    return date === null ? [] : [{ name, date }];
  });
  if (dates.length < 2) return null;
  const sortedDates = dates.map((d) => d.date).sort((a, b) => a - b);
  const medianDate = sortedDates[Math.floor(sortedDates.length / 2)] ?? 0;
  const off = dates.reduce((a, b) => (Math.abs(b.date - medianDate) > Math.abs(a.date - medianDate) ? b : a));
  const seconds = Math.abs(off.date - medianDate) / 1000;
  return seconds > tolerance ? { rendition: off.name, kind: 'date', msn: common, offsetSeconds: seconds } : null;
}

export const ladderMisalignedDetector = defineDetector({
  type: 'ladder_misaligned',
  options: ladderMisalignedOptions,
  create: (options, { sink }) => {
    const conditions = new RenditionConditions('ladder_misaligned', sink);
    const latest = new Map<string, Latest>();
    let badSince: number | null = null;
    const judge = (t: number): void => {
      const recent = new Map<string, MediaPlaylistSnapshot>();
      let targetDuration = 0;
      for (const [name, l] of latest) {
        targetDuration = Math.max(targetDuration, l.snapshot.targetDuration);
        if (t - l.advancedAt <= 2 * l.snapshot.targetDuration) recent.set(name, l.snapshot);
      }
      const fault = misalignment(recent, options.tolerance);
      if (fault === null) {
        badSince = null;
        return conditions.end('ladder', t);
      }
      badSince ??= t;
      if (t - badSince >= 2 * targetDuration) conditions.begin('ladder', badSince, fault);
    };
    return {
      type: 'ladder_misaligned',
      onDelivery(o) {
        if (o.kind === 'playlist') {
          const before = latest.get(o.rendition);
          const moved = before === undefined || lastMsn(o.snapshot) !== lastMsn(before.snapshot);
          latest.set(o.rendition, { snapshot: o.snapshot, advancedAt: moved ? o.t : before.advancedAt });
          judge(o.t);
        } else if (o.kind === 'ladder') {
          const listed = new Set(o.variants.map((v) => v.name));
          for (const name of [...latest.keys()]) if (!listed.has(name)) latest.delete(name);
        }
      },
      flush(t) {
        conditions.flush(t);
      },
    };
  },
});
