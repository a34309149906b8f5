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

/** Raw offsets in the median that is compared with the baseline (about 1 s of video). */
const DRIFT_WINDOW = 30;
/** Seconds of a session's offsets whose median is its baseline. */
const BASELINE_SECONDS = 3;

/** The middle offset (the upper middle of an even count); the callers never pass none. */
function medianOf(offsets: readonly number[]): number {
  const median = [...offsets].sort((a, b) => a - b)[offsets.length >> 1];
  if (median === undefined) throw new Error('av_sync: the median of no offsets is undefined');
  return median;
}

/**
 * The drift the av_sync detector judges, from the raw offsets the decoder reports. A raw
 * offset includes the video decoder's constant delay (frame threads, reordering), so drift is
 * measured from the median of the first 3 s of each session: the defect is audio and video
 * moving apart. The analyzer keeps one per stream (its gauge shows the drift whether or not
 * the detector is enabled) and feeds the detectors what it returns.
 */
export class AvSyncDrift {
  private window: number[] = [];
  private baseline: number | null = null;
  private baselineSamples: number[] = [];

  /** A new session: its decoder delay may differ, so the baseline is measured again. */
  reset(): void {
    this.window = [];
    this.baseline = null;
    this.baselineSamples = [];
  }

  /** Drift after one raw offset, seconds; null while the baseline is still being measured. */
  push(offset: number, frameRate: number): number | null {
    this.window.push(offset);
    if (this.window.length > DRIFT_WINDOW) this.window.shift();
    const median = medianOf(this.window);
    if (this.baseline === null) {
      this.baselineSamples.push(offset);
      if (this.baselineSamples.length < BASELINE_SECONDS * frameRate) return null;
      this.baseline = medianOf(this.baselineSamples);
    }
    return median - this.baseline;
  }
}

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
