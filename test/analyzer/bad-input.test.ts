/**
 * Bad input never crashes the analyzer with a stack trace, never hangs, and never leaks an
 * ffmpeg child: each case ends with the contract's exit code and a message naming the problem.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { cachedMedia, syntheticClip } from '../media/fixtures.js';
import { exitLine, logLines, only, runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'streamqc-bad-'));

/** stderr is JSON log lines only, and none of them reports an internal error (a stack trace). */
function noStackTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /\n\s+at .+\(.+:\d+:\d+\)/, `a stack trace leaked:\n${stderr}`);
  const crashes = logLines(stderr).filter((line) => line.exitCode === 70 || typeof line.err === 'object');
  assert.deepEqual(crashes, [], 'no internal error');
}

test('a missing file exits 1 and names the file', async () => {
  const r = await runCli(['analyze', join(dir, 'nope.ts')]);
  assert.equal(r.code, 1);
  assert.match(exitLine(r).msg, /nope\.ts: No such file/);
  assert.equal(r.stdout, '');
  noStackTrace(r.stderr);
});

test('a text file exits 1 with a clear message', async () => {
  const path = join(dir, 'notes.txt');
  writeFileSync(path, 'these are not the frames you are looking for\n'.repeat(50));
  const r = await runCli(['analyze', path]);
  assert.equal(r.code, 1);
  assert.match(exitLine(r).msg, /cannot (open|decode|analyze) .*notes\.txt/);
  noStackTrace(r.stderr);
});

test('random bytes exit 1 with a clear message', async () => {
  const path = join(dir, 'random.ts');
  writeFileSync(path, randomBytes(200_000));
  const r = await runCli(['analyze', path]);
  assert.equal(r.code, 1);
  assert.match(exitLine(r).msg, /random\.ts/);
  noStackTrace(r.stderr);
});

test('a truncated file is analysed up to where it breaks off, exit 0', async () => {
  const clip = await syntheticClip('trunc-src', {
    width: 320,
    height: 180,
    fps: 25,
    duration: 10,
    schedule: [{ type: 'black', start: 2, end: 5 }],
  });
  const path = join(dir, 'truncated.ts');
  const bytes = readFileSync(clip);
  writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length * 0.6) + 77)); // mid-packet
  const r = await runCli(['analyze', path]);
  assert.equal(r.code, 0, r.stderr);
  const black = only(r, 'black');
  assert.ok(Math.abs(black.start - 2) < 0.05 && Math.abs(black.end - 5) < 0.05, JSON.stringify(black));
  noStackTrace(r.stderr);
});

test('video only: video defects are found and no audio defect is invented', async () => {
  const clip = await syntheticClip('video-only', {
    width: 320,
    height: 180,
    fps: 25,
    duration: 8,
    audio: false,
    schedule: [{ type: 'black', start: 2, end: 5 }],
  });
  const r = await runCli(['analyze', clip]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    r.events.map((e) => e.type),
    ['black'],
  );
});

test('audio only: silence is found and no video defect is invented', async () => {
  const clip = await syntheticClip(
    'audio-only',
    { width: 320, height: 180, fps: 25, duration: 8, video: false, schedule: [{ type: 'silence', start: 2, end: 5 }] },
    'm4a',
  );
  const r = await runCli(['analyze', clip]);
  assert.equal(r.code, 0, r.stderr);
  const silence = only(r, 'silence');
  assert.ok(Math.abs(silence.start - 2) < 0.1 && Math.abs(silence.end - 5) < 0.1, JSON.stringify(silence));
  assert.deepEqual(
    r.events.map((e) => e.type),
    ['silence'],
  );
});

test('a resolution change mid-stream is one format_change event naming both sizes', async () => {
  const a = await syntheticClip('res-a', { width: 640, height: 360, fps: 25, duration: 4, schedule: [] });
  const b = await syntheticClip('res-b', { width: 320, height: 180, fps: 25, duration: 4, schedule: [] });
  const joined = await cachedMedia('res-change', 'ts', (out) => [
    '-hide_banner',
    '-loglevel',
    'error',
    '-i',
    `concat:${a}|${b}`,
    '-c',
    'copy',
    '-f',
    'mpegts',
    '-y',
    out,
  ]);
  const r = await runCli(['analyze', joined]);
  assert.equal(r.code, 0, r.stderr);
  const change = only(r, 'format_change');
  assert.ok(change.start > 3.5 && change.start < 4.6, `change at ${change.start}`);
  assert.match(JSON.stringify(change.detail), /640x360 -> 320x180/);
  noStackTrace(r.stderr);
});

test('an unreachable URL exits 1 within the open timeout and names the source', async () => {
  // A port that refuses connections: bind, note the port, close.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const config = join(dir, 'open-timeout.yaml');
  writeFileSync(config, 'live: true\ningest:\n  openTimeout: 2\n  reconnectInitialDelay: 0.2\n');
  const started = Date.now();
  const r = await runCli(['analyze', `rtmp://127.0.0.1:${port}/live/x`, '--config', config], 30_000);
  assert.equal(r.code, 1, r.stderr);
  assert.match(exitLine(r).msg, new RegExp(`127\\.0\\.0\\.1:${port}`));
  assert.ok(Date.now() - started < 20_000, 'gave up in time');
  noStackTrace(r.stderr);
});

test('an invalid config value exits 2 naming the field, the value and what is allowed', async () => {
  const clip = await syntheticClip('res-b', { width: 320, height: 180, fps: 25, duration: 4, schedule: [] });
  const config = join(dir, 'bad.yaml');
  writeFileSync(config, 'detectors:\n  black:\n    pictureRatio: 1.5\n  freeze:\n    minDuration: -1\n  bogus: {}\n');
  const r = await runCli(['analyze', clip, '--config', config]);
  assert.equal(r.code, 2);
  const { msg } = exitLine(r);
  assert.match(msg, /detectors\.black\.pictureRatio: 1\.5 .*<= 1/);
  assert.match(msg, /detectors\.freeze\.minDuration: -1 .*>= 0/);
  assert.match(msg, /detectors\.bogus: unknown field/);
  noStackTrace(r.stderr);
});

test('bad usage exits 2 with the usage text', async () => {
  for (const args of [
    [],
    ['analyze'],
    ['analyze', 'a', 'b'],
    ['analyze', 'x.ts', '--format', 'xml'],
    ['frobnicate'],
    ['analyze', 'x.ts', '--metrics-port', 'http'],
  ]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(exitLine(r).usage ?? '', /^usage:\n {2}streamqc analyze INPUT/);
    noStackTrace(r.stderr);
  }
  const scheme = await runCli(['analyze', 'gopher://example/x']);
  assert.equal(scheme.code, 2);
  assert.match(exitLine(scheme).msg, /scheme "gopher" is not supported; allowed: file path, http, https/);
});
