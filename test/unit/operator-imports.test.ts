// The operator loads what describes its contract with the analyzer (config schema, option
// tables, the /status contract), never the analyzer's media stack: onnxruntime's native
// module costs memory in every operator replica and has nothing to do there.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const MODULES = ['operator/main.js', 'operator/controller.js', 'operator/crd-gen.js', 'operator/analyzer-pod.js'];

test('no operator module loads onnxruntime', () => {
  for (const module of MODULES) {
    const url = new URL(`../../${module}`, import.meta.url).href;
    // A fresh process per module: the module graph of one import, nothing shared.
    const script = `
      import { createRequire } from 'node:module';
      process.argv[1] = '/not-the-entry-point';
      await import(${JSON.stringify(url)});
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((p) => p.includes('onnxruntime'));
      console.log(JSON.stringify(loaded));
      process.exit(0);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `${module}: ${r.stderr}`);
    const loaded = JSON.parse(r.stdout.trim().split('\n').pop() ?? '[]') as string[];
    assert.deepEqual(loaded, [], `${module} loads onnxruntime`);
  }
});
