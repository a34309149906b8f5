/**
 * av_sync: audio and video drift apart. Lip-sync errors above about 100 ms are noticeable
 * (EBU R37 tolerates -60/+40 ms at the source, ITU-R BT.1359 finds ~ -125/+45 ms
 * detectable); a sustained offset beyond `thresholdSeconds` either way is the defect, so a
 * momentary jitter in timestamps is not.
 */
import { bool, num, type OptionTable, type OptionValues } from '../options.js';
import { DefectTracker, defineDetector, type DefectSink, type Detector } from './detector.js';

export const avSyncOptions = {
  enabled: bool(true, 'Report audio/video offset beyond the threshold'),
  thresholdSeconds: num(0.1, 0, 60, 'Largest tolerated |audio - video| offset', { unit: 's' }),
  minDuration: num(2, 0, 3600, 'Shortest out-of-sync stretch reported', { unit: 's' }),
} satisfies OptionTable;

export type AvSyncOptions = OptionValues<typeof avSyncOptions>;

export function createAvSyncDetector(options: AvSyncOptions, sink: DefectSink<'av_sync'>): Detector<'av_sync'> {
  const tracker = new DefectTracker('av_sync', sink, options.minDuration);
  return {
    type: 'av_sync',
    onAvOffset(t, offset) {
      if (!Number.isFinite(offset)) return;
      // Offsets are point measurements: the run's length is measured between them.
      tracker.update(t, 0, Math.abs(offset) > options.thresholdSeconds, () => ({ offsetSeconds: offset }));
    },
    flush(t) {
      tracker.close(t);
    },
  };
}

export const avSyncDetector = defineDetector({
  type: 'av_sync',
  options: avSyncOptions,
  create: (options, { sink }) => createAvSyncDetector(options, sink),
});
