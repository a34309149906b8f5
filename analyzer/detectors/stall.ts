/**
 * stall: no media arrives (source down, network loss). Driven by the analyzer's periodic
 * tick, which says how long ago media last arrived: once that reaches `minDuration` the
 * stall is reported as starting when media stopped, and it ends when media arrives again.
 * `reconnectAfter` is not used here: it is the analyzer's ingest policy (shared below), kept in
 * this table because it is the same "how long without media" question and users tune both together.
 */
import { bool, num, type OptionTable, type OptionValues } from '../options.js';
import { defineDetector, endDefect, type DefectEvent, type DefectSink, type Detector } from './detector.js';

export const stallOptions = {
  enabled: bool(true, 'Report periods without media'),
  minDuration: num(3, 0, 3600, 'Time without media before it is a stall', { unit: 's' }),
  reconnectAfter: num(10, 0.5, 3600, 'Time without media after which the analyzer restarts its ingest', { unit: 's' }),
} satisfies OptionTable;

export type StallOptions = OptionValues<typeof stallOptions>;

export function createStallDetector(options: StallOptions, sink: DefectSink<'stall'>): Detector<'stall'> {
  let active: DefectEvent<'stall'> | null = null;
  // The timeline time of the latest tick: a stall observed until then has not ended before it.
  let lastTick = Number.NEGATIVE_INFINITY;

  const end = (t: number): void => {
    active = endDefect(active, t, sink);
  };

  return {
    type: 'stall',
    onTick(t, sinceMedia) {
      lastTick = Math.max(lastTick, t);
      if (active !== null || sinceMedia < options.minDuration - 1e-9) return;
      active = { type: 'stall', start: t - sinceMedia, end: null };
      sink.started({ ...active });
    },
    onMedia(t) {
      // Media held back before the outage (the last packets a demuxer only releases when the
      // next ones arrive) comes back with its old, pre-outage time; the stall still lasted
      // until at least the last tick that saw it.
      end(active === null ? t : Math.max(t, lastTick));
    },
    flush(t) {
      end(t);
    },
  };
}

export const stallDetector = defineDetector({
  type: 'stall',
  options: stallOptions,
  shares: (options) => ({ reconnectAfter: options.reconnectAfter }),
  create: (options, { sink }) => createStallDetector(options, sink),
});
