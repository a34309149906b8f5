/**
 * The CLI's contract with whoever runs it: exit codes, stdout only for defect events (or the
 * usage text asked for with --help), and stderr only for JSON log lines, final messages and
 * internal errors included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticClip } from '../media/fixtures.js';
import { CLI, exitLine, logLines, runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'streamqc-cli-'));

test('an unknown STREAMQC_LOG_LEVEL is a usage error (exit 2) naming the variable, the value and the levels', async () => {
  const r = await runCli(['analyze', 'whatever.ts'], 30_000, { STREAMQC_LOG_LEVEL: 'bogus' });
  assert.equal(r.code, 2, r.stderr);
  const line = exitLine(r);
  assert.equal(
    line.msg,
    'STREAMQC_LOG_LEVEL: "bogus" is not a log level; allowed: fatal, error, warn, info, debug, trace, silent',
  );
  assert.match(line.usage ?? '', /^usage:/);
  assert.equal(line.err, undefined, 'no stack trace');
  assert.equal(r.stdout, '');
});

test('STREAMQC_LOG_LEVEL is read in any case', async () => {
  const r = await runCli(['analyze', 'a', 'b'], 30_000, { STREAMQC_LOG_LEVEL: 'DEBUG' });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(exitLine(r).msg, 'analyze takes one INPUT, got 2');
});

test('--help prints the usage on stdout and nothing on stderr', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^usage:\n {2}streamqc analyze INPUT/);
  assert.equal(r.stderr, '');
});

test('a usage error is one JSON line with the message and the usage, nothing on stdout', async () => {
  const r = await runCli(['analyze', 'x.ts', '--no-such-flag']);
  assert.equal(r.code, 2);
  assert.equal(logLines(r.stderr).length, 1, r.stderr);
  const line = exitLine(r);
  assert.match(line.msg, /Unknown option '--no-such-flag'/);
  assert.match(line.usage ?? '', /^usage:\n/);
  assert.equal(r.stdout, '');
});

test('a config error and an input that cannot be opened end with one JSON line naming the problem', async () => {
  const config = join(dir, 'bad.yaml');
  writeFileSync(config, 'detectors:\n  black:\n    pictureRatio: 2\n');
  const badConfig = await runCli(['analyze', 'x.ts', '--config', config]);
  assert.equal(badConfig.code, 2);
  assert.match(exitLine(badConfig).msg, /detectors\.black\.pictureRatio: 2 is out of range/);
  const missing = await runCli(['analyze', join(dir, 'missing.ts')], 30_000, { STREAMQC_LOG_LEVEL: 'debug' });
  assert.equal(missing.code, 1);
  assert.match(exitLine(missing).msg, /missing\.ts: No such file/);
});

test('a whole analysis at debug level writes only JSON lines to stderr and only events to stdout', async () => {
  const clip = await syntheticClip('cli-contract', {
    width: 320,
    height: 180,
    fps: 25,
    duration: 5,
    schedule: [{ type: 'black', start: 1, end: 3 }],
  });
  const r = await runCli(['analyze', clip], 60_000, { STREAMQC_LOG_LEVEL: 'debug' });
  assert.equal(r.code, 0, r.stderr);
  const lines = logLines(r.stderr);
  assert.ok(
    lines.some((l) => l.msg === 'defect started'),
    `the logs say what happened:\n${r.stderr}`,
  );
  assert.deepEqual(
    r.events.map((e) => e.type),
    ['black'],
  );
  assert.equal(r.stdout.split('\n').filter((l) => l.length > 0).length, r.events.length, 'stdout is events only');
});

test('an internal error is one JSON line with the stack in a field, exit 70', () => {
  // No input makes today's analyzer crash, so the CLI's own crash report is called with a real error.
  const script = `import { reportInternalError } from ${JSON.stringify(CLI)}; reportInternalError(new TypeError('an invariant broke'));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 70);
  const lines = logLines(r.stderr);
  assert.equal(lines.length, 1, r.stderr);
  const line = lines[0]!;
  assert.equal(line.msg, 'internal error: an invariant broke');
  assert.equal(line.exitCode, 70);
  const err = line.err;
  assert.ok(typeof err === 'object', r.stderr);
  assert.equal(err.type, 'TypeError');
  assert.match(err.stack, /^TypeError: an invariant broke\n\s+at /);
});
