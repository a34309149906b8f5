/**
 * Programme loudness periods: the integrated loudness, loudness range and maximum true peak of
 * each stretch a broadcaster signs off (an hour, or a programme between two markers). The
 * LoudnessMeter hands every 100 ms gating block and short-term value to the open period, which
 * gates them on its own histograms (fixed size, as the meter's), so a period costs no second
 * pass of K-weighting.
 *
 * A period is measured as a meter started at its first sample would measure it: the 400 ms
 * gating blocks and 3 s short-term windows that still hold audio of the period before (the
 * first 4 and 30 steps after a close) do not count. Without that, three -20 LUFS blocks reaching
 * into a -30 LUFS period raised its integrated loudness by 1 LU (measured, 5 s periods).
 *
 * A period closes when its length has elapsed on the media timeline (advance), when a marker
 * says a programme ended (close with 'marker': SCTE-35 cues will call it), or at the end of a
 * finite input (close with 'end').
 */
import type { LoudnessPeriod, PeriodClosedBy } from '../detectors/detector.js';
import {
  GatedLoudnessHistogram,
  INTEGRATED_RELATIVE_GATE_LU,
  RANGE_RELATIVE_GATE_LU,
  ABSOLUTE_GATE_LUFS,
  loudnessOfEnergy,
} from './loudness.js';

/** 100 ms steps in a 400 ms gating block and in a 3 s short-term window. */
const STEPS_PER_GATING_BLOCK = 4;
const STEPS_PER_SHORT_TERM = 30;

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

export class ProgrammePeriods {
  private readonly gatingBlocks = new GatedLoudnessHistogram();
  private readonly shortTermValues = new GatedLoudnessHistogram();
  private maxShortTermEnergy = 0;
  private maxTruePeak = -Infinity;
  /** Timeline seconds of the open period's first audio; null while no audio came since the last close. */
  private start: number | null = null;
  private lastEnd = 0;
  /** Steps still to skip because their windows reach back into the previous period. */
  private skipGating = 0;
  private skipShortTerm = 0;

  /** @param periodSeconds length of a period; 0: periods close only at markers and at the end. */
  constructor(readonly periodSeconds: number) {
    if (!(periodSeconds >= 0)) throw new RangeError(`periodSeconds ${periodSeconds} is not allowed: 0 or more`);
  }

  /** A 100 ms step of the meter (LoudnessMeter.onStep). */
  step(gatingEnergy: number, shortTermEnergy: number | null): void {
    if (this.skipGating > 0) this.skipGating--;
    else this.gatingBlocks.add(gatingEnergy);
    if (this.skipShortTerm > 0) this.skipShortTerm--;
    else if (shortTermEnergy !== null) {
      this.shortTermValues.add(shortTermEnergy);
      this.maxShortTermEnergy = Math.max(this.maxShortTermEnergy, shortTermEnergy);
    }
  }

  /** A block of audio from `t` to `end` with its true peak was measured. */
  measured(t: number, end: number, truePeakDbtp: number): void {
    this.start ??= t;
    this.lastEnd = end;
    if (truePeakDbtp > this.maxTruePeak) this.maxTruePeak = truePeakDbtp;
  }

  /** The period that has run its length by timeline `t` (call before measuring the block at `t`); else null. */
  advance(t: number): LoudnessPeriod | null {
    if (this.periodSeconds === 0 || this.start === null || t < this.start + this.periodSeconds) return null;
    return this.close('period');
  }

  /** Closes the open period now; null when no audio came since the last close. */
  close(closedBy: PeriodClosedBy): LoudnessPeriod | null {
    if (this.start === null) return null;
    const rangeMeasured = loudnessOfEnergy(this.maxShortTermEnergy) > ABSOLUTE_GATE_LUFS;
    const period: LoudnessPeriod = {
      start: this.start,
      end: this.lastEnd,
      closedBy,
      integratedLufs: finite(this.gatingBlocks.gatedLoudness(INTEGRATED_RELATIVE_GATE_LU)),
      loudnessRangeLu: rangeMeasured ? this.shortTermValues.range(RANGE_RELATIVE_GATE_LU, 0.1, 0.95) : null,
      maxTruePeakDbtp: finite(this.maxTruePeak),
    };
    this.gatingBlocks.clear();
    this.shortTermValues.clear();
    this.maxShortTermEnergy = 0;
    this.maxTruePeak = -Infinity;
    this.start = null;
    this.skipGating = STEPS_PER_GATING_BLOCK;
    this.skipShortTerm = STEPS_PER_SHORT_TERM;
    return period;
  }
}
