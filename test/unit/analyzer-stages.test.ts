/**
 * The windows the analyzer's stages keep between observations: the audio stage's one-second
 * true peak and once-a-second integrated loudness, and the A/V-sync baseline beside its detector.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AudioStage } from '../../analyzer/audio/stage.js';
import { AvSyncDrift } from '../../analyzer/detectors/av_sync.js';
import { toneBlocks } from './audio-signals.js';

const RATE = 48000;
const BLOCK = 1024;
const blocks = (n: number): number => (n * BLOCK) / RATE;

test('the true peak reported is the highest of the last second: one loud block shows for the 47 blocks of a second at 48 kHz, then not', () => {
  const stage = new AudioStage({ sampleRate: RATE, channels: 2 }, 0.99);
  const peaks: (number | null)[] = [];
  const tone = toneBlocks({
    sampleRate: RATE,
    channels: 2,
    frequency: 1000,
    segments: [
      { dbfs: -20, seconds: blocks(94) },
      { dbfs: -1, seconds: blocks(1) },
      { dbfs: -20, seconds: blocks(60) },
    ],
  });
  let i = 0;
  for (const block of tone) peaks.push(stage.push(blocks(i++), block).loudness.truePeakDbtp);
  assert.ok((peaks[93] ?? 0) < -15, `before the loud block: ${peaks[93]}`);
  for (let k = 94; k <= 140; k++)
    assert.ok((peaks[k] ?? -99) > -2, `block ${k}, within a second of the loud one: ${peaks[k]}`);
  // The true-peak filter's delay carries the loud block's end into the next block (95).
  assert.ok((peaks[142] ?? 0) < -15, `a second later: ${peaks[142]}`);
});

test('the integrated loudness reported is refreshed once a second of media, not every block', () => {
  const stage = new AudioStage({ sampleRate: RATE, channels: 2 }, 0.99);
  const tone = toneBlocks({
    sampleRate: RATE,
    channels: 2,
    frequency: 1000,
    segments: [
      { dbfs: -30, seconds: 2 },
      { dbfs: -10, seconds: 2 },
    ],
  });
  const changes: number[] = [];
  let last: number | null = null;
  let i = 0;
  for (const block of tone) {
    const t = blocks(i++);
    const { integratedLufs } = stage.push(t, block).loudness;
    if (integratedLufs !== last) changes.push(t);
    last = integratedLufs;
  }
  assert.deepEqual(
    changes.map((t) => Math.floor(t)),
    [1, 2, 3],
    `changed at ${changes.join(', ')} s`,
  );
  assert.ok(
    stage.integratedLufs !== null && stage.integratedLufs > (last ?? 0),
    'the run-end value includes the last, louder second',
  );
});

test("A/V drift is measured from the median of a session's first 3 s of offsets: a constant decoder delay is no drift, a 0.5 s move is", () => {
  const drift = new AvSyncDrift();
  const fps = 25;
  const first: (number | null)[] = [];
  for (let k = 0; k < 3 * fps; k++) first.push(drift.push(0.04, fps));
  assert.equal(first.filter((d) => d === null).length, 3 * fps - 1, 'no drift until 3 s of offsets make the baseline');
  assert.equal(first.at(-1), 0);
  const moved: (number | null)[] = [];
  for (let k = 0; k < 20; k++) moved.push(drift.push(0.54, fps));
  // The median of the last 30 offsets moves once 15 of them carry the new offset.
  assert.equal(
    moved.findIndex((d) => d !== null && Math.abs(d - 0.5) < 1e-9),
    14,
  );
  assert.ok(moved.slice(0, 14).every((d) => d === 0));
  drift.reset();
  assert.equal(drift.push(0.54, fps), null, 'a new session measures its own baseline');
});
