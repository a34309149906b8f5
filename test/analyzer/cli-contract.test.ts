/**
 * The CLI's contract with whoever runs it: exit codes, stdout only for defect events, and
 * stderr only for JSON log lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './run-cli.js';

test('an unknown STREAMQC_LOG_LEVEL is a usage error (exit 2) naming the variable, the value and the levels', async () => {
  const r = await runCli(['analyze', 'whatever.ts'], 30_000, { STREAMQC_LOG_LEVEL: 'bogus' });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /STREAMQC_LOG_LEVEL: "bogus" is not a log level; allowed: fatal, error, warn, info, debug, trace, silent/);
  assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, 'no stack trace');
  assert.equal(r.stdout, '');
});

test('STREAMQC_LOG_LEVEL is read in any case', async () => {
  const r = await runCli(['analyze', 'a', 'b'], 30_000, { STREAMQC_LOG_LEVEL: 'DEBUG' });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /analyze takes one INPUT, got 2/);
  assert.doesNotMatch(r.stderr, /not a log level/);
});
