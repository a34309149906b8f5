/**
 * corruption: damage the decoder never saw. An upstream transcoder that decodes a damaged feed
 * conceals the lost macroblocks and re-encodes cleanly, so the stream decodes without a single
 * error while viewers see smeared blocks until the next keyframe. The shipped corruption model
 * (features/corruption.ts, card in features/corruption-model.md) gives each analysed frame the
 * share of its area in the largest connected region it calls corrupted; a frame is corrupted
 * from `minArea`, and a run of such frames lasting `minDuration` is one event (score: that area).
 *
 * The model runs on every `stride`-th frame (cost); frames in between keep the last verdict.
 * The defaults of minArea and minDuration are the operating point chosen with the model by
 * 5-fold cross-validation by origin on the tuned sources (test/training/corruption/train.ts)
 * and shipped in the model file; the card (features/corruption-model.md) gives the per-fold
 * scores and features/corruption-model-evaluation.md the held-out source's.
 */
import model from '../features/corruption-model.json' with { type: 'json' };
import { bool, num, type OptionTable, type OptionValues } from '../options.js';
import { blackOptions, isBlackPicture } from './black.js';
import { DefectTracker, defineDetector, type DefectSink, type Detector } from './detector.js';

export const corruptionOptions = {
  enabled: bool(
    false,
    'Report corruption baked into the picture (concealed damage re-encoded upstream); opt-in until its model meets its targets',
  ),
  minArea: num(
    model.operatingPoint.minArea,
    0,
    1,
    'Share of the picture one connected region the corruption model calls corrupted must cover for a frame to count',
  ),
  stride: num(3, 1, 100, 'Run the corruption model on every n-th frame (cost); frames between keep its verdict', {
    integer: true,
  }),
  minDetail: num(1, 0, 1020, 'Frames with less detail (mean absolute Laplacian) are too flat to judge'),
  minDuration: num(model.operatingPoint.minDuration, 0, 3600, 'Shortest corrupted stretch reported', { unit: 's' }),
} satisfies OptionTable;

export type CorruptionOptions = OptionValues<typeof corruptionOptions>;

export function createCorruptionDetector(
  options: CorruptionOptions,
  sink: DefectSink<'corruption'>,
  blackPictureRatio: number = blackOptions.pictureRatio.default,
): Detector<'corruption'> {
  const tracker = new DefectTracker('corruption', sink, options.minDuration);
  let corrupted = false;
  let area = 0;
  return {
    type: 'corruption',
    onVideo({ t, duration, features, corruption }) {
      // Black and flat pictures are not judged (the model never saw them, and they show no
      // smear): they end a corrupted run. Frames the model skipped (stride) keep the last verdict.
      if (isBlackPicture(features, blackPictureRatio) || features.detail < options.minDetail) {
        corrupted = false;
      } else if (corruption !== undefined && Number.isFinite(corruption)) {
        area = corruption;
        corrupted = corruption >= options.minArea;
      }
      tracker.update(t, duration, corrupted, () => ({ area: Number(area.toFixed(4)) }));
    },
    flush(t) {
      tracker.close(t);
      corrupted = false;
    },
  };
}

export const corruptionDetector = defineDetector({
  type: 'corruption',
  options: corruptionOptions,
  needs: (options) => ({ corruption: { stride: options.stride } }),
  create: (options, { sink, blackPictureRatio }) => createCorruptionDetector(options, sink, blackPictureRatio),
});
