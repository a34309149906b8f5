/**
 * The corruption model's training pipeline on a tiny data set: real ffmpeg makes one short
 * baked-corruption clip and one clean one, the measures graph describes their cells, and the
 * seeded trainer learns from them. The same seed must give the same weights, bit for bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildCorruptionGraph, type CorruptionWeights } from '../../analyzer/features/corruption-graph.js';
import { makeBakedClip, type BakedClipSpec } from '../training/corruption/baked.js';
import { openMeasureSession } from '../training/corruption/dataset.js';
import { samplesOf, trainModel } from '../training/corruption/samples.js';

const tiny = (damage: BakedClipSpec['damage']): BakedClipSpec & { kind: 'baked' } => ({
  kind: 'baked',
  origin: { kind: 'lavfi', graph: 'testsrc2=s=320x180:r=25', label: 'testsrc2' },
  damage,
  chain: [{ codec: 'h264', bitrate: '600k' }],
  width: 320,
  height: 180,
  seconds: 1.2,
});

test('training is reproducible: the same seed on the same tiny data set gives the same weights, another seed others', async () => {
  const clips = [await makeBakedClip(tiny({ codec: 'h264', amount: 3000 })), await makeBakedClip(tiny(null))];
  assert.ok(
    clips[0]!.damage.some((cells) => cells.some((d) => d >= 12)),
    'the damaged clip has corrupted cells',
  );
  const session = await openMeasureSession();
  const samples = await samplesOf(session, clips, { stride: 4, cleanShare: 0.2, seed: 1 });
  await session.release();
  assert.ok(samples.y.includes(1) && samples.y.includes(0), 'both labels present');
  const options = { hidden: [8], epochs: 2, batchSize: 64, learningRate: 3e-3 };
  const first = trainModel(samples, { ...options, seed: 7 }).weights;
  const again = trainModel(samples, { ...options, seed: 7 }).weights;
  const other = trainModel(samples, { ...options, seed: 8 }).weights;
  assert.deepEqual(again, first);
  assert.notDeepEqual(other.layers, first.layers);
});

test('the shipped corruption-model.onnx is the graph built from the shipped weights (corruption-model.json)', () => {
  const dir = fileURLToPath(new URL('../../../analyzer/features/', import.meta.url));
  const weights = JSON.parse(readFileSync(`${dir}corruption-model.json`, 'utf8')) as CorruptionWeights;
  assert.ok(Buffer.from(buildCorruptionGraph(weights)).equals(readFileSync(`${dir}corruption-model.onnx`)));
});
