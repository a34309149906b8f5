import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ANALYZER_NODE_FLAGS } from '../../analyzer/node-flags.js';

const ROOT = new URL('../../../', import.meta.url);

test('this node takes the analyzer V8 flags and runs under them', () => {
  const r = spawnSync(
    process.execPath,
    [...ANALYZER_NODE_FLAGS, '-p', `process.execArgv.slice(0, ${ANALYZER_NODE_FLAGS.length}).join(' ')`],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), ANALYZER_NODE_FLAGS.join(' '));
});

test("the bin's shebang starts node with the analyzer V8 flags", () => {
  for (const file of ['analyzer/cli.ts', 'dist/analyzer/cli.js']) {
    const first = readFileSync(new URL(file, ROOT), 'utf8').split('\n')[0];
    assert.equal(first, `#!/usr/bin/env -S node ${ANALYZER_NODE_FLAGS.join(' ')}`, file);
  }
});

test('every analyzer image starts node with the analyzer V8 flags', () => {
  for (const image of ['analyzer', 'analyzer-cuda']) {
    const dockerfile = readFileSync(new URL(`images/${image}/Dockerfile`, ROOT), 'utf8');
    const line = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile);
    assert.ok(line, `images/${image}/Dockerfile has no ENTRYPOINT in exec form`);
    assert.deepEqual(
      JSON.parse(line[1]!),
      ['/usr/bin/tini', '--', 'node', ...ANALYZER_NODE_FLAGS, '/app/dist/analyzer/cli.js'],
      image,
    );
  }
});
