/**
 * The ONNX paths end to end through the CLI: the feature graph as the analysis backend
 * (what a GPU pod runs, here on CPU) finds exactly what the CPU kernel finds, a GPU request
 * without a GPU falls back to CPU with a warning, and a user model generated here maps its
 * per-frame score to a defect.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../analyzer/features/onnx-builder.js';
import { syntheticClip } from '../media/fixtures.js';
import { only, runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'streamqc-models-e2e-'));

function clip(): Promise<string> {
  return syntheticClip('models-e2e', {
    width: 640,
    height: 360,
    fps: 25,
    duration: 16,
    schedule: [
      { type: 'black', start: 3, end: 6 },
      { type: 'freeze', start: 8, end: 11 },
      { type: 'blur', start: 12, end: 15 },
    ],
  });
}

function writeConfig(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test('the ONNX feature graph finds exactly the events the CPU kernel finds', { timeout: 120_000 }, async () => {
  const input = await clip();
  const cpu = await runCli(['analyze', input]);
  const onnx = await runCli([
    'analyze',
    input,
    '--config',
    writeConfig('onnx.yaml', 'analysis:\n  onnx: true\n  batchSize: 8\n'),
  ]);
  assert.equal(cpu.code, 0, cpu.stderr);
  assert.equal(onnx.code, 0, onnx.stderr);
  const strip = (r: typeof cpu): unknown[] => r.events.map(({ type, start, end }) => ({ type, start, end }));
  assert.deepEqual(strip(onnx), strip(cpu));
  assert.deepEqual(cpu.events.map((e) => e.type).sort(), ['black', 'blur', 'freeze']);
});

test('gpu: true without a GPU runs on CPU, says so, and still analyses', { timeout: 120_000 }, async () => {
  const input = await clip();
  const r = await runCli(['analyze', input, '--config', writeConfig('gpu.yaml', 'analysis:\n  gpu: true\n')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /CUDA.*(unavailable|not available|falling back|fall back)/i);
  assert.equal(only(r, 'black').start, 3);
});

test('a user ONNX model scoring mean brightness reports its own defect type', { timeout: 120_000 }, async () => {
  const input = await clip();
  const g = new GraphBuilder('brightness');
  const x = g.input('pixels', 'float32', ['N', 1, 16, 16]);
  g.op('ReduceMean', [x], { axes: [1, 2, 3], keepdims: 0 }, 'score');
  g.output('score', 'float32', ['N']);
  const model = join(dir, 'brightness.onnx');
  writeFileSync(model, g.toBytes(17));
  const config = writeConfig(
    'model.yaml',
    [
      'models:',
      '  - name: dark',
      `    path: ${model}`,
      '    input: { width: 16, height: 16, layout: NCHW, channels: 1 }',
      '    output: {}',
      '    defect: { type: "model:dark", threshold: 0.05, above: false, minDuration: 1 }',
      '',
    ].join('\n'),
  );
  const r = await runCli(['analyze', input, '--config', config]);
  assert.equal(r.code, 0, r.stderr);
  const dark = only(r, 'model:dark');
  assert.ok(Math.abs(dark.start - 3) <= 0.04 && Math.abs(dark.end - 6) <= 0.04, JSON.stringify(dark));
  assert.ok(typeof dark.detail?.score === 'number' && dark.detail.score < 0.05);
  assert.equal(only(r, 'black').start, 3, 'built-in detectors still run beside the model');
});

test('a user model that does not exist is a configuration error (exit 2) naming the path', async () => {
  const input = await clip();
  const config = writeConfig(
    'missing.yaml',
    [
      'models:',
      '  - name: ghost',
      `    path: ${join(dir, 'ghost.onnx')}`,
      '    input: { width: 16, height: 16, layout: NCHW, channels: 1 }',
      '    output: {}',
      '    defect: { type: blur, threshold: 0.5, minDuration: 1 }',
      '',
    ].join('\n'),
  );
  const r = await runCli(['analyze', input, '--config', config]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /ghost\.onnx.*does not exist/);
  assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/);
});
