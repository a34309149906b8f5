/**
 * break_not_returned: an SCTE-35 cue out announced a break of known duration (splice_insert's
 * break_duration, a segmentation descriptor's segmentation_duration) and no cue in has come
 * `grace` seconds after it should have ended. The defect starts at the planned return and ends
 * at the cue in (or the next cue out, which starts a new break).
 */
import type { TransportEvent } from '../transport/checker.js';
import { bool, num, type OptionTable } from '../options.js';
import { defineDetector, endDefect, type DefectEvent, type DefectSink, type Detector } from './detector.js';

export const breakNotReturnedOptions = {
  enabled: bool(true, 'Report breaks that run past their announced duration (MPEG-TS sources)'),
  grace: num(5, 0, 3600, 'Time past the announced end of a break before it is a defect', { unit: 's' }),
} satisfies OptionTable;

type Cue = Extract<TransportEvent, { kind: 'cue' }>;

function breakOf(cue: Cue): { id: number | null; duration: number | null } {
  const segmentation = cue.info.segmentations.find((s) => !s.cancel);
  return {
    id: cue.info.spliceEventId ?? segmentation?.eventId ?? null,
    duration: cue.info.breakDuration ?? segmentation?.duration ?? null,
  };
}

export function createBreakNotReturnedDetector(
  grace: number,
  sink: DefectSink<'break_not_returned'>,
): Detector<'break_not_returned'> {
  let open: { id: number | null; returnAt: number } | null = null;
  let active: DefectEvent<'break_not_returned'> | null = null;

  const end = (t: number): void => {
    active = endDefect(active, t, sink);
    open = null;
  };

  return {
    type: 'break_not_returned',
    onTransport(t, event) {
      if (event.kind !== 'cue' || event.direction === 'none') return;
      end(t);
      if (event.direction === 'in') return;
      const { id, duration } = breakOf(event);
      if (duration !== null) open = { id, returnAt: t + duration };
    },
    onTick(t) {
      if (open === null || active !== null || t < open.returnAt + grace) return;
      const detail: Record<string, number> = open.id === null ? {} : { eventId: open.id };
      active = { type: 'break_not_returned', start: open.returnAt, end: null, detail };
      sink.started({ ...active });
    },
    flush(t) {
      end(t);
    },
  };
}

export const breakNotReturnedDetector = defineDetector({
  type: 'break_not_returned',
  options: breakNotReturnedOptions,
  create: (options, { sink }) => createBreakNotReturnedDetector(options.grace, sink),
});
