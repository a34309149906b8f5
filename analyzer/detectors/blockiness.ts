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
 * Defaults (ratio 1.2, minDelta 0.08): on clean x264/mpeg2 encodes frame-to-frame blockiness
 * wanders about +/-5% with single-frame keyframe spikes near +10%, and a zoom into flat
 * content drifted it +16% for seconds; 1.2 stays clear of all of that.
 */
import type { VideoFeatures } from '../features/types.js';
import { bool, num, type OptionTable, type OptionValues } from '../options.js';
import { StreamBaseline } from './baseline.js';
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
  minDetail: num(1, 0, 1020, 'Frames with less detail (mean absolute Laplacian) are too flat to judge'),
  baselineSeconds: num(30, 1, 3600, "Time constant of the stream's blockiness baseline", { unit: 's' }),
  relearnSeconds: num(
    120,
    0,
    86400,
    'Slower time constant at which defective frames still teach the baseline, so a lasting change of content ends its defect (0 = never)',
    { unit: 's' },
  ),
  warmupSeconds: num(1, 0, 600, 'Judgeable video that seeds the baseline before any detection', { unit: 's' }),
  corruptionHold: num(
    10,
    0,
    600,
    'After a decode error, frames count as corrupt until a clean keyframe or this long without errors',
    { unit: 's' },
  ),
  minDuration: num(0.5, 0, 3600, 'Shortest blocky stretch reported', { unit: 's' }),
} satisfies OptionTable;

export type BlockinessOptions = OptionValues<typeof blockinessOptions>;

/**
 * Whether one frame's grid is far enough above the stream's to be a defect: either the grid
 * alone stands out strongly, or it rises moderately while detail collapses at the same time,
 * the signature of an encoder starved of bitrate (measured on x264 at qp 51 between crf 20
 * segments: blockiness +10..25%, detail down to 30..40%). Content changes that only move one
 * of the two do not count.
 */
export function isBlocky(
  blockiness: number,
  baseline: number,
  options: Pick<BlockinessOptions, 'ratio' | 'minDelta' | 'starvedRatio' | 'starvedDetailRatio'>,
  detail = Number.NaN,
  detailBaseline = Number.NaN,
): boolean {
  if (blockiness > baseline * options.ratio && blockiness - baseline > options.minDelta) return true;
  return (
    blockiness > baseline * options.starvedRatio &&
    blockiness - baseline > options.minDelta / 2 &&
    detail < detailBaseline * options.starvedDetailRatio
  );
}

export function createBlockinessDetector(
  options: BlockinessOptions,
  sink: DefectSink<'blockiness'>,
  blackPictureRatio: number = blackOptions.pictureRatio.default,
): Detector<'blockiness'> {
  const tracker = new DefectTracker('blockiness', sink, options.minDuration);
  const baseline = new StreamBaseline(options.warmupSeconds);
  const detailBaseline = new StreamBaseline(options.warmupSeconds);
  let format: StreamFormat | null = null;
  // Decoder-reported corruption: since when, the latest error, and the last frame fed.
  let corruptSince: number | null = null;
  let lastError = Number.NEGATIVE_INFINITY;
  let refreshAt: number | null = null;
  const endCorruption = (at: number): void => {
    corruptSince = null;
    refreshAt = null;
    if (tracker.isActive) tracker.close(at);
  };

  const judgeable = (f: VideoFeatures): boolean =>
    Number.isFinite(f.blockiness) && f.detail >= options.minDetail && !isBlackPicture(f, blackPictureRatio);

  return {
    type: 'blockiness',
    onVideo({ t, duration, features, keyframe }) {
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
      if (!judgeable(features)) return;
      if (!baseline.ready) {
        baseline.add(features.blockiness, duration, options.baselineSeconds);
        detailBaseline.add(features.detail, duration, options.baselineSeconds);
        return;
      }
      const reference = baseline.current;
      const blocky = isBlocky(features.blockiness, reference, options, features.detail, detailBaseline.current);
      tracker.update(t, duration, blocky, () => ({ blockiness: features.blockiness, baseline: reference }));
      const timeConstant = blocky ? options.relearnSeconds : options.baselineSeconds;
      baseline.add(features.blockiness, duration, timeConstant);
      detailBaseline.add(features.detail, duration, timeConstant);
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
        baseline.reset();
        detailBaseline.reset();
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
  create: (options, { sink, blackPictureRatio }) => createBlockinessDetector(options, sink, blackPictureRatio),
});
