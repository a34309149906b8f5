/**
 * EBU Mode conformance, as far as streamqc publishes readings today: every synthesisable case of
 * EBU Tech 3341 (cases 1-6, 9-12, 15-23) played through AudioStage, the analyzer's audio entry
 * point, and each reading it publishes checked against the table's tolerance (+/-0.1 LU; true
 * peak +0.2/-0.4 dB).
 *
 * "Published today" means the per-block momentary, short-term and last-second true peak the
 * stage hands to /status and the metrics, and the integrated loudness the pipeline publishes when
 * a finite input ends. A "max" here is the highest value among those per-block updates.
 *
 * Not here, in ebu-mode-pending.ts.txt until phase 2 wires them up:
 * - Tech 3342 cases 1-4: the loudness range is computed but not published.
 * - Tech 3341 case 13 (20 files) and case 14: max momentary reads 0.2-0.5 LU low in 16 of 20
 *   tone positions, because momentary loudness exists only on a 100 ms grid (a known defect).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EBU_RATE_HZ, ebuCases, dbfsToAmplitude, type EbuCase } from './ebu-signals.js';
import { checksFor, passes, runThroughStage, stageReadings, type Check } from './ebu-measure.js';

/** Checks that wait for phase 2: a reading the stage does not publish, or a known defect. */
function pendingCheck(c: EbuCase, check: Check): boolean {
  if (check.reading === 'LRA') return true;
  const gridDefect = c.id.startsWith('3341-13-') || c.id === '3341-14';
  return gridDefect && check.reading.startsWith('max M');
}

function tolerance(check: Check): string {
  return check.below === check.above ? `+/-${check.above}` : `+${check.above}/-${check.below}`;
}

for (const c of ebuCases()) {
  // Synthesis is cheap; checks are listed up front so that a case with nothing to check today
  // gets no test at all rather than an empty one.
  const probe = checksFor(c, {
    momentary: [],
    shortTerm: [],
    integratedLufs: null,
    loudnessRangeLu: null,
    maxTruePeakDbtp: null,
  });
  if (probe.every((check) => pendingCheck(c, check))) continue;
  test(`EBU Tech ${c.id.slice(0, 4)} case ${c.id.slice(5)}: ${c.title}`, () => {
    const checks = checksFor(c, stageReadings(runThroughStage(c))).filter((check) => !pendingCheck(c, check));
    for (const check of checks) {
      assert.ok(
        passes(check),
        `${check.reading}: streamqc reads ${check.actual?.toFixed(3) ?? 'nothing'}, table wants ${check.expected} ${tolerance(check)}`,
      );
    }
  });
}

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
