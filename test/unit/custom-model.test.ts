/**
 * User ONNX models: the tests write tiny models themselves (the mean of the input, and a
 * 1x1 convolution plus global average pool in NHWC), feed frames of known brightness and
 * check the scores; bad configs and bad model files must fail with messages naming the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../analyzer/features/onnx-builder.js';
import { CustomModelRunner } from '../../analyzer/features/custom-model.js';
import { validateCustomModels, type CustomModelConfig } from '../../analyzer/features/custom-model-config.js';
import type { LumaFrame } from '../../analyzer/features/types.js';

const quietLog = { warn: (): void => undefined };
const dir = await mkdtemp(join(tmpdir(), 'streamqc-models-'));
test.after(() => rm(dir, { recursive: true, force: true }));

/** score[N] = mean of an [N, 1, 8, 8] input (opset 17: ReduceMean still takes axes as an attribute). */
function meanModel(batch: number | string): Uint8Array {
  const g = new GraphBuilder('mean');
  const x = g.input('pixels', 'float32', [batch, 1, 8, 8]);
  g.op('ReduceMean', [x], { axes: [1, 2, 3], keepdims: 0 }, 'score');
  g.output('score', 'float32', [batch]);
  return g.toBytes(17);
}

/** logits[N, 2] = [-s, s], s = global average of a 1x1 conv (weights 0.5, 0.25, 0.25) of an NHWC [N, 4, 6, 3] input. */
function convPoolModel(): Uint8Array {
  const g = new GraphBuilder('conv_pool');
  const x = g.input('image', 'float32', ['N', 4, 6, 3]);
  const nchw = g.op('Transpose', [x], { perm: [0, 3, 1, 2] });
  const conv = g.op('Conv', [nchw, g.constant('w', 'float32', [1, 3, 1, 1], [0.5, 0.25, 0.25])], {
    kernel_shape: [1, 1],
  });
  const s = g.op('Flatten', [g.op('GlobalAveragePool', [conv])], { axis: 1 });
  g.op('Concat', [g.op('Neg', [s]), s], { axis: 1 }, 'logits');
  g.output('logits', 'float32', ['N', 2]);
  return g.toBytes(17);
}

async function saved(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

function config(path: string, overrides: Partial<Omit<CustomModelConfig, 'name' | 'path'>> = {}): CustomModelConfig {
  return {
    name: 'test',
    path,
    input: { width: 8, height: 8, layout: 'NCHW', channels: 1 },
    output: {},
    defect: { type: 'blur', threshold: 0.5, minDuration: 2 },
    ...overrides,
  };
}

function uniform(value: number, width = 64, height = 36): LumaFrame {
  return { width, height, data: new Uint8Array(width * height).fill(value) };
}

/** Left half black, right half white: its mean survives a 2:1 bilinear resize exactly. */
function halves(width: number, height: number): LumaFrame {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) data.fill(255, y * width + width / 2, (y + 1) * width);
  return { width, height, data };
}

function assertClose(actual: readonly number[], expected: readonly number[]): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) < 1e-6, `score ${i}: ${a}, expected ${expected[i]}`));
}

test('a mean-of-input model scores frames of known brightness as brightness / 255', async () => {
  const path = await saved('mean.onnx', meanModel('N'));
  const runner = await CustomModelRunner.load(config(path), { log: quietLog, batchSize: 3 });
  try {
    assert.equal(runner.executionProvider, 'cpu');
    const frames = [uniform(0), uniform(51), uniform(102), uniform(255), halves(16, 16)];
    assertClose(await runner.score(frames), [0, 0.2, 0.4, 1, 0.5]);
  } finally {
    await runner.close();
  }
});

test('an NHWC three-channel model gets luma in every channel, normalized by scale, mean and std', async () => {
  const path = await saved('conv-pool.onnx', convPoolModel());
  const input = { width: 6, height: 4, layout: 'NHWC', channels: 3, scale: 1 / 255, mean: 0.5, std: 0.25 } as const;
  const positive = await CustomModelRunner.load(config(path, { input, output: { name: 'logits', index: 1 } }), {
    log: quietLog,
  });
  const negative = await CustomModelRunner.load(config(path, { input, output: { index: 0 } }), { log: quietLog });
  try {
    const frames = [uniform(0), uniform(255), uniform(191.25 | 0), halves(12, 8)];
    const normalized = [0, 255, 191, 127.5].map((v) => (v / 255 - 0.5) / 0.25);
    assertClose(await positive.score(frames), normalized);
    assertClose(
      await negative.score(frames),
      normalized.map((v) => -v),
    );
  } finally {
    await positive.close();
    await negative.close();
  }
});

test('a model with a fixed batch of one is run frame by frame', async () => {
  const path = await saved('mean-batch1.onnx', meanModel(1));
  const runner = await CustomModelRunner.load(config(path), { log: quietLog, batchSize: 8 });
  try {
    assertClose(await runner.score([uniform(255), uniform(0), uniform(51)]), [1, 0, 0.2]);
  } finally {
    await runner.close();
  }
});

test('CUDA requested for a model without a usable GPU runs on CPU with a warning', async () => {
  const warnings: string[] = [];
  const path = await saved('mean-cuda.onnx', meanModel('N'));
  const runner = await CustomModelRunner.load(config(path), {
    executionProvider: 'cuda',
    log: { warn: (m: string) => warnings.push(m) },
  });
  try {
    assert.equal(runner.executionProvider, 'cpu');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^model "test": CUDA execution provider unavailable, running on CPU/);
  } finally {
    await runner.close();
  }
});

test('bad model configs are refused, each error naming the field, the value and what is allowed', () => {
  const good = config('/models/blur.onnx');
  assert.deepEqual(
    validateCustomModels([good, { ...good, name: 'other', defect: { ...good.defect, type: 'model:soft-focus' } }]),
    [],
  );
  assert.deepEqual(validateCustomModels({ name: 'x' }), ['models: {"name":"x"} is not a list of models']);
  const errors = validateCustomModels([
    {
      ...good,
      input: { width: 0, height: 8.5, layout: 'NCWH', channels: 2, scale: -1, widht: 3 },
      output: { index: -1 },
      defect: { type: 'bluriness', threshold: 'high', above: 'yes' },
    },
    { ...good, name: 'test', path: '' },
    'blur.onnx',
  ]);
  assert.deepEqual(errors, [
    'models[0].input.width: 0 is not an integer from 1 to 4096',
    'models[0].input.height: 8.5 is not an integer from 1 to 4096',
    'models[0].input.layout: "NCWH" is not one of NCHW, NHWC',
    'models[0].input.channels: 2 is not one of 1, 3',
    'models[0].input.scale: -1 is not a number > 0',
    'models[0].input.widht: unknown field; allowed: name, width, height, layout, channels, scale, mean, std',
    'models[0].output.index: -1 is not an integer from 0 to 2147483647',
    'models[0].defect.type: "bluriness" is not one of black, freeze, blockiness, blur, or model:<name> (lowercase letters, digits, _ and -)',
    'models[0].defect.threshold: "high" is not a finite number',
    'models[0].defect.above: "yes" is not true or false',
    'models[0].defect.minDuration: missing; expected a number of seconds from 0 to 3600',
    'models[1].path: "" is not a non-empty file path',
    'models[1].name: "test" is already the name of models[0]',
    'models[2]: "blur.onnx" is not a mapping of name, path, input, output and defect',
  ]);
});

test('a missing or garbage model file is refused naming the path', async () => {
  const missing = join(dir, 'nowhere.onnx');
  await assert.rejects(CustomModelRunner.load(config(missing), { log: quietLog, field: 'models[0]' }), {
    message: `models[0].path: "${missing}" does not exist`,
  });
  const garbage = await saved('garbage.onnx', new TextEncoder().encode('this is a README, not a model\n'.repeat(20)));
  await assert.rejects(CustomModelRunner.load(config(garbage), { log: quietLog, field: 'models[0]' }), (err: Error) =>
    err.message.startsWith(`models[0].path: "${garbage}" is not an ONNX model onnxruntime can load (`),
  );
  await assert.rejects(CustomModelRunner.load(config(dir), { log: quietLog, field: 'models[0]' }), {
    message: `models[0].path: "${dir}" cannot be read (EISDIR)`,
  });
});

test('a model whose input or output contradicts the config is refused naming the field', async () => {
  const path = await saved('mean-contradicted.onnx', meanModel('N'));
  const load = (c: CustomModelConfig): Promise<CustomModelRunner> =>
    CustomModelRunner.load(c, { log: quietLog, field: 'models[0]' });
  const nchw = config(path).input;
  await assert.rejects(load(config(path, { input: { ...nchw, name: 'image' } })), {
    message: 'models[0].input.name: "image" is not an input of the model; its inputs are: pixels',
  });
  await assert.rejects(load(config(path, { input: { ...nchw, height: 16 } })), {
    message:
      'models[0].input.height: 16 contradicts the model\'s input "pixels" of shape [N, 1, 8, 8] (NCHW: height is dimension 2, 8)',
  });
  await assert.rejects(load(config(path, { input: { ...nchw, layout: 'NHWC' } })), {
    message:
      'models[0].input.layout: "NHWC" contradicts the model\'s input "pixels" of shape [N, 1, 8, 8], which is NCHW',
  });
  await assert.rejects(load(config(path, { input: { ...nchw, layout: 'NHWC', channels: 3 } })), {
    message:
      'models[0].input.channels: 3 contradicts the model\'s input "pixels" of shape [N, 1, 8, 8] (NHWC: channels is dimension 3, 8)',
  });
  await assert.rejects(load(config(path, { output: { name: 'logits' } })), {
    message: 'models[0].output.name: "logits" is not an output of the model; its outputs are: score',
  });
  await assert.rejects(load(config(path, { output: { index: 1 } })), {
    message:
      'models[0].output.index: 1 is outside the model\'s output "score" of shape [N] (1 value per frame, so 0 to 0)',
  });
  await assert.rejects(load({ ...config(path), input: { ...nchw, layout: 'NCWH' as 'NCHW' } }), {
    message: 'models[0].input.layout: "NCWH" is not one of NCHW, NHWC',
  });
});
