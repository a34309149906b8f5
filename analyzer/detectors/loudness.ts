/**
 * loudness: EBU R128 short-term (3 s) loudness stays outside target +/- tolerance
 * (EBU R128: -23 LUFS; +/- 5 LU before anyone would call it a fault) for `minDuration`.
 *
 * Short-term loudness under the absolute gate (-70 LUFS, or -Infinity before 3 s of audio)
 * is silence, which the silence detector reports, not a loudness fault. Such a block is
 * neither good nor bad here, and it ends any loudness run: an active event ends at the
 * first gated block, a pending run is dropped. Merely pausing the run instead would let the
 * fade-out and fade-in windows around a long silence (each briefly below target) add up,
 * across the silence, to a false loudness event.
 */
import { bool, num, type OptionTable, type OptionValues } from '../options.js';
import { DefectTracker, defineDetector, type DefectSink, type Detector } from './detector.js';

export const loudnessOptions = {
  enabled: bool(true, 'Report programme loudness outside target +/- tolerance'),
  targetLufs: num(-23, -70, 0, 'Target short-term loudness (EBU R128)', { unit: 'LUFS' }),
  toleranceLu: num(5, 0, 40, 'Allowed deviation from the target either way', { unit: 'LU' }),
  minDuration: num(10, 0, 3600, 'Shortest out-of-range stretch reported', { unit: 's' }),
} satisfies OptionTable;

export type LoudnessOptions = OptionValues<typeof loudnessOptions>;

/** EBU R128 / ITU-R BS.1770 absolute gate: below it a block does not count as programme. */
export const ABSOLUTE_GATE_LUFS = -70;

export function createLoudnessDetector(options: LoudnessOptions, sink: DefectSink<'loudness'>): Detector<'loudness'> {
  const tracker = new DefectTracker('loudness', sink, options.minDuration);
  return {
    type: 'loudness',
    onAudio({ t, duration, shortTermLufs }) {
      if (!(shortTermLufs >= ABSOLUTE_GATE_LUFS)) {
        tracker.close(t);
        return;
      }
      const deviation = shortTermLufs - options.targetLufs;
      tracker.update(t, duration, Math.abs(deviation) > options.toleranceLu, () => ({
        shortTermLufs,
        targetLufs: options.targetLufs,
        direction: deviation < 0 ? 'too quiet' : 'too loud',
      }));
    },
    flush(t) {
      tracker.close(t);
    },
  };
}

export const loudnessDetector = defineDetector({
  type: 'loudness',
  options: loudnessOptions,
  create: (options, { sink }) => createLoudnessDetector(options, sink),
});
