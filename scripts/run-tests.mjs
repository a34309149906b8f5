#!/usr/bin/env node
// Runs every compiled test file under dist/test with Node's built-in test runner.
// Prints Node's own summary plus the plain closing line "N passed, N failed", and fails
// when no test ran at all, so a broken discovery can never look green.
//
// Suites that need shared servers declare them in dist/test/global-setup.js (optional):
// it exports setup() returning env vars for the test processes, and teardown().
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, mkdtempSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const testRoot = join(root, 'dist', 'test');
const only = process.argv.slice(2);

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

let files = findTests(testRoot);
if (only.length > 0) files = files.filter((f) => only.some((o) => f.includes(o)));
if (files.length === 0) {
  console.error('run-tests: no test files found under dist/test');
  process.exit(1);
}

let extraEnv = {};
let teardown = () => Promise.resolve();
const globalSetup = join(testRoot, 'global-setup.js');
if (existsSync(globalSetup)) {
  const mod = await import(globalSetup);
  extraEnv = (await mod.setup(files)) ?? {};
  teardown = mod.teardown;
}

const tapDir = mkdtempSync(join(tmpdir(), 'streamqc-tests-'));
const tapFile = join(tapDir, 'results.tap');
const args = [
  '--test',
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=tap',
  `--test-reporter-destination=${tapFile}`,
  `--test-concurrency=${process.env.STREAMQC_TEST_CONCURRENCY ?? 2}`,
  ...files,
];
const child = spawn(process.execPath, args, { stdio: 'inherit', env: { ...process.env, ...extraEnv } });
const stopChild = (sig) => child.kill(sig);
process.on('SIGINT', stopChild);
process.on('SIGTERM', stopChild);
const code = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
try {
  await teardown();
} catch (err) {
  console.error('run-tests: teardown failed:', err);
}

const tap = existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '';
const count = (key) => Number((tap.match(new RegExp(`^# ${key} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
const passed = count('pass');
const failed = count('fail') + count('cancelled');
const skipped = count('skipped') + count('todo');
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (passed + failed === 0) {
  console.error('run-tests: no test ran');
  process.exit(1);
}
process.exit(code === 0 && failed === 0 ? 0 : 1);
