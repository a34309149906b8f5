/**
 * The corruption model's training pipeline on a tiny data set: real ffmpeg makes one short
 * baked-corruption clip and one clean one, the measures graph describes their cells, and the
 * seeded trainer learns from them. The same seed must give the same weights, bit for bit; the
 * backpropagated gradient must match finite differences; the shipped graph must compute what
 * training scored (an ensemble's averaged logits, and a patch model's strided convolution over
 * contrast-normalised windows); cross-validation folds must keep an origin whole. The experiment
 * harness (experiment.ts) must score a variant as train.ts would: without extra inputs, rowsOf's
 * rows and the graph's reference maps; extras after the measures, on the same cells; and its
 * extra measures must measure what they claim on pictures built to show it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  FEATURE_COUNT,
  buildCorruptionGraph,
  type CorruptionWeights,
  type PatchInput,
} from '../../analyzer/features/corruption-graph.js';
import { makeBakedClip, type BakedClipSpec } from '../training/corruption/baked.js';
import {
  measureClip,
  originFolds,
  probabilityMaps,
  rowsOf,
  type MeasuredClip,
} from '../training/corruption/crossval.js';
import { EXTRAS, cellLagSteps, cellSteps, mapsFor, rowsFor, type Variant } from '../training/corruption/experiment.js';
import { writePatch } from '../training/corruption/patches.js';
import {
  corruptionMaps,
  openMeasureSession,
  openModelSession,
  type LabelledSpec,
} from '../training/corruption/dataset.js';
import { Mlp, seededRandom, type Samples } from '../training/corruption/mlp.js';
import { trainEnsemble, trainModel } from '../training/corruption/samples.js';

const tiny = (damage: BakedClipSpec['damage']): LabelledSpec => ({
  kind: damage ? 'baked' : 'clean',
  origin: { kind: 'lavfi', graph: 'testsrc2=s=320x180:r=25', label: 'testsrc2' },
  damage,
  chain: [{ codec: 'h264', bitrate: '600k' }],
  width: 320,
  height: 180,
  seconds: 1.2,
});

const clips = (async () => {
  const made = [await makeBakedClip(tiny({ codec: 'h264', amount: 3000 })), await makeBakedClip(tiny(null))];
  const session = await openMeasureSession();
  const measured = [await measureClip(session, made[0]!, 4), await measureClip(session, made[1]!, 4)];
  await session.release();
  return measured;
})();

test('training is reproducible: the same seed on the same tiny data set gives the same weights, another seed others', async () => {
  const measured = await clips;
  assert.ok(
    measured[0]!.clip.damage.some((cells) => cells.some((d) => d >= 12)),
    'the damaged clip has corrupted cells',
  );
  const samples = rowsOf(measured, { cleanShare: 0.2, corruptedShare: 1, seed: 1 });
  assert.ok(samples.y.includes(1) && samples.y.includes(0), 'both labels present');
  const options = { hidden: [8], epochs: 2, batchSize: 64, learningRate: 3e-3 };
  const first = trainModel(samples, { ...options, seed: 7 }).weights;
  const again = trainModel(samples, { ...options, seed: 7 }).weights;
  const other = trainModel(samples, { ...options, seed: 8 }).weights;
  assert.deepEqual(again, first);
  assert.notDeepEqual(other.members, first.members);
});

const PATCH: PatchInput = { kernel: 16, contrastFloor: 4 };

test('a patch model (CNN) trains reproducibly: the same seed gives the same weights, another seed others', async () => {
  const measured = await clips;
  const samples = rowsOf(measured, { cleanShare: 0.2, corruptedShare: 1, seed: 1 }, PATCH);
  assert.equal(samples.features, 2 * 16 * 16 + FEATURE_COUNT);
  const options = { hidden: [8], epochs: 2, batchSize: 64, learningRate: 3e-3 };
  const first = trainModel(samples, { ...options, seed: 7 }, PATCH).weights;
  const again = trainModel(samples, { ...options, seed: 7 }, PATCH).weights;
  const other = trainModel(samples, { ...options, seed: 8 }, PATCH).weights;
  assert.deepEqual(first.patch, PATCH);
  assert.deepEqual(again, first);
  assert.notDeepEqual(other.members, first.members);
});

test('a patch row holds the same cells as a measures row, its window first: contrast-normalised luma, then change', async () => {
  const measured = await clips;
  const options = { cleanShare: 0.2, corruptedShare: 1, seed: 1 };
  const plain = rowsOf(measured, options);
  const patched = rowsOf(measured, options, PATCH);
  assert.deepEqual(patched.y, plain.y);
  assert.deepEqual(patched.weight, plain.weight);
  const pixels = 2 * 16 * 16;
  for (let r = 0; r < plain.y.length; r += 97) {
    const row = patched.x.subarray(r * patched.features, (r + 1) * patched.features);
    assert.deepEqual(row.subarray(pixels), plain.x.subarray(r * FEATURE_COUNT, (r + 1) * FEATURE_COUNT));
    // The luma half has its mean taken off; its spread is at most 1 (the floor only shrinks it).
    const luma = Array.from(row.subarray(0, 256));
    const mean = luma.reduce((a, b) => a + b, 0) / 256;
    const spread = Math.sqrt(luma.reduce((a, b) => a + (b - mean) ** 2, 0) / 256);
    assert.ok(Math.abs(mean) < 1e-4 && spread <= 1 + 1e-4, `row ${r}: mean ${mean}, spread ${spread}`);
  }
  // A cell of a flat grey picture that turned brighter by 10: flat luma, change 10 / floor 4 everywhere.
  const width = 24;
  const height = 16;
  const out = new Float32Array(512);
  const planes = {
    width,
    height,
    frame: new Uint8Array(width * height).fill(90),
    previous: new Uint8Array(width * height).fill(80),
  };
  writePatch(planes, 4, PATCH, out, 0);
  assert.deepEqual(Array.from(out.subarray(0, 256)), new Array<number>(256).fill(0));
  assert.deepEqual(Array.from(out.subarray(256)), new Array<number>(256).fill(2.5));
});

test('rows keep the given share of clean and corrupted cells, weighted by its inverse', async () => {
  const measured = await clips;
  const all = rowsOf(measured, { cleanShare: 1, corruptedShare: 1, seed: 1 });
  const some = rowsOf(measured, { cleanShare: 0.25, corruptedShare: 0.5, seed: 1 });
  const count = (s: Samples, label: number): number => s.y.filter((y) => y === label).length;
  assert.ok(Math.abs(count(some, 0) / count(all, 0) - 0.25) < 0.03, `${count(some, 0)} of ${count(all, 0)} clean`);
  assert.ok(Math.abs(count(some, 1) / count(all, 1) - 0.5) < 0.05, `${count(some, 1)} of ${count(all, 1)} corrupted`);
  some.y.forEach((y, r) => assert.equal(some.weight[r], y === 1 ? 2 : 4));
});

test('backpropagation: the MLP gradient of the weighted loss matches central finite differences', () => {
  const random = seededRandom(3);
  const features = 5;
  const n = 12;
  const data: Samples = {
    features,
    x: Float32Array.from({ length: n * features }, () => random() * 4 - 2),
    y: Uint8Array.from({ length: n }, (_, i) => i % 2),
    weight: Float32Array.from({ length: n }, () => 0.5 + random()),
  };
  const mlp = Mlp.create(features, [6, 4], random);
  const rows = Array.from({ length: n }, (_, i) => i);
  const { gradients } = mlp.gradients(data, rows);
  const h = 1e-6;
  let checked = 0;
  mlp.parameters().forEach((p, k) => {
    for (let i = 0; i < p.length; i++) {
      const keep = p[i]!;
      p[i] = keep + h;
      const up = mlp.gradients(data, rows).loss;
      p[i] = keep - h;
      const down = mlp.gradients(data, rows).loss;
      p[i] = keep;
      const numeric = (up - down) / (2 * h);
      const analytic = gradients[k]![i]!;
      assert.ok(
        Math.abs(numeric - analytic) <= 1e-5 * Math.max(1, Math.abs(numeric)),
        `parameter ${k}/${i}: backprop ${analytic}, finite difference ${numeric}`,
      );
      checked++;
    }
  });
  assert.equal(checked, 5 * 6 + 6 + 6 * 4 + 4 + 4 + 1);
});

test('the graph of an ensemble gives the probabilities training scored: logits of its members averaged', async () => {
  const measured = await clips;
  const samples = rowsOf(measured, { cleanShare: 0.2, corruptedShare: 1, seed: 1 });
  const model = trainEnsemble(samples, { hidden: [8], epochs: 1, batchSize: 64, learningRate: 3e-3, seed: 5 }, 2);
  assert.equal(model.weights.members.length, 2);
  const clip = measured[0]!;
  const expected = probabilityMaps(model, clip);
  const session = await openModelSession(model.weights);
  const graph = await corruptionMaps(session, clip.clip, clip.indices);
  await session.release();
  assert.equal(graph.length, expected.length);
  graph.forEach((map, k) =>
    map.forEach((p, c) => assert.ok(Math.abs(p - expected[k]![c]!) < 1e-4, `frame ${k} cell ${c}`)),
  );
  // A single member alone would not give these probabilities.
  const alone = probabilityMaps({ ...model, mlps: model.mlps.slice(0, 1) }, clip);
  assert.ok(alone.some((map, k) => map.some((p, c) => Math.abs(p - expected[k]![c]!) > 1e-3)));
});

test('the graph of a patch model (strided convolution over windows, then 1x1) gives the probabilities training scored', async () => {
  const measured = await clips;
  const samples = rowsOf(measured, { cleanShare: 0.2, corruptedShare: 1, seed: 1 }, PATCH);
  const model = trainEnsemble(
    samples,
    { hidden: [8, 4], epochs: 1, batchSize: 64, learningRate: 3e-3, seed: 5 },
    2,
    PATCH,
  );
  // float32 in the graph (a window's variance is E[v^2] - E[v]^2) against float64 here.
  let largest = 0;
  for (const clip of measured) {
    const expected = probabilityMaps(model, clip);
    const session = await openModelSession(model.weights);
    const graph = await corruptionMaps(session, clip.clip, clip.indices);
    await session.release();
    assert.equal(graph.length, expected.length);
    graph.forEach((map, k) => {
      assert.equal(map.length, expected[k]!.length);
      map.forEach((p, c) => (largest = Math.max(largest, Math.abs(p - expected[k]![c]!))));
    });
  }
  assert.ok(largest < 1e-4, `largest difference ${largest}`);
});

test('a patch model whose inputs do not match its patch, or whose kernel cannot centre on a cell, is refused by name', async () => {
  const measured = await clips;
  const samples = rowsOf(measured, { cleanShare: 0.05, corruptedShare: 0.2, seed: 1 });
  const { weights } = trainModel(samples, { hidden: [4], epochs: 1, batchSize: 64, learningRate: 3e-3, seed: 5 });
  assert.throws(() => buildCorruptionGraph({ ...weights, patch: PATCH }), /first layers take 21 inputs, 533 expected/);
  const odd = { kernel: 15, contrastFloor: 4 };
  assert.throws(
    () => rowsOf(measured, { cleanShare: 0.05, corruptedShare: 0.2, seed: 1 }, odd),
    /patch kernel 15 must be an even integer >= 8/,
  );
  const inputs = 2 * 15 * 15 + FEATURE_COUNT;
  const zeros = new Array<number>(inputs).fill(0);
  const layer = { inputs, outputs: 1, weights: zeros, biases: [0] };
  const oddWeights = { featureMean: zeros, featureStd: zeros.map(() => 1), patch: odd, members: [[layer]] };
  assert.throws(() => buildCorruptionGraph(oddWeights), /patch kernel 15 must be an even integer >= 8/);
});

test('cross-validation folds keep every origin whole, in exactly one fold, and refuse impossible fold counts', () => {
  const labels = ['b', 'a', 'c', 'a', 'd', 'e', 'b'];
  const folds = originFolds(labels, 2);
  assert.deepEqual(folds, [
    ['a', 'c', 'e'],
    ['b', 'd'],
  ]);
  assert.throws(() => originFolds(labels, 6), /6 folds need between 2 and 5 origins/);
  assert.throws(() => originFolds(labels, 1), /1 folds need between 2 and 5 origins/);
});

test('the shipped corruption-model.onnx is the graph built from the shipped weights (corruption-model.json)', () => {
  const dir = fileURLToPath(new URL('../../../analyzer/features/', import.meta.url));
  const weights = JSON.parse(readFileSync(`${dir}corruption-model.json`, 'utf8')) as CorruptionWeights;
  assert.ok(Buffer.from(buildCorruptionGraph(weights)).equals(readFileSync(`${dir}corruption-model.onnx`)));
});

const EXPERIMENT_ROWS = { cleanShare: 0.2, corruptedShare: 1, seed: 1 };
const TRAIN = { hidden: [8], epochs: 1, batchSize: 64, learningRate: 3e-3, seed: 5 };
const plain: Variant = { name: 'measures only', extras: [], train: TRAIN, smooth: 'now', rows: EXPERIMENT_ROWS };

test('a variant without extra inputs trains on rowsOf rows and scores the maps training scores', async () => {
  const measured = await clips;
  const expected = rowsOf(measured, EXPERIMENT_ROWS);
  const rows = rowsFor(plain, measured);
  assert.equal(rows.features, FEATURE_COUNT);
  assert.deepEqual(rows.y, expected.y);
  assert.deepEqual(rows.weight, expected.weight);
  assert.deepEqual(rows.x, expected.x);
  assert.ok(rows.y.some((y) => y === 1) && rows.y.some((y) => y === 0));
  const model = trainEnsemble(rows, TRAIN, 2);
  for (const clip of measured) assert.deepEqual(mapsFor(plain, model, clip), probabilityMaps(model, clip));
});

test('extra inputs follow the measures on the same cells; positives below positiveDiff and kind weights change only the rows they name', async () => {
  const measured = await clips;
  const base = rowsFor(plain, measured);
  const smear = rowsFor({ ...plain, extras: ['smear'] }, measured);
  const width = smear.features;
  assert.equal(width, FEATURE_COUNT + 6);
  assert.deepEqual(smear.y, base.y);
  for (let r = 0; r < base.y.length; r++) {
    assert.deepEqual(
      smear.x.subarray(r * width, r * width + FEATURE_COUNT),
      base.x.subarray(r * FEATURE_COUNT, (r + 1) * FEATURE_COUNT),
    );
  }
  const strict = rowsFor({ ...plain, positiveDiff: 1e9 }, measured);
  assert.equal(strict.y.length, base.y.filter((y) => y === 0).length);
  const weighted = rowsFor({ ...plain, kindWeight: { clean: 3 } }, measured);
  const cleanRows = base.weight.filter((_, r) => base.y[r] === 0).length;
  assert.ok(cleanRows > 0);
  const changed = base.weight.filter((w, r) => weighted.weight[r] !== w).length;
  // The clean clip's rows (all clean) triple; the baked clip's clean rows do not.
  assert.ok(changed > 0 && changed < cleanRows, `${changed} of ${cleanRows} clean rows reweighted`);
});

test('smear: a cell whose rows repeat the one above has horizontal detail and no vertical step; a noisy cell has both', () => {
  const width = 16;
  const height = 8;
  const frame = new Uint8Array(width * height);
  let seed = 7;
  const noise = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) frame[y * width + x] = x < 8 ? (x % 2) * 200 : noise();
  }
  const { gx, gy } = cellSteps(frame, width, height);
  assert.ok(gx[0]! > 4, `smeared cell horizontal ${gx[0]}`);
  assert.equal(gy[0], 0);
  assert.ok(gx[1]! > 3 && gy[1]! > 3, `noisy cell ${gx[1]} ${gy[1]}`);
});

test('lag steps: rows repeated down a cell differ across at 8 and 16 pixels and not at all down', () => {
  const width = 48;
  const height = 32;
  const cols = width / 8;
  const frame = new Uint8Array(width * height);
  let seed = 3;
  const noise = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255;
  const top = Array.from({ length: width }, noise);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) frame[y * width + x] = x < 32 ? top[x]! : noise();
  }
  const smeared = 2 * cols + 2;
  const noisy = 2 * cols + 5;
  for (const lag of [8, 16]) {
    const { across, down } = cellLagSteps(frame, width, height, lag);
    assert.equal(down[smeared], 0);
    assert.ok(across[smeared]! > 3, `lag ${lag}: smeared cell across ${across[smeared]}`);
    assert.ok(down[noisy]! > 3 && across[noisy]! > 3, `lag ${lag}: noisy cell ${down[noisy]} ${across[noisy]}`);
  }
});

test('temporal extras of a still picture are all zero: no change against 1, 2 or 4 frames back', async () => {
  const [clip] = await clips;
  const still: MeasuredClip = {
    ...clip!,
    clip: { ...clip!.clip, frames: clip!.clip.frames.map(() => clip!.clip.frames[0]!) },
  };
  const values = EXTRAS.temporal!(still, 2);
  assert.ok(values.length > 0);
  assert.ok(values.every((v) => v === 0));
});
