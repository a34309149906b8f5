// The source's style gates, run by `npm test` like any other test: ESLint with typescript-eslint's
// strict and stylistic type-checked rules (eslint.config.js) and Prettier's formatting
// (.prettierrc.json). A failure prints the offending files and rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const bin = (name: string): string => join(root, 'node_modules', '.bin', name);

function run(name: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(bin(name), args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

test('ESLint (strict type-checked rules) reports nothing', () => {
  const { status, output } = run('eslint', ['--max-warnings=0', '.']);
  assert.equal(status, 0, `eslint found problems:\n${output}`);
});

test('every source file is formatted by Prettier', () => {
  const { status, output } = run('prettier', ['--check', '**/*.{ts,js,mjs}']);
  assert.equal(status, 0, `files not formatted (run: npm run format):\n${output}`);
});
