/**
 * break_not_returned: an SCTE-35 cue out announced a break of known duration (splice_insert's
 * break_duration, a segmentation descriptor's segmentation_duration; in HLS, EXT-X-CUE-OUT's or
 * EXT-X-DATERANGE's duration) and no cue in has come
 * `grace` seconds after it should have ended. The defect starts at the planned return and ends
 * at the cue in (or the next cue out, which starts a new break).
 */
import { cueFacts, isCue } from '../transport/cues.js';
import { bool, num, type OptionTable } from '../options.js';
import { defineDetector, endDefect, type DefectEvent, type DefectSink, type Detector } from './detector.js';

export const breakNotReturnedOptions = {
  enabled: bool(true, 'Report breaks that run past their announced duration (MPEG-TS sources)'),
  grace: num(5, 0, 3600, 'Time past the announced end of a break before it is a defect', { unit: 's' }),
} satisfies OptionTable;

export function createBreakNotReturnedDetector(
  grace: number,
  sink: DefectSink<'break_not_returned'>,
): Detector<'break_not_returned'> {
  let open: { id: number | string | null; returnAt: number } | null = null;
  let active: DefectEvent<'break_not_returned'> | null = null;

  const end = (t: number): void => {
    active = endDefect(active, t, sink);
    open = null;
  };

  return {
    type: 'break_not_returned',
    onTransport(t, event) {
      if (!isCue(event)) return;
      const { direction, id, duration } = cueFacts(event);
      if (direction === 'none') return;
      end(t);
      if (direction === 'in') return;
      if (duration !== null) open = { id, returnAt: t + duration };
    },
    onTick(t) {
      if (open === null || active !== null || t < open.returnAt + grace) return;
      const detail: Record<string, number | string> = open.id === null ? {} : { eventId: open.id };
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
