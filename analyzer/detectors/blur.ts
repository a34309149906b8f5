/**
 * blur: loss of detail far below the stream's own baseline (a soft encode, a defocused or
 * badly upscaled feed). Detail depends on content, so the reference is this stream's own
 * slow average of detail, not a fixed level.
 *
 * A frame is blurred when detail < baseline * ratio, and only once the baseline itself is at
 * least minBaselineDetail: a stream of flat content (slates, cartoons) has little detail to
 * lose, and a ratio of nearly nothing is noise. Black frames are not judged and do not teach
 * the baseline (a black picture is black, not blurred).
 *
 * The baseline belongs to the shot. A baseline learned across shots cannot tell a cut to a
 * softer scene from a loss of focus (a dark film scene after a detailed city shot: detail 3.7
 * against a baseline of 61, flagged for its whole length, while the same frames without the
 * city shot before them are not), so it starts over at a shot cut (features/shot-cut.ts), and
 * at a fade into another shot, which the cut meter does not see: a change of the mean luma by
 * more than `sceneLumaChange` (baseline.ts, SceneWatch; a blur keeps the mean luma, a fade from
 * a night city to a handheld bird moved it by 28 levels and left the bird flagged for 13 s).
 * Not while the picture is blurred: a feed out of focus stays out of focus across the cuts of
 * its programme, and a baseline learned on blurred shots would call it sharp.
 *
 * Detail is judged above the coding noise floor: no picture is without detail once coded,
 * since coding noise and 8-bit rounding leave some (a picture blurred with sigma 6 keeps 1.2 to
 * 1.4, x264 at 540p). On soft content that floor is a large part of the detail (a dim room:
 * 2.9 sharp, 1.2 blurred, a ratio of 0.41 that the plain ratio misses), so the ratio compares
 * the detail above `noiseDetail`: (detail - noise) < (baseline - noise) * ratio. Detailed
 * content (baselines of 20 to 60) is judged as before.
 *
 * A loss of detail is blur only if the edges went soft. Detail alone cannot tell a blurred
 * picture from one with fewer edges: flat 2D animation settles on flat colour fields within a
 * shot (detail 2 against a shot baseline of 9.5, held for seconds, no cut, no change of
 * brightness). The edges that remain tell: a blur spreads an edge, so its Laplacian falls more
 * than its gradient (for a Gaussian, as 1/sigma^2 against 1/sigma), while a picture with fewer
 * edges loses both alike. So the detector also keeps a baseline of sharpness, detail /
 * gradient (features/types.ts), and a frame is blurred only when its sharpness is also below
 * `sharpnessRatio` of it. Measured on the real and synthetic clips: blurred frames keep 0.5 to
 * 0.85 of their shot's sharpness (sigma 6 on a dim room, a handheld dive, grain; a soft encode),
 * flat animation frames 1.0 to 1.4 (their few edges are sharp), detailed camera footage 0.9 to 1.1.
 */
import type { VideoFeatures } from '../features/types.js';
import { bool, num, type OptionTable, type OptionValues } from '../options.js';
import { SceneWatch, StreamBaseline } from './baseline.js';
import { blackOptions, isBlackPicture } from './black.js';
import { pictureChanged } from './format_change.js';
import { DefectTracker, defineDetector, type DefectSink, type Detector, type StreamFormat } from './detector.js';

export const blurOptions = {
  enabled: bool(true, "Report loss of detail far below the stream's baseline"),
  ratio: num(0.4, 0, 1, 'Detail below baseline * ratio is blurred (both counted above noiseDetail)'),
  minBaselineDetail: num(2, 0, 1020, 'No detection while the baseline detail (mean absolute Laplacian) is lower'),
  noiseDetail: num(
    1,
    0,
    1020,
    'Detail that coding noise leaves in a picture with none of its own; the ratio judges the detail above it',
  ),
  baselineSeconds: num(30, 1, 3600, "Time constant of the stream's detail baseline", { unit: 's' }),
  relearnSeconds: num(
    120,
    0,
    86400,
    'Slower time constant at which defective frames still teach the baseline, so a lasting change of content ends its defect (0 = never)',
    { unit: 's' },
  ),
  warmupSeconds: num(1, 0, 600, 'Non-black video that seeds the baseline before any detection', { unit: 's' }),
  sceneLumaChange: num(
    16,
    0,
    255,
    'A change of mean luma (levels 0..255) within 1.5 s that starts another scene (a fade): the baseline starts over, as at a shot cut',
  ),
  minDuration: num(2, 0, 3600, 'Shortest blurred stretch reported', { unit: 's' }),
  sharpnessRatio: num(
    0.9,
    0,
    1000,
    "A frame far below the detail baseline is blurred only if its sharpness (detail / gradient) is also below the baseline's times this: fewer edges are no blur, softer ones are (a large value judges detail alone)",
  ),
} satisfies OptionTable;

export type BlurOptions = OptionValues<typeof blurOptions>;

/**
 * How much detail above the coding noise floor is missing against the baseline: 0 = as sharp
 * as usual, 1 = none left.
 */
export function blurScoreOf(detail: number, baseline: number, noise = 0): number {
  if (!(baseline > noise) || !Number.isFinite(detail)) return 0;
  return Math.min(1, Math.max(0, 1 - (detail - noise) / (baseline - noise)));
}

/** How sharp the picture's edges are: detail / gradient; NaN where the gradient is unknown or zero (no edges). */
export function sharpnessOf(f: VideoFeatures): number {
  return f.gradient !== undefined && f.gradient > 0 ? f.detail / f.gradient : Number.NaN;
}

export interface BlurDetector extends Detector<'blur'> {
  /** Blur score of the last judged frame (0 before the baseline is ready); also the blur gauge. */
  blurScore(): number;
}

export function createBlurDetector(
  options: BlurOptions,
  sink: DefectSink<'blur'>,
  blackPictureRatio: number = blackOptions.pictureRatio.default,
): BlurDetector {
  const tracker = new DefectTracker('blur', sink, options.minDuration);
  const baseline = new StreamBaseline(options.warmupSeconds);
  // Sharpness of the stream's edges. It belongs to the stream, not the shot: how sharp edges are
  // is the camera's, the scaler's and the encoder's, whatever the shot shows, so it does not
  // start over at a cut or a fade (a warm-up that a blur overlaps would learn the blur).
  const sharpness = new StreamBaseline(options.warmupSeconds);
  const scene = new SceneWatch(options.warmupSeconds, options.sceneLumaChange);
  let format: StreamFormat | null = null;
  let score = 0;
  // Whether the last judged frame was blurred: another scene then keeps the baseline.
  let blurred = false;

  const judgeable = (f: VideoFeatures): boolean => Number.isFinite(f.detail) && !isBlackPicture(f, blackPictureRatio);
  const learn = (f: VideoFeatures, duration: number, timeConstant: number): void => {
    baseline.add(f.detail, duration, timeConstant);
    const sharp = sharpnessOf(f);
    if (Number.isFinite(sharp)) sharpness.add(sharp, duration, timeConstant);
    scene.add(f.meanLuma, duration);
  };
  // Edges as soft as the baseline's or softer; true when either sharpness is unknown (judge detail alone).
  const edgesSoftened = (f: VideoFeatures): boolean => {
    const sharp = sharpnessOf(f);
    const usual = sharpness.current;
    return !(Number.isFinite(sharp) && Number.isFinite(usual)) || sharp < usual * options.sharpnessRatio;
  };

  return {
    type: 'blur',
    onVideo({ t, duration, features, cut }) {
      const judged = judgeable(features);
      if (!blurred && scene.changed(cut, judged ? features.meanLuma : undefined)) {
        baseline.reset();
        scene.reset();
      }
      if (!judged) return;
      if (!baseline.ready) {
        learn(features, duration, options.baselineSeconds);
        return;
      }
      const reference = baseline.current;
      score = blurScoreOf(features.detail, reference, options.noiseDetail);
      blurred = reference >= options.minBaselineDetail && score > 1 - options.ratio && edgesSoftened(features);
      tracker.update(t, duration, blurred, () => ({ detail: features.detail, baseline: reference }));
      learn(features, duration, blurred ? options.relearnSeconds : options.baselineSeconds);
    },
    onFormat(t, next) {
      // Another size or codec has another level of detail: relearn rather than call it blur.
      if (format !== null && pictureChanged(format, next)) {
        tracker.close(t);
        baseline.reset();
        sharpness.reset();
        scene.reset();
        score = 0;
        blurred = false;
      }
      format = { ...next };
    },
    flush(t) {
      tracker.close(t);
    },
    blurScore() {
      return score;
    },
    gauges() {
      return { blur: score };
    },
  };
}

export const blurDetector = defineDetector({
  type: 'blur',
  options: blurOptions,
  needs: () => ({ shotCuts: true }),
  create: (options, { sink, blackPictureRatio }) => createBlurDetector(options, sink, blackPictureRatio),
});
