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
 *
 * Still content is no freeze. Slides, a screen recording, a caption card hold a picture for
 * seconds by design, and freezedetect calls each hold a freeze (on the real corpus's screen
 * programme: 15 freezes in 150 s). What tells a frozen feed from still content is what the
 * stream did before: a feed freezes out of motion, still content was already still. So a
 * still picture is judged only if, in the `priorMotionSeconds` before it, at least
 * `minPriorMotion` of the frames moved (a difference or drift above `noise`). Measured on the
 * real clips over the 10 s before each still run: camera and film footage moved in 68 to 98%
 * of their frames, a 10 fps camera carried at 25 fps in 40% (the other frames repeat), the
 * screen recordings and slides in 1 to 18% (38% once, while a slide faded in); hence the
 * default 0.25. The share alone would also call content that moves little but never stops
 * still content: a creeping inset or ticker moving one step every 0.4 s moves in 10% of the
 * frames. What still content also does is hold: it showed one picture for `minPriorHold`
 * (0.5 s) or longer in that window,
 * which moving content never does (any source of 2 fps or more carried at a higher rate repeats
 * a picture for less than 0.5 s; the creeping inset for 0.36 s). A stream whose history is
 * unknown (a still picture from its first frame) is judged. Set
 * minPriorMotion to 0 to judge every still picture, as freezedetect does (a channel whose
 * still pictures are themselves the fault).
 *
 * Held content is judged over a longer time. 2D animation moves in bursts and holds its drawings
 * in between, as part of the programme: a character stops, a title or a slide stays up while the
 * sound goes on. Those holds last as long as a short freeze (2.3 to 3 s on the real corpus's
 * animation, after stretches that moved in 35 to 92% of their frames, so they are not still
 * content), and nothing in the picture tells the first seconds of a held drawing from a frozen
 * feed. What tells the content is its own history: it already held a picture for `heldHold`
 * (0.2 s) or longer in the priorMotionSeconds before, while moving in at least minPriorMotion of
 * its frames. Camera and film footage never do that: a picture source of 5 fps or more, carried
 * at any higher rate, repeats a picture for less than 0.2 s (a 10 fps camera at 25 fps: 0.08 s;
 * the real corpus's camera freezes followed at most 0.12 s of hold), and content that moves
 * in fewer frames without holding (a creeping inset) keeps the 2 s rule. A still picture of held
 * content is a freeze only once it has lasted `heldMinDuration` (10 s: broadcast monitors raise a
 * freeze alarm after about 10 s by default, e.g. 302 frames on Evertz's 7700 changeover), the
 * time past which no programme holds a drawing; set heldMinDuration to minDuration to judge held
 * content like any other.
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
  minPriorMotion: num(
    0.25,
    0,
    1,
    'Share of frames that moved in the priorMotionSeconds before a still picture for it to be judged; a stream that moved less is still content (slides, a screencast) whose holds are no freeze (0 = judge every still picture, as freezedetect)',
  ),
  priorMotionSeconds: num(10, 0.1, 600, 'How far back minPriorMotion and minPriorHold look', { unit: 's' }),
  minPriorHold: num(
    0.5,
    0,
    600,
    'Still content must also have held one picture at least this long in the priorMotionSeconds before; moving content never does, however little moves',
    { unit: 's' },
  ),
  heldHold: num(
    0.2,
    0,
    600,
    'A stream that moved in at least minPriorMotion of its frames and held one picture this long in the priorMotionSeconds before a still picture is held content (2D animation): its still pictures are judged over heldMinDuration',
    { unit: 's' },
  ),
  heldMinDuration: num(
    10,
    0,
    3600,
    'Shortest freeze reported on held content (a drawing held in 2D animation is no freeze); minDuration to judge it like any other',
    { unit: 's' },
  ),
} satisfies OptionTable;

export type FreezeOptions = OptionValues<typeof freezeOptions>;

/** Which of the frames of the last `seconds` moved, as a share: the stream's recent motion. */
export class MotionHistory {
  private times: number[] = [];
  private moved: boolean[] = [];
  private head = 0;
  private movedCount = 0;

  constructor(private readonly seconds: number) {}

  add(t: number, moved: boolean): void {
    this.times.push(t);
    this.moved.push(moved);
    if (moved) this.movedCount++;
    this.forget(t);
  }

  /** Share of the frames of the window ending at `t` that moved; NaN when there are none. */
  share(t: number): number {
    this.forget(t);
    const frames = this.times.length - this.head;
    return frames > 0 ? this.movedCount / frames : Number.NaN;
  }

  /** The longest stretch of the window ending at `t` in which no frame moved, in seconds. */
  longestHold(t: number): number {
    this.forget(t);
    let longest = 0;
    let holdFrom: number | null = null;
    for (let i = this.head; i < this.times.length; i++) {
      const at = this.times[i] ?? t;
      if (this.moved[i] === true) {
        holdFrom = null;
        continue;
      }
      holdFrom ??= at;
      longest = Math.max(longest, at - holdFrom);
    }
    return longest;
  }

  clear(): void {
    this.times = [];
    this.moved = [];
    this.head = 0;
    this.movedCount = 0;
  }

  private forget(t: number): void {
    while (this.head < this.times.length && (this.times[this.head] ?? t) < t - this.seconds - 1e-9) {
      if (this.moved[this.head] === true) this.movedCount--;
      this.head++;
    }
    // Drop the forgotten entries now and then, not on every frame.
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.moved = this.moved.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * What the stream showed before a still picture began: still content (not judged), held content
 * (judged over heldMinDuration) or moving content (judged over minDuration).
 */
export type StillPictureContent = 'still' | 'held' | 'moving';

/**
 * `blackPictureRatio` is the black detector's pictureRatio, so "black, not frozen" uses the
 * same notion of black as the black events.
 */
export function createFreezeDetector(
  options: FreezeOptions,
  sink: DefectSink<'freeze'>,
  blackPictureRatio: number = blackOptions.pictureRatio.default,
): Detector<'freeze'> {
  const motion = new MotionHistory(options.priorMotionSeconds);
  // A reported freeze was the fault, not the content holding a picture: the history before the
  // next still picture starts after it (else a freeze would make the feed look like held content).
  const reporting: DefectSink<'freeze'> = {
    started: (event) => {
      sink.started(event);
    },
    ended: (event) => {
      sink.ended(event);
      motion.clear();
    },
  };
  // One tracker per minimum duration: a run is judged by the one its content chose at its start.
  const movingTracker = new DefectTracker('freeze', reporting, options.minDuration, options.motionFrames);
  const heldTracker = new DefectTracker('freeze', reporting, options.heldMinDuration, options.motionFrames);
  let tracker = movingTracker;
  // A frame's difference compares it with the frame before, so the frozen picture was already
  // on screen one frame earlier: a run starts at that reference frame, as in freezedetect.
  let referenceT: number | null = null;
  // Mirrors whether the tracker holds a run (pending or active), to know when a run begins.
  let inRun = false;
  let movingRun = 0;
  // Whether the current still run is still content (too little motion before it): not judged.
  let stillContent = false;
  const contentBefore = (t: number): StillPictureContent => {
    const share = motion.share(t);
    // No history (a still picture from the first frame), or every still picture judged alike.
    if (Number.isNaN(share) || options.minPriorMotion <= 0) return 'moving';
    const hold = motion.longestHold(t) + 1e-9;
    if (share < options.minPriorMotion) return hold >= options.minPriorHold ? 'still' : 'moving';
    return hold >= options.heldHold ? 'held' : 'moving';
  };

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
        motion.add(t, true);
        return;
      }
      if (features.diff <= options.noise) {
        const detail = (): Record<string, number> => ({ diff: features.diff });
        if (!inRun) {
          const content = contentBefore(t);
          stillContent = content === 'still';
          tracker = content === 'held' ? heldTracker : movingTracker;
          if (!stillContent && reference !== null) tracker.update(reference, t - reference, true, detail);
        }
        inRun = true;
        movingRun = 0;
        if (!stillContent) tracker.update(t, duration, true, detail);
        motion.add(t, false);
        return;
      }
      tracker.update(t, duration, false);
      motion.add(t, true);
      if (inRun && ++movingRun >= options.motionFrames) {
        inRun = false;
        movingRun = 0;
      }
    },
    flush(t) {
      endRun(t);
      referenceT = null;
      motion.clear();
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
