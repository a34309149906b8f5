// scripts/gpu-check.sh where no NVIDIA GPU can be used: it must refuse with the reason and a
// non-zero exit, never print a figure. Each gate is reached for real: no nvidia-smi on PATH; an
// nvidia-smi that fails the way a driverless machine's does; the CUDA execution provider and NVDEC
// with every CUDA device hidden (CUDA_VISIBLE_DEVICES=""), which on this machine and CI's, without
// a GPU, means no CUDA provider library and no libcuda.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(command, args, { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** This environment without any directory that holds an nvidia-smi. */
function withoutNvidiaSmi(): NodeJS.ProcessEnv {
  const path = (process.env.PATH ?? '').split(delimiter).filter((dir) => !existsSync(join(dir, 'nvidia-smi')));
  return { ...process.env, PATH: path.join(delimiter) };
}

/** Every CUDA device hidden from the driver, from ffmpeg and from onnxruntime alike. */
const noCudaDevice: NodeJS.ProcessEnv = { ...process.env, CUDA_VISIBLE_DEVICES: '' };

/** PATH with a directory holding an `nvidia-smi` script in front. */
function withNvidiaSmi(dir: string, script: string): NodeJS.ProcessEnv {
  const file = join(dir, 'nvidia-smi');
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
  return { ...process.env, PATH: `${dir}${delimiter}${process.env.PATH ?? ''}` };
}

test('without nvidia-smi the script says there is no NVIDIA GPU and exits 3 before installing anything', () => {
  const r = run('bash', ['scripts/gpu-check.sh'], withoutNvidiaSmi());
  assert.equal(r.status, 3);
  assert.equal(
    r.stderr,
    'gpu-check: no NVIDIA GPU: nvidia-smi is not on PATH (no NVIDIA driver installed); nothing was measured\n',
  );
  assert.equal(r.stdout, '');
});

test('an nvidia-smi that cannot reach a driver, or lists no device, is no GPU either', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'streamqc-gpu-check-'));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  // nvidia-smi's own words on a machine whose driver is not loaded.
  const driverless = withNvidiaSmi(
    dir,
    'echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver."; exit 9',
  );
  const failed = run('bash', ['scripts/gpu-check.sh'], driverless);
  assert.equal(failed.status, 3);
  assert.match(
    failed.stderr,
    /^gpu-check: no NVIDIA GPU: nvidia-smi failed: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver\.; nothing was measured\n$/,
  );

  const empty = run('bash', ['scripts/gpu-check.sh'], withNvidiaSmi(dir, 'exit 0'));
  assert.equal(empty.status, 3);
  assert.match(empty.stderr, /gpu-check: no NVIDIA GPU: nvidia-smi lists no device; nothing was measured/);
});

test('without the CUDA execution provider the check exits 5 naming the provider library, with no figure', () => {
  const r = run(process.execPath, ['dist/test/bench/gpu-check.js', '--sizes', '360'], noCudaDevice);
  assert.equal(r.status, 5, r.stderr);
  assert.match(r.stderr, /gpu-check: CUDA execution provider not loadable: .*libonnxruntime_providers_cuda\.so/);
  assert.equal(r.stdout, '');
});

test("without NVDEC the decode-only check exits 4 with ffmpeg's reason, with no figure", () => {
  const r = run(process.execPath, ['dist/test/bench/gpu-check.js', '--sizes', '360', '--decode-only'], noCudaDevice);
  assert.equal(r.status, 4, r.stderr);
  // ffmpeg's own reason in parentheses: here "Cannot load libcuda.so.1; ...".
  assert.match(
    r.stderr,
    /gpu-check: NVDEC decode failed: ffmpeg -hwaccel cuda could not decode an H\.264 clip on the GPU \(\w.+\)\n$/,
  );
  assert.equal(r.stdout, '');
});
