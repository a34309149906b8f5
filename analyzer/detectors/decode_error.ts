/**
 * decode_error: the decoder reports corrupt data (packet loss, concealment). Errors less
 * than `holdSeconds` apart are one event, so a burst of damaged packets is one incident.
 *
 * End: the first media observation (video frame or audio block) after the event's last
 * error, i.e. the first output the decoder produced past the damage. It becomes final once
 * `holdSeconds` pass without a newer error (time advances with media and ticks). If no media
 * came after the last error (the source stalled), it ends `holdSeconds` after that error, or
 * at the flush if that comes sooner.
 */
import { bool, num, type OptionTable, type OptionValues } from '../options.js';
import { defineDetector, type DefectEvent, type DefectSink, type Detector } from './detector.js';

export const decodeErrorOptions = {
  enabled: bool(true, 'Report corrupt data reported by the decoder'),
  holdSeconds: num(1, 0, 60, 'Errors closer together than this are one event', { unit: 's' }),
  minDuration: num(0, 0, 3600, 'Report only bursts whose errors span at least this long (0 = every error)', {
    unit: 's',
  }),
} satisfies OptionTable;

export type DecodeErrorOptions = OptionValues<typeof decodeErrorOptions>;

interface Burst {
  event: DefectEvent<'decode_error'>;
  reported: boolean;
  errors: number;
  lastError: number;
  lastMessage: string;
  /** First media observation after `lastError`; null until one arrives. */
  cleanAt: number | null;
}

export function createDecodeErrorDetector(
  options: DecodeErrorOptions,
  sink: DefectSink<'decode_error'>,
): Detector<'decode_error'> {
  let burst: Burst | null = null;

  const detailOf = (b: Burst): Record<string, number | string> => ({ errors: b.errors, message: b.lastMessage });

  const finish = (t: number): void => {
    if (burst === null) return;
    if (burst.reported) {
      const end = burst.cleanAt ?? Math.min(t, burst.lastError + options.holdSeconds);
      burst.event.end = Math.max(end, burst.event.start);
      sink.ended({ ...burst.event, detail: detailOf(burst) });
    }
    burst = null;
  };

  /** Time moved on to `t`; `media` says whether something was decoded there. */
  const advance = (t: number, media: boolean): void => {
    if (burst === null) return;
    if (media && burst.cleanAt === null && t > burst.lastError) burst.cleanAt = t;
    if (t - burst.lastError > options.holdSeconds) finish(t);
  };

  return {
    type: 'decode_error',
    onDecodeError(t, message) {
      advance(t, false);
      burst ??= {
        event: { type: 'decode_error', start: t, end: null },
        reported: false,
        errors: 0,
        lastError: t,
        lastMessage: message,
        cleanAt: null,
      };
      burst.errors++;
      burst.lastError = Math.max(burst.lastError, t);
      burst.lastMessage = message;
      burst.cleanAt = null;
      if (!burst.reported && burst.lastError - burst.event.start >= options.minDuration - 1e-9) {
        burst.reported = true;
        burst.event.detail = detailOf(burst);
        sink.started({ ...burst.event });
      }
    },
    onVideo({ t }) {
      advance(t, true);
    },
    onAudio({ t }) {
      advance(t, true);
    },
    onTick(t) {
      advance(t, false);
    },
    flush(t) {
      finish(t);
    },
  };
}

export const decodeErrorDetector = defineDetector({
  type: 'decode_error',
  options: decodeErrorOptions,
  create: (options, { sink }) => createDecodeErrorDetector(options, sink),
});
