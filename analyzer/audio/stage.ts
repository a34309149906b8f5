/**
 * The audio stage: one AudioMeter for the stream and the windows its readings are reported
 * over. Each decoded block becomes the observation the detectors see and the loudness
 * readings the report shows: momentary and short-term as of the block, the true peak over
 * the last second, the maxima of the segment, and the integrated loudness and loudness range
 * refreshed once a second of media (each walks a histogram). finalReadings() gives every
 * figure fresh, for the end of a finite input.
 */
import type { AudioObservation } from '../detectors/types.js';
import type { LoudnessPeriod, PeriodClosedBy } from '../detectors/detector.js';
import { ProgrammePeriods } from './programme.js';
import type { AnalyzerStatus } from '../contract/status.js';
import type { PcmFormat } from './format.js';
import { AudioMeter } from './meter.js';
import { ABSOLUTE_GATE_LUFS } from './loudness.js';

export type LoudnessReadings = AnalyzerStatus['loudness'];

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

export class AudioStage {
  private readonly meter: AudioMeter;
  private truePeakWindow: number[] = [];
  private integrated: number | null = null;
  private loudnessRange: number | null = null;
  private integratedAt = Number.NEGATIVE_INFINITY;

  private readonly periods: ProgrammePeriods;

  /**
   * `format`: what the audio pipe carries (the source's format, or resampled for the meters);
   * `channelLayout`: the source's layout as ffmpeg reports it, which weighs its channels;
   * `periodSeconds`: length of a programme loudness period (0: only markers and the end close one).
   */
  constructor(
    readonly format: PcmFormat,
    clipLevel: number,
    { channelLayout = null, periodSeconds = 0 }: { channelLayout?: string | null; periodSeconds?: number } = {},
  ) {
    this.meter = new AudioMeter(format.sampleRate, format.channels, { clipLevel }, channelLayout);
    const periods = new ProgrammePeriods(periodSeconds);
    this.meter.onLoudnessStep = (gating, shortTerm) => {
      periods.step(gating, shortTerm);
    };
    this.periods = periods;
  }

  /**
   * Closes the open programme period now (a marker such as an SCTE-35 cue, or the end of the
   * input); null when no audio came since the last one closed.
   */
  closePeriod(closedBy: PeriodClosedBy): LoudnessPeriod | null {
    return this.periods.close(closedBy);
  }

  /** BS.1770 weight of each channel, as the layout set them. */
  get channelWeights(): readonly number[] {
    return this.meter.channelWeights;
  }

  /** Seconds of media in an interleaved block of this stage's format. */
  durationOf(samples: Float32Array): number {
    return samples.length / this.meter.channels / this.meter.sampleRate;
  }

  /**
   * Measures the block that starts at timeline `t`. `period` is the programme period that ran its
   * length before this block, if one did.
   */
  push(
    t: number,
    samples: Float32Array,
  ): { observation: AudioObservation; loudness: LoudnessReadings; period: LoudnessPeriod | null } {
    const duration = this.durationOf(samples);
    const period = this.periods.advance(t);
    const m = this.meter.push(samples);
    this.periods.measured(t, t + duration, m.truePeakDbtp);
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
    // Integrated loudness and range walk their histograms: once a second is plenty (profiled).
    if (t - this.integratedAt >= 1 || t < this.integratedAt) {
      this.integratedAt = t;
      this.refreshGated();
    }
    return { observation, period, loudness: this.readings(m.momentaryLufs, m.shortTermLufs) };
  }

  /** Every reading as of the last sample, the gated ones included: what a finished input publishes. */
  finalReadings(): LoudnessReadings {
    this.refreshGated();
    return this.readings(this.meter.momentaryLufs, this.meter.shortTermLufs);
  }

  /** Integrated loudness of everything measured, LUFS; null until a block passes the gates. */
  get integratedLufs(): number | null {
    return finite(this.meter.integratedLufs);
  }

  private refreshGated(): void {
    this.integrated = finite(this.meter.integratedLufs);
    // The range needs a short-term value (3 s) above the absolute gate; before that it is no reading.
    this.loudnessRange = this.meter.maxShortTermLufs > ABSOLUTE_GATE_LUFS ? this.meter.loudnessRangeLu : null;
  }

  /** The published readings: momentary and short-term as given, the rest as the stage holds them. */
  private readings(momentaryLufs: number, shortTermLufs: number): LoudnessReadings {
    return {
      integratedLufs: this.integrated,
      loudnessRangeLu: this.loudnessRange,
      maxMomentaryLufs: finite(this.meter.maxMomentaryLufs),
      maxShortTermLufs: finite(this.meter.maxShortTermLufs),
      maxTruePeakDbtp: finite(this.meter.truePeakMaxDbtp),
      momentaryLufs: finite(momentaryLufs),
      shortTermLufs: finite(shortTermLufs),
      // Math.max() of no blocks is -Infinity: no reading.
      truePeakDbtp: finite(Math.max(...this.truePeakWindow)),
    };
  }
}
