/**
 * `npm run train:corruption`: makes the baked-corruption data from the tuned real sources and
 * two synthetic ones (never the held-out source), trains the corruption model, checks it on
 * origins kept out of training, and writes the model next to the code that loads it:
 * analyzer/features/corruption-model.json (weights, read at run time), corruption-model.onnx
 * (the same graph as a file, for other tools) and corruption-model.md (the model card).
 * Deterministic: fixed seeds, one thread; clips are cached under ~/.cache/streamqc.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CORRUPTION_CELL,
  FEATURE_COUNT,
  buildCorruptionGraph,
  type CorruptionWeights,
} from '../../../analyzer/features/corruption-graph.js';
import { corruptionOptions } from '../../../analyzer/detectors/corruption.js';
import { CORRUPTED_CELL_PROBABILITY, largestCorruptedRegion } from '../../../analyzer/features/corruption.js';
import { fetchRealFootage, tunedSources } from '../../bench/accuracy/real-footage.js';
import type { BakedClip } from './baked.js';
import { baselineScores } from './baseline.js';
import {
  SYNTHETIC_ORIGINS,
  cachedBakedClip,
  clipSpecs,
  openMeasureSession,
  openModelSession,
  realOrigins,
  type LabelledSpec,
} from './dataset.js';
import type { TrainOptions } from './mlp.js';
import { precision, recall, samplesOf, trainModel, type Confusion } from './samples.js';
import { cellConfusion, frameConfusion, modelScores, type ClipScores } from './scoring.js';

export const TRAIN_SEED = 13;
export const TRAIN_OPTIONS: TrainOptions = {
  hidden: [32, 16],
  epochs: 12,
  batchSize: 256,
  learningRate: 3e-3,
  seed: TRAIN_SEED,
};
/** Origins kept out of training to validate on (tuned sources all the same: the held-out one is for evaluation only). */
export const VALIDATION_ORIGINS = ['vtest-pedestrians', 'cc-wanna-work-together'];
export const CELL_THRESHOLD = CORRUPTED_CELL_PROBABILITY;
/** Frames analysed for the model: every third, as the analyzer's default stride. */
const STRIDE = 3;
const SECONDS = 4;

const MODEL_DIR = fileURLToPath(new URL('../../../../analyzer/features/', import.meta.url));

async function makeClips(specs: readonly LabelledSpec[]): Promise<BakedClip<LabelledSpec>[]> {
  const clips: BakedClip<LabelledSpec>[] = [];
  for (const [i, spec] of specs.entries()) {
    clips.push(await cachedBakedClip(spec));
    if ((i + 1) % 10 === 0) console.log(`  ${i + 1}/${specs.length} clips`);
  }
  return clips;
}

const pr = (c: Confusion): string => `P ${precision(c).toFixed(3)} R ${recall(c).toFixed(3)}`;

/** The best-F1 threshold of a score over cells (for the hand-built baseline, on training clips). */
function bestThreshold(scores: readonly ClipScores[], candidates: readonly number[]): number {
  let best = candidates[0] ?? 0;
  let bestF1 = -1;
  for (const t of candidates) {
    const c = cellConfusion(scores, t);
    const f1 = (2 * c.tp) / (2 * c.tp + c.fp + c.fn);
    if (f1 > bestF1) [best, bestF1] = [t, f1];
  }
  return best;
}

interface Report {
  lines: string[];
  seconds: number;
}

async function main(): Promise<Report> {
  const started = Date.now();
  const files = await fetchRealFootage(undefined, tunedSources());
  const origins = [...realOrigins(files, SECONDS), ...SYNTHETIC_ORIGINS];
  const specs = clipSpecs(origins, TRAIN_SEED, 3, SECONDS);
  console.log(`making ${specs.length} clips from ${origins.length} origins`);
  const clips = await makeClips(specs);
  const isValidation = (c: BakedClip<LabelledSpec>): boolean => VALIDATION_ORIGINS.includes(c.spec.origin.label);
  const train = clips.filter((c) => !isValidation(c));
  const validation = clips.filter(isValidation);

  const measureSession = await openMeasureSession();
  const samples = await samplesOf(measureSession, train, { stride: STRIDE, cleanShare: 0.1, seed: TRAIN_SEED });
  const positives = samples.y.reduce((a, b) => a + b, 0);
  console.log(`training rows: ${samples.y.length} (${positives} corrupted cells), ${FEATURE_COUNT} measures`);
  const t0 = Date.now();
  const model = trainModel(samples, TRAIN_OPTIONS);
  const trainSeconds = (Date.now() - t0) / 1000;
  console.log(
    `trained in ${trainSeconds.toFixed(1)} s; loss per epoch ${model.losses.map((l) => l.toFixed(4)).join(' ')}`,
  );

  const session = await openModelSession(model.weights);
  const scored = async (set: readonly BakedClip<LabelledSpec>[]): Promise<ClipScores[]> =>
    Promise.all(set.map((c) => modelScores(session, c, STRIDE)));
  const [trainScores, validationScores] = [await scored(train), await scored(validation)];
  const baseline = async (set: readonly BakedClip<LabelledSpec>[]): Promise<ClipScores[]> => {
    const out: ClipScores[] = [];
    for (const c of set) out.push(await baselineScores(measureSession, c, STRIDE));
    return out;
  };
  const [baselineTrain, baselineValidation] = [await baseline(train), await baseline(validation)];
  const baselineThreshold = bestThreshold(baselineTrain, [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2]);

  const lines: string[] = [];
  const row = (name: string, set: readonly ClipScores[], threshold: number): void => {
    lines.push(`| ${name} | ${pr(cellConfusion(set, threshold))} | ${pr(frameConfusion(set, threshold, 0.01))} |`);
  };
  lines.push('| signal, clips | cells | frames (area >= 1%) |', '|---|---|---|');
  row('model, training origins', trainScores, CELL_THRESHOLD);
  row('model, validation origins', validationScores, CELL_THRESHOLD);
  // As the meter reads a frame (its largest connected corrupted region), at the detector's default minArea.
  const regionRow = (name: string, set: readonly ClipScores[]): void => {
    const c = frameConfusion(set, CELL_THRESHOLD, corruptionOptions.minArea.default, (map) =>
      largestCorruptedRegion(map, set[0]?.clip.width ? Math.floor(set[0].clip.width / CORRUPTION_CELL) : 0),
    );
    lines.push(`| ${name} | | ${pr(c)} (largest region >= minArea ${corruptionOptions.minArea.default}) |`);
  };
  regionRow('model, training origins, largest region', trainScores);
  regionRow('model, validation origins, largest region', validationScores);
  row(`hand-built straight-step (> ${baselineThreshold}), training origins`, baselineTrain, baselineThreshold);
  row(`hand-built straight-step (> ${baselineThreshold}), validation origins`, baselineValidation, baselineThreshold);
  // The largest corrupted area the model reports on each kind of clean clip: what the detector's area floor must clear.
  for (const kind of ['clean', 'generation-loss', 'starved'] as const) {
    const areas = [...trainScores, ...validationScores]
      .filter((s) => s.clip.spec.kind === kind)
      .flatMap((s) => s.maps.map((m) => m.filter((p) => p >= CELL_THRESHOLD).length / m.length));
    const sorted = areas.sort((a, b) => a - b);
    lines.push(
      `| model on ${kind} (${sorted.length} frames): largest area ${(sorted.at(-1) ?? 0).toFixed(4)}, 99th percentile ${(sorted[Math.floor(sorted.length * 0.99)] ?? 0).toFixed(4)} | | |`,
    );
  }
  for (const l of lines) console.log(l);
  writeModel(model.weights, {
    clips: specs,
    rows: samples.y.length,
    positives,
    trainSeconds,
    losses: model.losses,
    table: lines,
  });
  await measureSession.release();
  await session.release();
  return { lines, seconds: (Date.now() - started) / 1000 };
}

interface CardFacts {
  clips: readonly LabelledSpec[];
  rows: number;
  positives: number;
  trainSeconds: number;
  losses: readonly number[];
  table: readonly string[];
}

function writeModel(weights: CorruptionWeights, facts: CardFacts): void {
  const json = JSON.stringify({ cell: CORRUPTION_CELL, seed: TRAIN_SEED, ...weights });
  writeFileSync(join(MODEL_DIR, 'corruption-model.json'), `${json}\n`);
  writeFileSync(join(MODEL_DIR, 'corruption-model.onnx'), buildCorruptionGraph(weights));
  const count = (kind: string): number => facts.clips.filter((c) => c.kind === kind).length;
  const parameters = weights.layers.reduce((a, l) => a + l.weights.length + l.biases.length, 0);
  const card = [
    '# corruption model card',
    '',
    'Per-cell probability that a picture is corrupted in a way no decoder reports: damaged packets',
    'concealed by a decoder upstream and re-encoded cleanly (issue 13). Built by `npm run train:corruption`',
    '(test/training/corruption/train.ts); loaded by analyzer/features/corruption.ts from corruption-model.json;',
    'corruption-model.onnx is the same graph (analyzer/features/corruption-graph.ts) written as a file.',
    '',
    '## Model',
    `- Input: uint8 luma planes at analysis size and each one's previous frame, [batch, 1, height, width], any size.`,
    `- Cells of ${CORRUPTION_CELL}x${CORRUPTION_CELL} analysis pixels; ${FEATURE_COUNT} hand-made measures per cell (graph builder),`,
    `  standardised, then an MLP ${FEATURE_COUNT}-${TRAIN_OPTIONS.hidden.join('-')}-1 (ReLU, sigmoid) as 1x1 convolutions: ${parameters} parameters.`,
    `- Output: float32 [batch, 1, rows, cols] probabilities; the meter reads a frame as its largest connected region of cells >= ${CORRUPTED_CELL_PROBABILITY}.`,
    '',
    '## Data',
    `- Origins: the tuned real sources of test/bench/accuracy/real-footage.ts with a picture (never the held-out`,
    '  `diver-underwater`) and lavfi testsrc2 and mandelbrot; 4 s stretches at 640x360, 25 fps; analysis plane 320x180',
    '  (nearest-neighbour, as the analyzer decimates).',
    `- ${facts.clips.length} clips: ${count('baked')} baked (feed H.264/HEVC/MPEG-2 at 1.5 Mbit/s, GOP 2 s, ffmpeg noise bsf`,
    '  amount 30000/100000/300000, concealed decode, re-encoded by x264/x265/mpeg2video at 400k/1000k/2500k),',
    `  ${count('clean')} clean re-encodes, ${count('generation-loss')} generation-loss chains (4 re-encodes at 700k), ${count('starved')} starved encodes`,
    `  (x264 60k, mpeg2video 150k, x265 40k), ${count('blurred')} blurred pictures (gblur sigma 2/4/8, one re-encode).`,
    '- Labels: a cell is corrupted when the concealed decode differs from the clean decode of the same frame by a',
    '  mean |difference| >= 12 levels, clean at <= 3; cells in between are not used. Every third frame; 10% of clean',
    '  cells kept (weighted x10).',
    `- Training rows: ${facts.rows} (${facts.positives} corrupted). Validation: the clips of ${VALIDATION_ORIGINS.join(', ')} (not trained on).`,
    '',
    '## Training',
    `- Seed ${TRAIN_SEED}; Adam, learning rate ${TRAIN_OPTIONS.learningRate}, batch ${TRAIN_OPTIONS.batchSize}, ${TRAIN_OPTIONS.epochs} epochs; weighted binary cross-entropy.`,
    `- Training time: ${facts.trainSeconds.toFixed(1)} s on one CPU thread; loss per epoch: ${facts.losses.map((l) => l.toFixed(4)).join(', ')}.`,
    '',
    '## Validation scores',
    ...facts.table,
    '',
    'Held-out scores (diver-underwater): corruption-model-evaluation.md, written by test/training/corruption/evaluate.ts.',
    '',
  ];
  writeFileSync(join(MODEL_DIR, 'corruption-model.md'), card.join('\n'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    (r) => console.log(`done in ${r.seconds.toFixed(0)} s`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
