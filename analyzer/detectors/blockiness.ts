/**
 * blockiness: macroblocking or corruption, i.e. block-edge energy far above the stream's own
 * baseline. Every encoded stream has some grid structure, and how much depends on codec,
 * bitrate and content, so a fixed level would flag a low-bitrate stream forever; damaged
 * packets instead make the grid jump well above what the stream usually shows.
 *
 * A frame is blocky when its blockiness exceeds baseline * ratio AND baseline + minDelta.
 * The ratio scales with streams that are blocky by nature; the absolute margin keeps small
 * wobbles near 1 (flat or quiet pictures, where both means are tiny) from counting. Black and
 * near-uniform frames (detail under minDetail) are not judged and do not teach the baseline.
 *
 * minDetail is twice the detail that coding noise alone leaves in a picture (blur.noiseDetail,
 * 1): below that a picture has no texture of its own, the neighbour differences inside blocks
 * are a level or two of rounding, and the ratio (with its +1) measures how the encoder
 * quantised flat gradients rather than any damage. A dim room fading in from black read 1.5
 * to 1.65 at detail 1 to 2 on clean x264, against 1.3 once lit.
 *
 * The baseline belongs to the scene, as blur's does: how blocky a clean encode looks depends
 * on the picture (a dim, low-detail room coded as MPEG-2 reads 1.35 to 1.49 where the CG film
 * before it read 1.15), so a baseline learned on one shot flags the next for its whole length
 * (the dark programme of the real corpus: 38 s of false blockiness in 88 s). It starts over at
 * a shot cut or a fade (SceneWatch, baseline.ts), unless a defect is under way: a single
 * blocky frame at a cut (encoders starve the first frame of a new scene) does not hold the old
 * baseline, a confirmed defect does, so damage that makes the cut meter fire is not learned as
 * the new scene's normal. Decoder-reported damage never restarts it.
 *
 * Defaults (ratio 1.2, minDelta 0.08): on clean x264/mpeg2 encodes frame-to-frame blockiness
 * wanders about +/-5% with single-frame keyframe spikes near +10%, and a zoom into flat
 * content drifted it +16% for seconds; 1.2 stays clear of all of that.
 *
 * Starvation is weaker evidence than a grid far above the baseline: content that turns flatter
 * within one shot (a detailed screen scrolling away to a flat one, no cut, mean luma -16 in
 * 0.7 s) also halves detail and lifts the grid ratio, as flat pictures do; and an encoder's
 * rate control spends a second or so of coarse quantisation on a hard scene before it recovers
 * within its rate buffer. So a stretch that is blocky mostly by the starvation rule must last
 * starvedMinDuration (2 s) to be reported; one where the strong rule holds for at least half
 * of minDuration is reported after minDuration, as before. Either way the event starts at the
 * first blocky frame. (Measured: the real interlaced programme's flat scrolling screen read
 * 1.3 s of starvation with one strong frame; x264 at qp 51 for 4 s, 4 s of it.)
 */
import type { VideoFeatures } from '../features/types.js';
import { bool, num, type OptionTable, type OptionValues } from '../options.js';
import { SceneWatch, StreamBaseline } from './baseline.js';
import { blackOptions, isBlackPicture } from './black.js';
import { pictureChanged } from './format_change.js';
import { DefectTracker, defineDetector, type DefectSink, type Detector, type StreamFormat } from './detector.js';

export const blockinessOptions = {
  enabled: bool(true, "Report macroblocking / corruption (block-edge energy far above the stream's baseline)"),
  ratio: num(1.2, 1, 10, 'Blockiness above baseline * ratio is blocky (with minDelta)'),
  minDelta: num(0.08, 0, 10, 'Blockiness must also exceed the baseline by this much (with ratio)'),
  starvedRatio: num(
    1.08,
    1,
    10,
    'Bitrate starvation: blockiness above baseline * this, with detail collapsing at once',
  ),
  starvedDetailRatio: num(
    0.6,
    0,
    1,
    'Bitrate starvation: detail below its own baseline * this, with blockiness rising at once',
  ),
  minDetail: num(2, 0, 1020, 'Frames with less detail (mean absolute Laplacian) are too flat to judge'),
  baselineSeconds: num(30, 1, 3600, "Time constant of the stream's blockiness baseline", { unit: 's' }),
  relearnSeconds: num(
    120,
    0,
    86400,
    'Slower time constant at which defective frames still teach the baseline, so a lasting change of content ends its defect (0 = never)',
    { unit: 's' },
  ),
  warmupSeconds: num(1, 0, 600, 'Judgeable video that seeds the baseline before any detection', { unit: 's' }),
  sceneLumaChange: num(
    16,
    0,
    255,
    'A change of mean luma (levels 0..255) within 1.5 s that starts another scene (a fade): the baseline starts over, as at a shot cut',
  ),
  corruptionHold: num(
    10,
    0,
    600,
    'After a decode error, frames count as corrupt until a clean keyframe or this long without errors',
    { unit: 's' },
  ),
  minDuration: num(0.5, 0, 3600, 'Shortest blocky stretch reported', { unit: 's' }),
  starvedMinDuration: num(
    2,
    0,
    3600,
    'Shortest blocky stretch reported when the grid stands out strongly for less than half of minDuration (bitrate starvation only)',
    { unit: 's' },
  ),
} satisfies OptionTable;

export type BlockinessOptions = OptionValues<typeof blockinessOptions>;

/**
 * Whether one frame's grid is far enough above the stream's to be a defect, and by which rule:
 * either the grid alone stands out strongly ('grid'), or it rises moderately while detail
 * collapses at the same time ('starved'), the signature of an encoder starved of bitrate
 * (measured on x264 at qp 51 between crf 20 segments: blockiness +10..25%, detail down to
 * 30..40%). Content changes that only move one of the two do not count.
 */
export function blockyBy(
  blockiness: number,
  baseline: number,
  options: Pick<BlockinessOptions, 'ratio' | 'minDelta' | 'starvedRatio' | 'starvedDetailRatio'>,
  detail = Number.NaN,
  detailBaseline = Number.NaN,
): 'grid' | 'starved' | null {
  if (blockiness > baseline * options.ratio && blockiness - baseline > options.minDelta) return 'grid';
  const starved =
    blockiness > baseline * options.starvedRatio &&
    blockiness - baseline > options.minDelta / 2 &&
    detail < detailBaseline * options.starvedDetailRatio;
  return starved ? 'starved' : null;
}

export function createBlockinessDetector(
  options: BlockinessOptions,
  sink: DefectSink<'blockiness'>,
  blackPictureRatio: number = blackOptions.pictureRatio.default,
): Detector<'blockiness'> {
  const tracker = new DefectTracker('blockiness', sink, options.minDuration);
  const baseline = new StreamBaseline(options.warmupSeconds);
  const detailBaseline = new StreamBaseline(options.warmupSeconds);
  const scene = new SceneWatch(options.warmupSeconds, options.sceneLumaChange);
  const restart = (): void => {
    baseline.reset();
    detailBaseline.reset();
    scene.reset();
  };
  const learn = (f: VideoFeatures, duration: number, timeConstant: number): void => {
    baseline.add(f.blockiness, duration, timeConstant);
    detailBaseline.add(f.detail, duration, timeConstant);
    scene.add(f.meanLuma, duration);
  };
  let format: StreamFormat | null = null;
  // Seconds of the current blocky run in which the grid rule (not only starvation) held.
  let gridSeconds = 0;
  // Decoder-reported corruption: since when, the latest error, and the last frame fed.
  let corruptSince: number | null = null;
  let lastError = Number.NEGATIVE_INFINITY;
  let refreshAt: number | null = null;
  const endCorruption = (at: number): void => {
    corruptSince = null;
    refreshAt = null;
    gridSeconds = 0;
    if (tracker.isActive) tracker.close(at);
  };

  const judgeable = (f: VideoFeatures): boolean =>
    Number.isFinite(f.blockiness) && f.detail >= options.minDetail && !isBlackPicture(f, blackPictureRatio);

  return {
    type: 'blockiness',
    onVideo({ t, duration, features, keyframe, cut }) {
      // Errors are pinned to the frame they were reported before, which, with the decoder's
      // thread lookahead, may be the keyframe itself: an error at the same instant does not
      // disqualify a keyframe, a later one does (see onDecodeError).
      if (keyframe && corruptSince !== null && t >= lastError && refreshAt === null) refreshAt = t;
      if (corruptSince !== null) {
        // A refresh is confirmed once two more frames came out with no newer error.
        if (refreshAt !== null && t >= refreshAt + 2 * duration - 1e-9) {
          endCorruption(refreshAt);
        } else if (t - lastError > options.corruptionHold) {
          endCorruption(t);
        } else {
          tracker.update(t, duration, true, () => ({ corruption: 'decoder reported damage' }));
          return;
        }
      }
      const judged = judgeable(features);
      if (!tracker.isActive && scene.changed(cut, judged ? features.meanLuma : undefined)) restart();
      if (!judged) return;
      if (!baseline.ready) {
        learn(features, duration, options.baselineSeconds);
        return;
      }
      const reference = baseline.current;
      const rule = blockyBy(features.blockiness, reference, options, features.detail, detailBaseline.current);
      gridSeconds = rule === null ? 0 : gridSeconds + (rule === 'grid' ? duration : 0);
      const gridHeld = gridSeconds >= options.minDuration / 2 - 1e-9;
      const needed = gridHeld ? options.minDuration : Math.max(options.minDuration, options.starvedMinDuration);
      const detail = (): Record<string, number> => ({ blockiness: features.blockiness, baseline: reference });
      tracker.update(t, duration, rule !== null, detail, needed);
      learn(features, duration, rule !== null ? options.relearnSeconds : options.baselineSeconds);
    },
    onDecodeError(t) {
      corruptSince ??= t;
      lastError = Math.max(lastError, t);
      if (refreshAt !== null && t > refreshAt) refreshAt = null; // the keyframe was damaged too
    },
    onFormat(t, next) {
      // A new size or codec has a different grid: relearn, and close what the old picture showed.
      if (format !== null && pictureChanged(format, next)) {
        tracker.close(t);
        gridSeconds = 0;
        restart();
      }
      format = { ...next };
    },
    flush(t) {
      tracker.close(t);
    },
  };
}

export const blockinessDetector = defineDetector({
  type: 'blockiness',
  options: blockinessOptions,
  needs: () => ({ shotCuts: true }),
  create: (options, { sink, blackPictureRatio }) => createBlockinessDetector(options, sink, blackPictureRatio),
});
