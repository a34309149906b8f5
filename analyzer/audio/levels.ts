/**
 * Sample levels of one block: per-channel sample peak and RMS in dBFS, and how many samples sit
 * at full scale. Silence and clipping detectors read these; they need no state between blocks.
 */
import { amplitudeToDb, framesIn } from './format.js';

/** Default clip level: a sample at or above 0.999 of full scale (-0.0087 dBFS) counts as clipped. */
export const DEFAULT_CLIP_LEVEL = 0.999;

export interface BlockLevels {
  /** Per channel: largest |sample|, dBFS; -Infinity for digital silence. */
  peakDbfs: number[];
  /**
   * Per channel: root mean square, dBFS, as 20 log10(rms) with no sine correction (ffmpeg's
   * astats convention): a full-scale sine reads -3.01 dBFS. -Infinity for digital silence.
   */
  rmsDbfs: number[];
  /** Samples, all channels together, with |sample| >= clipLevel. */
  clippedSamples: number;
}

/**
 * @param interleaved whole frames of `channels` float samples, full scale = 1.0
 * @param clipLevel 0.1..1.0 of full scale, default 0.999; float audio can exceed 1.0, and every
 *   such sample counts as clipped too
 */
export function measureLevels(
  interleaved: Float32Array,
  channels: number,
  clipLevel: number = DEFAULT_CLIP_LEVEL,
): BlockLevels {
  const frames = framesIn(interleaved, channels);
  const peakDbfs: number[] = [];
  const rmsDbfs: number[] = [];
  let clippedSamples = 0;
  for (let c = 0; c < channels; c++) {
    let peak = 0;
    let sumOfSquares = 0;
    let clipped = 0;
    for (let i = c; i < interleaved.length; i += channels) {
      const x = interleaved[i] ?? 0;
      const a = Math.abs(x);
      if (a > peak) peak = a;
      if (a >= clipLevel) clipped++;
      sumOfSquares += x * x;
    }
    peakDbfs.push(amplitudeToDb(peak));
    rmsDbfs.push(frames > 0 ? amplitudeToDb(Math.sqrt(sumOfSquares / frames)) : -Infinity);
    clippedSamples += clipped;
  }
  return { peakDbfs, rmsDbfs, clippedSamples };
}
