/**
 * freeze: the picture does not change. A frame is frozen when its mean absolute difference
 * to the previous frame is at most `noise` and it is not black (a black picture is black,
 * not frozen). Defaults follow ffmpeg's freezedetect (noise -60 dB = 0.001 of full scale,
 * duration 2 s), with one deliberate difference: freezedetect splits a freeze on any
 * changed frame, so the keyframe an encoder inserts into a frozen picture cuts it in two;
 * here a freeze only clears after `motionFrames` consecutive moving frames.
 *
 * Slow motion moves less than the noise floor from one frame to the next (a slow pan, a
 * creeping ticker), so each frame is also held against a reference (`drift`, see
 * features/stillness.ts), as freezedetect does: a frame more than `noise` from the last
 * keyframe or the last moved frame is motion, and ends a freeze at once. Keyframes re-anchor
 * the reference, so an encoder re-coding a frozen picture does not, and drift leaves out the
 * small, unbiased pixel changes of an encoder refining a frozen picture between keyframes.
 */
import { bool, num, type OptionTable, type OptionValues } from '../options.js';
import { blackOptions, isBlackPicture } from './black.js';
import { DefectTracker, defineDetector, type DefectSink, type Detector } from './detector.js';

export const freezeOptions = {
  enabled: bool(true, 'Report frozen pictures'),
  noise: num(
    0.001 * 255,
    0,
    255,
    "Mean absolute luma difference to the previous frame (levels 0..255) at or below which a frame is unchanged; 0.255 is freezedetect's -60 dB",
  ),
  minDuration: num(2, 0, 3600, 'Shortest freeze reported', { unit: 's' }),
  motionFrames: num(2, 1, 30, 'Consecutive moving frames that end a freeze (1 = any change ends it, as freezedetect)', {
    integer: true,
  }),
} satisfies OptionTable;

export type FreezeOptions = OptionValues<typeof freezeOptions>;

/**
 * `blackPictureRatio` is the black detector's pictureRatio, so "black, not frozen" uses the
 * same notion of black as the black events.
 */
export function createFreezeDetector(
  options: FreezeOptions,
  sink: DefectSink<'freeze'>,
  blackPictureRatio: number = blackOptions.pictureRatio.default,
): Detector<'freeze'> {
  const tracker = new DefectTracker('freeze', sink, options.minDuration, options.motionFrames);
  // A frame's difference compares it with the frame before, so the frozen picture was already
  // on screen one frame earlier: a run starts at that reference frame, as in freezedetect.
  let referenceT: number | null = null;
  // Mirrors whether the tracker holds a run (pending or active), to know when a run begins.
  let inRun = false;
  let movingRun = 0;

  const endRun = (t: number): void => {
    tracker.close(t);
    inRun = false;
    movingRun = 0;
  };

  return {
    type: 'freeze',
    onVideo({ t, duration, features, drift }) {
      const reference = referenceT;
      if (isBlackPicture(features, blackPictureRatio)) {
        // A black frame ends a freeze outright: what follows is black, not a longer freeze.
        endRun(t);
        referenceT = null;
        return;
      }
      referenceT = t;
      // NaN: the first frame of a segment has nothing to compare with; it neither extends nor ends a run.
      if (Number.isNaN(features.diff)) return;
      if (drift !== undefined && drift > options.noise) {
        // Moved away from the reference: real motion, however small each step was.
        tracker.clearNow(t);
        inRun = false;
        movingRun = 0;
        return;
      }
      if (features.diff <= options.noise) {
        const detail = (): Record<string, number> => ({ diff: features.diff });
        if (!inRun && reference !== null) tracker.update(reference, t - reference, true, detail);
        inRun = true;
        movingRun = 0;
        tracker.update(t, duration, true, detail);
        return;
      }
      tracker.update(t, duration, false);
      if (inRun && ++movingRun >= options.motionFrames) {
        inRun = false;
        movingRun = 0;
      }
    },
    flush(t) {
      endRun(t);
      referenceT = null;
    },
  };
}

export const freezeDetector = defineDetector({
  type: 'freeze',
  options: freezeOptions,
  // Drift re-anchors past the same noise floor that tells a moving frame from a frozen one.
  needs: (options) => ({ drift: { reanchorAbove: options.noise } }),
  create: (options, { sink, blackPictureRatio }) => createFreezeDetector(options, sink, blackPictureRatio),
});
