/**
 * The audio stage: one AudioMeter for the stream and the windows its readings are reported
 * over. Each decoded block becomes the observation the detectors see and the loudness
 * readings the report shows: momentary and short-term as of the block, the true peak over
 * the last second, and the integrated loudness refreshed once a second of media.
 */
import type { AudioObservation } from '../detectors/types.js';
import type { AnalyzerStatus } from '../contract/status.js';
import type { PcmFormat } from './format.js';
import { AudioMeter } from './meter.js';

export type LoudnessReadings = AnalyzerStatus['loudness'];

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

export class AudioStage {
  private readonly meter: AudioMeter;
  private truePeakWindow: number[] = [];
  private integrated: number | null = null;
  private integratedAt = Number.NEGATIVE_INFINITY;

  /** `format`: what the audio pipe carries (the source's format, or resampled for the meters). */
  constructor(
    readonly format: PcmFormat,
    clipLevel: number,
  ) {
    this.meter = new AudioMeter(format.sampleRate, format.channels, { clipLevel });
  }

  /** Seconds of media in an interleaved block of this stage's format. */
  durationOf(samples: Float32Array): number {
    return samples.length / this.meter.channels / this.meter.sampleRate;
  }

  /** Measures the block that starts at timeline `t`. */
  push(t: number, samples: Float32Array): { observation: AudioObservation; loudness: LoudnessReadings } {
    const duration = this.durationOf(samples);
    const m = this.meter.push(samples);
    const observation: AudioObservation = {
      t,
      duration,
      peakDbfs: m.peakDbfs,
      clippedSamples: m.clippedSamples,
      momentaryLufs: m.momentaryLufs,
      shortTermLufs: m.shortTermLufs,
    };
    // True peak over the last second (about 47 blocks at 48 kHz).
    this.truePeakWindow.push(m.truePeakDbtp);
    if (this.truePeakWindow.length > Math.ceil(1 / duration)) this.truePeakWindow.shift();
    // Integrated loudness walks the gating histogram: once a second is plenty (profiled).
    if (t - this.integratedAt >= 1 || t < this.integratedAt) {
      this.integratedAt = t;
      this.integrated = finite(this.meter.integratedLufs);
    }
    return {
      observation,
      loudness: {
        momentaryLufs: finite(m.momentaryLufs),
        shortTermLufs: finite(m.shortTermLufs),
        integratedLufs: this.integrated,
        truePeakDbtp: finite(Math.max(...this.truePeakWindow)),
      },
    };
  }

  /** Integrated loudness of everything measured, LUFS; null until a block passes the gates. */
  get integratedLufs(): number | null {
    return finite(this.meter.integratedLufs);
  }
}
