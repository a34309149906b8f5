/**
 * tr101290_priority1 / tr101290_priority2: the transport stream breaks ETSI TR 101 290's
 * first-priority checks (sync, PAT, continuity, PMT, PID: a receiver cannot decode) or its
 * second-priority ones (transport errors, CRC, PCR, PTS, CAT). The checker (transport/checker.ts)
 * finds the errors; a defect is active from the first error while errors keep coming, and
 * while a lasting one (a missing table, PID, PCR or PTS; sync loss) holds, and ends `holdSeconds`
 * after the last. MPEG-TS sources only: other sources never report it.
 *
 * Both are opt-in as defects (the checker's counters, metrics and /status are always there): common
 * software muxers (ffmpeg's variable-rate mpegts output, among others) space PCRs 80 ms apart where
 * TR 101 290 allows 40 ms, and a sender outage is also a PAT error, which the stall defect already
 * reports; a monitor of a broadcast encoder's feed turns them on.
 */
import { CHECKS, PID_ERROR_PERIOD_SECONDS, type CheckName } from '../transport/checks.js';
import { bool, num, type OptionTable, type OptionValues } from '../options.js';
import { defineDetector, endDefect, type DefectEvent, type DefectSink, type Detector } from './detector.js';

const holdSeconds = num(5, 0, 3600, 'Time after the last error before the defect ends', { unit: 's' });

export const tr101290Priority1Options = {
  enabled: bool(
    false,
    'Report TR 101 290 priority 1 errors as a defect (MPEG-TS sources; the counters are always kept)',
  ),
  holdSeconds,
  pidErrorPeriod: num(
    PID_ERROR_PERIOD_SECONDS,
    0.1,
    3600,
    'TR 101 290 1.6: time a PID the PMT refers to may be absent',
    {
      unit: 's',
    },
  ),
} satisfies OptionTable;

export const tr101290Priority2Options = {
  enabled: bool(
    false,
    'Report TR 101 290 priority 2 errors as a defect (MPEG-TS sources; the counters are always kept)',
  ),
  holdSeconds,
} satisfies OptionTable;

export function createTr101290Detector<T extends string>(
  type: T,
  priority: 1 | 2,
  hold: number,
  sink: DefectSink<T>,
): Detector<T> {
  let active: DefectEvent<T> | null = null;
  let lastError = Number.NEGATIVE_INFINITY;
  const lasting = new Set<string>();
  const counts = new Map<CheckName, number>();

  const end = (t: number): void => {
    if (active !== null) {
      active.detail = { ...active.detail, errors: [...counts].map(([c, n]) => `${c}: ${String(n)}`).join(', ') };
    }
    active = endDefect(active, t, sink);
    counts.clear();
  };

  return {
    type,
    onTransport(t, event) {
      if (event.kind !== 'error' && event.kind !== 'cleared') return;
      if (CHECKS[event.check].priority !== priority) return;
      const key = `${event.check}:${String(event.pid)}`;
      lastError = Math.max(lastError, t);
      if (event.kind === 'cleared') {
        lasting.delete(key);
        return;
      }
      if (event.lasting) lasting.add(key);
      counts.set(event.check, (counts.get(event.check) ?? 0) + 1);
      if (active !== null) return;
      active = {
        type,
        start: t,
        end: null,
        detail: { check: event.check, ...(event.pid === null ? {} : { pid: event.pid }) },
      };
      sink.started({ ...active });
    },
    onTick(t) {
      if (active !== null && lasting.size === 0 && t - lastError >= hold) end(lastError);
    },
    flush(t) {
      end(t);
    },
  };
}

export type Tr101290Priority1Options = OptionValues<typeof tr101290Priority1Options>;

export const tr101290Priority1Detector = defineDetector({
  type: 'tr101290_priority1',
  options: tr101290Priority1Options,
  create: (options, { sink }) => createTr101290Detector('tr101290_priority1', 1, options.holdSeconds, sink),
});

export const tr101290Priority2Detector = defineDetector({
  type: 'tr101290_priority2',
  options: tr101290Priority2Options,
  create: (options, { sink }) => createTr101290Detector('tr101290_priority2', 2, options.holdSeconds, sink),
});
