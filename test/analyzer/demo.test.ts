/**
 * The README's main-job command: a synthetic live stream with scheduled defects, analysed
 * live, ending by itself with a summary. A 20 s run keeps the first three defects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoSchedule } from '../../analyzer/demo.js';
import { logLines, runCli } from './run-cli.js';

test('the demo schedule repeats every minute and keeps only what fits', () => {
  const short = demoSchedule(20).map((w) => w.type);
  assert.deepEqual(short, ['black', 'freeze', 'silence']);
  const long = demoSchedule(130);
  assert.equal(long.filter((w) => w.type === 'black').length, 3);
  assert.equal(long.filter((w) => w.type === 'stall').length, 2);
});

test('a 20 s demo shows black, freeze and silence start and clear, then a summary', { timeout: 90_000 }, async () => {
  const r = await runCli(['demo', '--duration', '20', '--metrics-port', '0'], 80_000);
  assert.equal(r.code, 0, r.stderr);
  for (const type of ['black', 'freeze', 'silence']) {
    assert.match(r.stdout, new RegExp(`${type}\\s+STARTED`), `${type} start shown\n${r.stdout}`);
    assert.match(r.stdout, new RegExp(`${type}\\s+cleared after [23]\\.\\d\\d s`), `${type} clear shown\n${r.stdout}`);
  }
  assert.match(r.stdout, /summary after \d+\.\d s: \d+ frames analysed, 0 dropped/);
  assert.match(r.stdout, /metrics: http:\/\/127\.0\.0\.1:\d+\/metrics/);
  logLines(r.stderr); // the sender's and the analyzer's logs: JSON lines only
});
