/**
 * Plays a conformance signal through the analyzer's own audio entry point, AudioStage, the way
 * the pipeline does: interleaved f32 blocks of 1024 frames (the last one shorter), each pushed
 * with its start time, and at the end the final readings the pipeline publishes on finish.
 * What comes back is exactly what /status and the metrics are fed.
 */
import { AudioStage, type LoudnessReadings } from '../../analyzer/audio/stage.js';
import { DEFAULT_CLIP_LEVEL } from '../../analyzer/audio/levels.js';
import {
  interleave,
  LAYOUT_CHANNELS,
  LOUDNESS_TOLERANCE_LU,
  RANGE_TOLERANCE_LU,
  TRUE_PEAK_TOLERANCE_DB,
  type EbuCase,
} from './ebu-signals.js';

/** The readings the stage published after one block; `endSeconds` is media time at the block's end. */
export interface StageUpdate extends LoudnessReadings {
  endSeconds: number;
}

export interface StageRun {
  updates: StageUpdate[];
  /** What the pipeline's finish() publishes: every reading as of the last sample. */
  final: LoudnessReadings;
}

/** Frames per block, as ffmpeg decodes them for the analyzer. */
export const BLOCK_FRAMES = 1024;

export function runThroughStage(c: EbuCase, blockFrames = BLOCK_FRAMES): StageRun {
  const channels = LAYOUT_CHANNELS[c.layout];
  const signal = c.synthesise();
  if (signal.length !== channels)
    throw new RangeError(`${c.id} synthesised ${signal.length} channels, not ${channels}`);
  const pcm = interleave(signal);
  const stage = new AudioStage({ sampleRate: c.sampleRate, channels }, DEFAULT_CLIP_LEVEL);
  const updates: StageUpdate[] = [];
  const frames = pcm.length / channels;
  for (let frame = 0; frame < frames; frame += blockFrames) {
    const end = Math.min(frames, frame + blockFrames);
    const { loudness } = stage.push(frame / c.sampleRate, pcm.subarray(frame * channels, end * channels));
    updates.push({ ...loudness, endSeconds: end / c.sampleRate });
  }
  return { updates, final: stage.finalReadings() };
}

type ReadingName = 'momentaryLufs' | 'shortTermLufs' | 'truePeakDbtp' | 'maxMomentaryLufs' | 'maxShortTermLufs';

/** The highest value of a reading among the updates ending in [from, to); null if none had one. */
export function highestPublished(run: StageRun, reading: ReadingName, from = 0, to = Infinity): number | null {
  let best: number | null = null;
  for (const u of run.updates) {
    const v = u[reading];
    if (v === null || u.endSeconds < from || u.endSeconds >= to) continue;
    if (best === null || v > best) best = v;
  }
  return best;
}

/** One reading's value at one moment: the series a meter publishes every update. */
export interface TimedValue {
  endSeconds: number;
  value: number;
}

/** The readings of one meter on one signal, whatever the meter: streamqc's stage or ffmpeg's ebur128. */
export interface MeterReadings {
  /** Every momentary update (null entries dropped: no value before 400 ms). */
  momentary: TimedValue[];
  shortTerm: TimedValue[];
  /** The "Max M" and "Max S" a meter shows at each update (a running maximum). */
  maxMomentary: TimedValue[];
  maxShortTerm: TimedValue[];
  integratedLufs: number | null;
  /** null where the meter does not publish it. */
  loudnessRangeLu: number | null;
  maxTruePeakDbtp: number | null;
}

/** One table expectation checked against one reading. */
export interface Check {
  reading: string;
  expected: number;
  below: number;
  above: number;
  actual: number | null;
}

export function passes(check: Check): boolean {
  return (
    check.actual !== null &&
    check.actual >= check.expected - check.below - 1e-9 &&
    check.actual <= check.expected + check.above + 1e-9
  );
}

function series(updates: readonly StageUpdate[], reading: Exclude<ReadingName, 'truePeakDbtp'>): TimedValue[] {
  const out: TimedValue[] = [];
  for (const u of updates) {
    const value = u[reading];
    if (value !== null) out.push({ endSeconds: u.endSeconds, value });
  }
  return out;
}

/** What streamqc publishes, as MeterReadings: per-block updates, then the final figures. */
export function stageReadings(run: StageRun): MeterReadings {
  const end = run.updates.at(-1)?.endSeconds ?? 0;
  const withFinal = (values: TimedValue[], final: number | null): TimedValue[] =>
    final === null ? values : [...values, { endSeconds: end, value: final }];
  return {
    momentary: series(run.updates, 'momentaryLufs'),
    shortTerm: series(run.updates, 'shortTermLufs'),
    maxMomentary: withFinal(series(run.updates, 'maxMomentaryLufs'), run.final.maxMomentaryLufs),
    maxShortTerm: withFinal(series(run.updates, 'maxShortTermLufs'), run.final.maxShortTermLufs),
    integratedLufs: run.final.integratedLufs,
    loudnessRangeLu: run.final.loudnessRangeLu,
    maxTruePeakDbtp: run.final.maxTruePeakDbtp,
  };
}

/** The running maximum of a series: the "Max" display of a meter that publishes only the values. */
export function runningMax(values: readonly TimedValue[]): TimedValue[] {
  let best = -Infinity;
  return values.map(({ endSeconds, value }) => {
    best = Math.max(best, value);
    return { endSeconds, value: best };
  });
}

/** The last value shown at or before `to` seconds; null if none. */
function shownAt(values: readonly TimedValue[], to = Infinity): number | null {
  let shown: number | null = null;
  for (const { endSeconds, value } of values) if (endSeconds <= to) shown = value;
  return shown;
}

function furthest(values: readonly TimedValue[], expected: number, from: number): number | null {
  let worst: number | null = null;
  for (const { endSeconds, value } of values) {
    if (endSeconds < from - 1e-9) continue;
    if (worst === null || Math.abs(value - expected) > Math.abs(worst - expected)) worst = value;
  }
  return worst;
}

/** Lag allowed between the end of a segment and the update that reports it. */
const SEGMENT_LAG_SECONDS = 0.1;

/** Every check a case's table row makes, against one meter's readings. */
export function checksFor(c: EbuCase, r: MeterReadings): Check[] {
  const e = c.expect;
  const lu = { below: LOUDNESS_TOLERANCE_LU, above: LOUDNESS_TOLERANCE_LU };
  const checks: Check[] = [];
  if (e.momentaryLufs !== undefined) {
    const from = e.constantAfterSeconds?.momentary ?? 0.4;
    checks.push({
      reading: `M (every update from ${from} s)`,
      expected: e.momentaryLufs,
      ...lu,
      actual: furthest(r.momentary, e.momentaryLufs, from),
    });
  }
  if (e.shortTermLufs !== undefined) {
    const from = e.constantAfterSeconds?.shortTerm ?? 3;
    checks.push({
      reading: `S (every update from ${from} s)`,
      expected: e.shortTermLufs,
      ...lu,
      actual: furthest(r.shortTerm, e.shortTermLufs, from),
    });
  }
  if (e.integratedLufs !== undefined)
    checks.push({ reading: 'I', expected: e.integratedLufs, ...lu, actual: r.integratedLufs });
  if (e.loudnessRangeLu !== undefined) {
    checks.push({
      reading: 'LRA',
      expected: e.loudnessRangeLu,
      below: RANGE_TOLERANCE_LU,
      above: RANGE_TOLERANCE_LU,
      actual: r.loudnessRangeLu,
    });
  }
  if (e.maxMomentaryLufs !== undefined)
    checks.push({ reading: 'max M', expected: e.maxMomentaryLufs, ...lu, actual: shownAt(r.maxMomentary) });
  if (e.maxShortTermLufs !== undefined)
    checks.push({ reading: 'max S', expected: e.maxShortTermLufs, ...lu, actual: shownAt(r.maxShortTerm) });
  for (const [name, successive, values] of [
    ['max M', e.successiveMaxMomentary, r.maxMomentary],
    ['max S', e.successiveMaxShortTerm, r.maxShortTerm],
  ] as const) {
    if (successive === undefined) continue;
    // A "Max" display after segment k: the running maximum up to the segment's end, plus one
    // 100 ms update of lag (streamqc publishes per 1024-frame block, up to 21 ms after the grid
    // point). The next, 1 LU louder tone starts 20 ms or more into the next segment, so it cannot
    // reach this reading; an earlier segment, 1 LU quieter, cannot pass for this one.
    successive.values.forEach((expected, k) => {
      const end = (k + 1) * successive.segmentSeconds + SEGMENT_LAG_SECONDS;
      checks.push({ reading: `${name} after segment ${k + 1}`, expected, ...lu, actual: shownAt(values, end) });
    });
  }
  if (e.maxTruePeakDbtp !== undefined) {
    checks.push({
      reading: 'max TP',
      expected: e.maxTruePeakDbtp,
      ...TRUE_PEAK_TOLERANCE_DB,
      actual: r.maxTruePeakDbtp,
    });
  }
  return checks;
}
