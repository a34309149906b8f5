/**
 * Model selection without looking at the held-out source: k-fold cross-validation by origin.
 * Every clip of one origin (source) lands in the same fold, so a fold's model never saw the
 * pictures it is scored on; each candidate (model shape, seeds averaged, operating point) is
 * scored on every fold by the analyzer's own corruption detector, exactly as evaluate.ts scores
 * the held-out clips, and the pooled score picks the winner.
 */
import type * as ort from 'onnxruntime-node';
import { corruptionOptions, createCorruptionDetector } from '../../../analyzer/detectors/corruption.js';
import { FEATURE_COUNT, checkPatch, inputCount, type PatchInput } from '../../../analyzer/features/corruption-graph.js';
import type { DefectEvent } from '../../../analyzer/detectors/detector.js';
import { largestCorruptedRegion } from '../../../analyzer/features/corruption.js';
import { CORRUPTION_CELL } from '../../../analyzer/features/corruption-graph.js';
import { computeFeatures } from '../../../analyzer/features/cpu.js';
import { analysisGeometry } from '../../../analyzer/features/stage.js';
import type { VideoFeatures } from '../../../analyzer/features/types.js';
import { defaultsOf } from '../../../analyzer/options.js';
import type { BakedClip } from './baked.js';
import {
  CLEAN_CELL_DIFF,
  CORRUPTED_CELL_DIFF,
  cellMeasures,
  corruptionMaps,
  openModelSession,
  type LabelledSpec,
} from './dataset.js';
import { outcomeOf, tally, type ClipOutcome, type Span, type Tally } from './evaluate.js';
import { writePatch, type PlanePair } from './patches.js';
import { seededRandom, type Samples, type TrainOptions } from './mlp.js';
import { standardised, trainEnsemble, type TrainedModel } from './samples.js';

const FPS = 25;

/** A clip with the graph's measures of the frames the detector judges (0, stride, 2 x stride, ...). */
export interface MeasuredClip {
  clip: BakedClip<LabelledSpec>;
  indices: number[];
  /** Per judged frame, [cells][FEATURE_COUNT] row-major. */
  measures: Float32Array[];
  /** Per frame, the analyzer's own features (for the detector's black and flat-picture rule). */
  features: VideoFeatures[];
}

export async function measureClip(
  session: ort.InferenceSession,
  clip: BakedClip<LabelledSpec>,
  stride: number,
): Promise<MeasuredClip> {
  const indices: number[] = [];
  for (let i = 0; i < clip.frames.length; i += stride) indices.push(i);
  const geometry = analysisGeometry(clip.spec.width, clip.spec.height, 320, 25);
  const features = clip.frames.map((data, i) =>
    computeFeatures({ width: clip.width, height: clip.height, data }, clip.frames[i - 1] ?? null, geometry),
  );
  return { clip, indices, measures: await cellMeasures(session, clip, indices), features };
}

/** Origin labels dealt round-robin (sorted) into `k` folds. */
export function originFolds(labels: readonly string[], k: number): string[][] {
  const unique = [...new Set(labels)].sort();
  if (k < 2 || k > unique.length) throw new Error(`${k} folds need between 2 and ${unique.length} origins`);
  const folds: string[][] = Array.from({ length: k }, () => []);
  unique.forEach((label, i) => folds[i % k]?.push(label));
  return folds;
}

export interface RowOptions {
  /** Share of clean cells kept (weighted up by its inverse). */
  cleanShare: number;
  /** Share of corrupted cells kept (weighted up by its inverse): they are many, and alike within a clip. */
  corruptedShare: number;
  seed: number;
}

/** One drawn training cell: frame `judged` (an index into clip.indices) of a clip, its label and loss weight. */
export interface CellPick {
  clip: MeasuredClip;
  judged: number;
  cell: number;
  corrupted: boolean;
  weight: number;
}

/**
 * The cells training rows are made of: every corrupted cell and clean one drawn at its share
 * (seeded), faint ones left out. The draw does not depend on what a row will hold, so models
 * with different inputs train on the same cells.
 */
export function pickCells(clips: readonly MeasuredClip[], options: RowOptions): CellPick[] {
  const random = seededRandom(options.seed);
  const picks: CellPick[] = [];
  for (const clip of clips) {
    clip.indices.forEach((f, judged) => {
      const damage = clip.clip.damage[f] ?? new Float32Array(0);
      for (let c = 0; c < damage.length; c++) {
        const d = damage[c] ?? 0;
        const corrupted = d >= CORRUPTED_CELL_DIFF;
        if (!corrupted && d > CLEAN_CELL_DIFF) continue;
        const share = corrupted ? options.corruptedShare : options.cleanShare;
        if (random() >= share) continue;
        picks.push({ clip, judged, cell: c, corrupted, weight: 1 / share });
      }
    });
  }
  return picks;
}

/**
 * Training rows from measured clips (pickCells' cells). A row is the cell's measures, after its
 * window's pixels when `patch` is given.
 */
export function rowsOf(clips: readonly MeasuredClip[], options: RowOptions, patch?: PatchInput): Samples {
  if (patch) checkPatch(patch);
  const picks = pickCells(clips, options);
  const features = inputCount(patch);
  const pixels = features - FEATURE_COUNT;
  const x = new Float32Array(picks.length * features);
  picks.forEach(({ clip, judged, cell }, r) => {
    const measures = clip.measures[judged] ?? new Float32Array(0);
    x.set(measures.subarray(cell * FEATURE_COUNT, (cell + 1) * FEATURE_COUNT), r * features + pixels);
    if (patch) writePatch(planesOf(clip.clip, clip.indices[judged] ?? 0), cell, patch, x, r * features);
  });
  return {
    features,
    x,
    y: Uint8Array.from(picks, (p) => (p.corrupted ? 1 : 0)),
    weight: Float32Array.from(picks, (p) => p.weight),
  };
}

/** Frame `f` of a clip and the one before it (itself for the first), as the analyzer pairs them. */
export function planesOf(clip: BakedClip, f: number): PlanePair {
  const frame = clip.frames[f] ?? new Uint8Array(clip.width * clip.height);
  return { width: clip.width, height: clip.height, frame, previous: clip.frames[f - 1] ?? frame };
}

/**
 * The ensemble's probability per cell, as the graph computes it (window pixels when the model
 * has a patch, measures, standardise, average the logits, sigmoid): the graph's reference.
 */
export function probabilityMaps(model: TrainedModel, clip: MeasuredClip): Float32Array[] {
  const { patch } = model.weights;
  const features = inputCount(patch);
  const pixels = features - FEATURE_COUNT;
  return clip.measures.map((m, judged) => {
    const cells = m.length / FEATURE_COUNT;
    const x = new Float32Array(cells * features);
    const planes = planesOf(clip.clip, clip.indices[judged] ?? 0);
    for (let c = 0; c < cells; c++) {
      x.set(m.subarray(c * FEATURE_COUNT, (c + 1) * FEATURE_COUNT), c * features + pixels);
      if (patch) writePatch(planes, c, patch, x, c * features);
    }
    return ensembleProbabilities(model, x, features);
  });
}

/** Per row of `x` (raw inputs, `features` each): the ensemble's probability (standardise, average the logits, sigmoid). */
export function ensembleProbabilities(model: TrainedModel, x: Float32Array, features: number): Float32Array {
  const data = standardised(
    { features, x, y: new Uint8Array(0), weight: new Float32Array(0) },
    model.weights.featureMean,
    model.weights.featureStd,
  );
  const sum = new Float64Array(x.length / features);
  for (const mlp of model.mlps) {
    const logits = mlp.logits(data.x, features);
    for (let c = 0; c < sum.length; c++) sum[c] = (sum[c] ?? 0) + (logits[c] ?? 0);
  }
  return Float32Array.from(sum, (s) => 1 / (1 + Math.exp(-s / model.mlps.length)));
}

/** How the detector reads the maps: cell probability, region area and run length. */
export interface OperatingPoint {
  probability: number;
  minArea: number;
  minDuration: number;
}

/** The analyzer's corruption detector (defaults but for the operating point) over one clip's maps. */
export function detectorEvents(clip: MeasuredClip, maps: readonly Float32Array[], point: OperatingPoint): Span[] {
  const options = { ...defaultsOf(corruptionOptions), minArea: point.minArea, minDuration: point.minDuration };
  const events: DefectEvent[] = [];
  const detector = createCorruptionDetector(options, { started: () => undefined, ended: (e) => events.push(e) });
  const cols = Math.floor(clip.clip.width / CORRUPTION_CELL);
  const areas = new Map(
    clip.indices.map((f, k) => [f, largestCorruptedRegion(maps[k] ?? new Float32Array(0), cols, point.probability)]),
  );
  clip.features.forEach((features, i) => {
    detector.onVideo?.({ t: i / FPS, duration: 1 / FPS, features, corruption: areas.get(i) ?? Number.NaN });
  });
  detector.flush(clip.features.length / FPS);
  return events.map((e) => ({ start: e.start, end: e.end ?? e.start }));
}

export interface Candidate {
  name: string;
  train: TrainOptions;
  /** MLPs from consecutive seeds, logits averaged. */
  members: number;
  /** Pixels around each cell beside the measures (a small CNN); none: the measures alone. */
  patch?: PatchInput;
}

export interface Score {
  tally: Tally;
  /** Negative (no-damage) clips that raised any event, and all negative clips. */
  negativesFired: number;
  negatives: number;
}

export function scoreOf(outcomes: readonly ClipOutcome[]): Score {
  const negatives = outcomes.filter((o) => o.spec.kind !== 'baked');
  return {
    tally: tally(outcomes, 'model'),
    negativesFired: negatives.filter((o) => o.model.length > 0).length,
    negatives: negatives.length,
  };
}

export const eventPrecision = (t: Tally): number => (t.events === 0 ? 1 : t.right / t.events);
export const eventRecall = (t: Tally): number => (t.truths === 0 ? 1 : t.found / t.truths);
export function f1Of(t: Tally): number {
  const [p, r] = [eventPrecision(t), eventRecall(t)];
  return p + r === 0 ? 0 : (2 * p * r) / (p + r);
}

export function addTallies(a: Tally, b: Tally): Tally {
  return {
    events: a.events + b.events,
    right: a.right + b.right,
    truths: a.truths + b.truths,
    found: a.found + b.found,
  };
}

/** Per fold and operating point, the outcomes of one candidate trained on the other folds. */
export interface FoldResult {
  origins: string[];
  /** One entry per operating point, in the order given. */
  scores: Score[];
}

/**
 * Per candidate (same order), its fold results. Candidates that share training options and
 * inputs differ only in how many seeds they average, so each fold trains their largest ensemble
 * once and scores its first `members` MLPs for each: the one-seed candidate is the ensemble's
 * first member, exactly as it would be trained alone. Scores come from the model's own graph on
 * onnxruntime, as the analyzer would run it.
 */
export async function crossValidate(
  clips: readonly MeasuredClip[],
  folds: readonly string[][],
  candidates: readonly Candidate[],
  points: readonly OperatingPoint[],
  rows: RowOptions,
  log: (line: string) => void,
): Promise<FoldResult[][]> {
  const groupOf = (c: Candidate): string => JSON.stringify({ train: c.train, patch: c.patch ?? null });
  const groups = [...new Set(candidates.map(groupOf))];
  const perFold: FoldResult[][] = [];
  for (const [k, origins] of folds.entries()) {
    const inFold = (c: MeasuredClip): boolean => origins.includes(c.clip.spec.origin.label);
    const training = clips.filter((c) => !inFold(c));
    const results = new Map<Candidate, FoldResult>();
    for (const group of groups) {
      const members = candidates.filter((c) => groupOf(c) === group);
      const { train, patch } = members[0]!;
      const most = Math.max(...members.map((c) => c.members));
      const t0 = Date.now();
      const model = trainEnsemble(rowsOf(training, rows, patch), train, most, patch);
      log(
        `  fold ${k + 1} (${origins.join(', ')}): ${most} like '${members[0]!.name}' trained in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
      );
      for (const candidate of members) {
        const weights = { ...model.weights, members: model.weights.members.slice(0, candidate.members) };
        const session = await openModelSession(weights);
        const scored: { clip: MeasuredClip; maps: Float32Array[] }[] = [];
        for (const c of clips.filter(inFold))
          scored.push({ clip: c, maps: await corruptionMaps(session, c.clip, c.indices) });
        await session.release();
        const scores = points.map((point) =>
          scoreOf(scored.map((s) => outcomeOf(s.clip.clip, detectorEvents(s.clip, s.maps, point)))),
        );
        results.set(candidate, { origins, scores });
      }
    }
    perFold.push(candidates.map((c) => results.get(c) ?? { origins, scores: [] }));
  }
  return candidates.map((_, c) => perFold.map((fold) => fold[c] ?? { origins: [], scores: [] }));
}

/** Pools a candidate's folds at one operating point. */
export function pooled(results: readonly FoldResult[], point: number): Score {
  const empty: Score = { tally: { events: 0, right: 0, truths: 0, found: 0 }, negativesFired: 0, negatives: 0 };
  return results.reduce((acc, r) => {
    const s = r.scores[point] ?? empty;
    return {
      tally: addTallies(acc.tally, s.tally),
      negativesFired: acc.negativesFired + s.negativesFired,
      negatives: acc.negatives + s.negatives,
    };
  }, empty);
}

/**
 * The selection rule: the best pooled event F1 (false events on negatives lower precision),
 * ties to fewer negative clips firing. Returns the index into `scores`.
 */
export function bestIndex(scores: readonly Score[]): number {
  let best = 0;
  scores.forEach((s, i) => {
    const b = scores[best];
    if (!b) return;
    const [fs, fb] = [f1Of(s.tally), f1Of(b.tally)];
    if (fs > fb + 1e-9 || (Math.abs(fs - fb) <= 1e-9 && s.negativesFired < b.negativesFired)) best = i;
  });
  return best;
}

export function scoreLine(s: Score): string {
  const t = s.tally;
  return `P ${eventPrecision(t).toFixed(2)} R ${eventRecall(t).toFixed(2)} (${t.found}/${t.truths}) F1 ${f1Of(t).toFixed(3)}, false events ${t.events - t.right}, negative clips firing ${s.negativesFired}/${s.negatives}`;
}
