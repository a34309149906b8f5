/**
 * black: the picture is black. A frame is black when the share of dark pixels reaches
 * `pictureRatio`; a run of black frames lasting `minDuration` is one event (ffmpeg's
 * blackdetect: pix_th 0.10, picture_black_ratio_th 0.98, black_min_duration 2).
 */
import type { VideoFeatures } from '../features/types.js';
import { bool, num, type OptionTable, type OptionValues } from '../options.js';
import { DefectTracker, defineDetector, type DefectSink, type Detector } from './detector.js';

export const blackOptions = {
  enabled: bool(true, 'Report black pictures'),
  pictureRatio: num(0.98, 0, 1, 'Share of dark pixels from which a frame counts as black'),
  pixelThreshold: num(
    0.1,
    0,
    1,
    'A pixel is dark at or below this share of the luma range (nominal Y <= 16 + pixelThreshold * 219, as blackdetect)',
  ),
  minDuration: num(2, 0, 3600, 'Shortest black run reported', { unit: 's' }),
} satisfies OptionTable;

export type BlackOptions = OptionValues<typeof blackOptions>;

/**
 * The luma level at or below which a pixel is dark, for FeatureGeometry.darkThreshold.
 *
 * The analysis plane is full-range gray (ffmpeg's `format=gray` stretches nominal 16..235 to
 * 0..255), so blackdetect's nominal-range test `Y <= 16 + pixelThreshold * (235 - 16)` becomes
 * `gray <= pixelThreshold * 255` there; truncated to an integer level as blackdetect's
 * pixel_black_th_i, 0.10 gives 25, which selects exactly nominal Y <= 37 (blackdetect's set).
 */
export function darkLumaThreshold(pixelThreshold: number): number {
  return Math.floor(pixelThreshold * 255);
}

/**
 * Whether a frame is black. Freeze, blur and blockiness use it too: a black picture is black,
 * not frozen, blurred or blocky, so they all need the same notion of it.
 */
export function isBlackPicture(features: VideoFeatures, pictureRatio: number): boolean {
  return features.darkRatio >= pictureRatio;
}

export function createBlackDetector(options: BlackOptions, sink: DefectSink<'black'>): Detector<'black'> {
  const tracker = new DefectTracker('black', sink, options.minDuration);
  return {
    type: 'black',
    onVideo({ t, duration, features }) {
      tracker.update(t, duration, isBlackPicture(features, options.pictureRatio), () => ({
        darkRatio: features.darkRatio,
      }));
    },
    flush(t) {
      tracker.close(t);
    },
  };
}

export const blackDetector = defineDetector({
  type: 'black',
  options: blackOptions,
  // Freeze, blur and blockiness skip black pictures by this detector's own measure, and the
  // features count dark pixels by it, whether or not black itself is reported.
  shares: (options) => ({
    blackPictureRatio: options.pictureRatio,
    darkLumaThreshold: darkLumaThreshold(options.pixelThreshold),
  }),
  create: (options, { sink }) => createBlackDetector(options, sink),
});
