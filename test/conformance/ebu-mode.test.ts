/**
 * EBU Mode conformance: every synthesisable case of EBU Tech 3341 (cases 1-6, 9-23, case 13 as
 * its 20 files) and Tech 3342 (cases 1-4) played through AudioStage, the analyzer's audio entry
 * point, and each reading it publishes checked against the table's tolerance (+/-0.1 LU; LRA
 * +/-1 LU; true peak +0.2/-0.4 dB).
 *
 * "Publishes" means what /status and the metrics are fed: per-block momentary and short-term
 * loudness, the Max M and Max S the stage shows after each block (a 10 ms grid underneath), and
 * the final figures a finished input publishes (integrated, LRA, max true peak, the maxima).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoudnessMeter } from '../../analyzer/audio/loudness.js';
import { EBU_RATE_HZ, ebuCases, dbfsToAmplitude, LOUDNESS_TOLERANCE_LU } from './ebu-signals.js';
import { checksFor, passes, runThroughStage, stageReadings, type Check } from './ebu-measure.js';

function tolerance(check: Check): string {
  return check.below === check.above ? `+/-${check.above}` : `+${check.above}/-${check.below}`;
}

for (const c of ebuCases()) {
  test(`EBU Tech ${c.id.slice(0, 4)} case ${c.id.slice(5)}: ${c.title}`, () => {
    const checks = checksFor(c, stageReadings(runThroughStage(c)));
    assert.ok(checks.length > 0, `case ${c.id} checks nothing`);
    for (const check of checks) {
      assert.ok(
        passes(check),
        `${check.reading}: streamqc reads ${check.actual?.toFixed(3) ?? 'nothing'}, table wants ${check.expected} ${tolerance(check)}`,
      );
    }
  });
}

test('every synthesisable case is in the suite: Tech 3341 1-6, 9-23 (10 and 13 as 20 files each) and Tech 3342 1-4', () => {
  const ids = new Set(ebuCases().map((c) => c.id));
  const wanted = [
    ...[1, 2, 3, 4, 5, 6, 9, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23].map((n) => `3341-${n}`),
    ...[10, 13].flatMap((n) => Array.from({ length: 20 }, (_, i) => `3341-${n}-${i + 1}`)),
    ...[1, 2, 3, 4].map((n) => `3342-${n}`),
  ];
  assert.deepEqual(
    wanted.filter((id) => !ids.has(id)),
    [],
  );
});

// The grid itself: with 10 ms sub-blocks the worst window misses 5 ms of a 400 ms tone,
// 10 log10(395 / 400) = -0.055 LU, inside the +/-0.1 whatever the tone's position (case 13 at 1 ms steps).
test('max momentary of a 0.4 s tone at -23 dBFS reads -23.0 +/-0.1 at every 1 ms offset of its start', () => {
  for (let offsetMs = 0; offsetMs < 100; offsetMs++) {
    const meter = new LoudnessMeter(48000, 2);
    const frames = 48 * (offsetMs + 400 + 1000);
    const pcm = new Float32Array(2 * frames);
    const amplitude = Math.pow(10, -23 / 20);
    for (let n = 48 * offsetMs; n < 48 * (offsetMs + 400); n++) {
      const v = amplitude * Math.sin((2 * Math.PI * 1000 * n) / 48000);
      pcm[2 * n] = v;
      pcm[2 * n + 1] = v;
    }
    meter.push(pcm);
    const max = meter.maxMomentaryLufs;
    assert.ok(Math.abs(max - -23) <= LOUDNESS_TOLERANCE_LU, `tone ${offsetMs} ms in: max M ${max.toFixed(3)}`);
  }
});

test('the 10 ms grid leaves the published cadence alone: M, S and the gating blocks stay on 100 ms', () => {
  const meter = new LoudnessMeter(48000, 2);
  assert.equal(meter.subBlocksPerUpdate, 10);
  assert.equal(meter.samplesPer100ms, 4800);
  // A tone that starts 50 ms in: the published M changes only at 100 ms steps, the maximum every 10 ms.
  const amplitude = Math.pow(10, -23 / 20);
  const published: number[] = [];
  for (let block = 0; block < 100; block++) {
    const pcm = new Float32Array(2 * 480);
    for (let i = 0; i < 480; i++) {
      const n = block * 480 + i;
      const v = n >= 2400 ? amplitude * Math.sin((2 * Math.PI * 1000 * n) / 48000) : 0;
      pcm[2 * i] = v;
      pcm[2 * i + 1] = v;
    }
    meter.push(pcm);
    published.push(meter.momentaryLufs);
  }
  const changes = published.flatMap((v, i) => (i > 0 && v !== published[i - 1] ? [i + 1] : []));
  assert.ok(
    changes.every((tenMs) => tenMs % 10 === 0),
    `M changed after ${changes.join(', ')} x 10 ms`,
  );
  assert.ok(Math.abs(meter.maxMomentaryLufs - -23) < 0.01, `max M ${meter.maxMomentaryLufs}`);
});

test('the signals are the tables: case 1 is 20 s of stereo 1 kHz peaking at -23 dBFS', () => {
  const c = ebuCases().find((x) => x.id === '3341-1');
  assert.ok(c);
  const [left, right] = c.synthesise();
  assert.ok(left && right);
  assert.equal(left.length, 20 * EBU_RATE_HZ);
  assert.deepEqual(left, right);
  const peak = left.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(Math.abs(peak - dbfsToAmplitude(-23)) < 1e-6, `peak ${peak}`);
});

test('the signals are the tables: case 16 samples peak at -9.0 dBFS, 3 dB under its -6.0 dBTP true peak', () => {
  const c = ebuCases().find((x) => x.id === '3341-16');
  assert.ok(c);
  const [left] = c.synthesise();
  assert.ok(left);
  const peak = left.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(Math.abs(20 * Math.log10(peak) - -9.03) < 0.01, `sample peak ${20 * Math.log10(peak)} dBFS`);
});

test('the signals are the tables: cases 20-23 put the same peak at four different sample phases', () => {
  const peaks = ['3341-20', '3341-21', '3341-22', '3341-23'].map((id) => {
    const [left] = ebuCases()
      .find((x) => x.id === id)!
      .synthesise();
    return left!.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  });
  // Offset 0 samples the crest itself; the others sample it a quarter, half and three quarters off.
  assert.equal(new Set(peaks.map((p) => p.toFixed(3))).size >= 3, true, `sample peaks ${peaks.join(', ')}`);
  assert.ok(Math.max(...peaks) < 1, 'no sample reaches full scale');
});
