/**
 * What captions_missing and cues_missing share: something the transport stream should carry
 * has not come for `missingAfter` seconds. Counting starts when the transport checker first
 * reports (an MPEG-TS source), or for cues also when the HLS client first observes the
 * playlists, so other sources never report it; the defect starts when the
 * thing was last seen (or when the stream started) and ends when it comes again.
 */
import type { TransportEvent } from '../transport/checker.js';
import { endDefect, type DefectEvent, type DefectSink, type Detector } from './detector.js';

export function createAbsenceDetector<T extends string>(
  type: T,
  missingAfter: number,
  isSign: (event: TransportEvent) => boolean,
  sink: DefectSink<T>,
  /** Also count from the first HLS delivery observation: an HLS playlist's cue tags are signs too. */
  countsFromDelivery = false,
): Detector<T> {
  let since: number | null = null;
  let active: DefectEvent<T> | null = null;

  const end = (t: number): void => {
    active = endDefect(active, t, sink);
  };

  return {
    type,
    onTransport(t, event) {
      since ??= t;
      if (!isSign(event)) return;
      since = Math.max(since, t);
      end(t);
    },
    ...(countsFromDelivery
      ? {
          onDelivery(o) {
            since ??= o.t;
          },
        }
      : {}),
    onTick(t) {
      if (since === null || active !== null || t - since < missingAfter - 1e-9) return;
      active = { type, start: since, end: null, detail: { missingAfterSeconds: missingAfter } };
      sink.started({ ...active });
    },
    flush(t) {
      end(t);
    },
  };
}
