/**
 * The accuracy bench's runners on a real small clip with known defects: the ffmpeg peer and
 * streamqc (file mode) find them within the scoring tolerances, and a live run with a 5 s
 * outage of the sender yields a stall on the clip's timeline.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { syntheticClip } from '../media/fixtures.js';
import { runFfmpegPeer } from '../bench/accuracy/run-ffmpeg.js';
import { runStreamqc } from '../bench/accuracy/run-streamqc.js';
import { matchClip, TOLERANCES } from '../bench/accuracy/score.js';
import type { CorpusClip, DefectEvent, DefectType, ToolRun } from '../bench/accuracy/types.js';

const truth: DefectEvent[] = [
  { type: 'black', start: 4, end: 7 },
  { type: 'freeze', start: 9, end: 12 },
  { type: 'silence', start: 14, end: 17 },
];

async function clip(mode: CorpusClip['mode'], outages: CorpusClip['outages'] = []): Promise<CorpusClip> {
  const path = await syntheticClip('accuracy-peer', {
    width: 320,
    height: 180,
    fps: 25,
    duration: 22,
    schedule: truth.map((e) => ({ type: e.type as 'black' | 'freeze' | 'silence', start: e.start, end: e.end })),
  });
  return {
    name: `peer-${mode}`,
    path,
    mode,
    outages,
    container: 'mpegts',
    videoCodec: 'h264',
    width: 320,
    height: 180,
    fps: 25,
    duration: 22,
    content: 'testsrc2, tone',
    truth: [...truth, ...outages.map((o) => ({ type: 'stall' as const, ...o }))],
  };
}

/** Each truth event of `types` is matched one-to-one within its tolerance, with no extra detection. */
function assertFound(run: ToolRun, expected: DefectEvent[], types: DefectType[]): void {
  for (const type of types) {
    const m = matchClip(type, run.clip, expected, run.events, TOLERANCES[type].onsetSeconds);
    assert.equal(m.misses.length, 0, `${run.tool} missed ${type}: ${JSON.stringify(run.events)}`);
  }
}

test('the ffmpeg peer finds a 3 s black, freeze and silence within tolerance', { timeout: 60_000 }, async () => {
  const run = await runFfmpegPeer(await clip('file'));
  assertFound(run, truth, ['black', 'freeze', 'silence']);
  const black = run.events.find((e) => e.type === 'black');
  assert.ok(black && Math.abs(black.start - 4) < 0.05 && Math.abs(black.end - 7) < 0.05, JSON.stringify(black));
  assert.ok(run.wallSeconds > 0 && run.cpuSeconds > 0);
  // Nothing else was injected: no loudness, clipping, blockiness or blur.
  assert.deepEqual(
    run.events.filter((e) => !['black', 'freeze', 'silence'].includes(e.type)),
    [],
  );
});

test('streamqc finds the same black, freeze and silence, and nothing else', { timeout: 60_000 }, async () => {
  const run = await runStreamqc(await clip('file'));
  assertFound(run, truth, ['black', 'freeze', 'silence']);
  assert.deepEqual(run.events.map((e) => e.type).sort(), ['black', 'freeze', 'silence']);
});

test(
  "live: a 5 s outage of the sender is one stall at the outage, on the clip's timeline",
  { timeout: 90_000 },
  async () => {
    // Between the black (4..7) and the silence (14..17); the freeze (9..12) is not sent.
    const outage = { start: 7.5, end: 12.5 };
    const run = await runStreamqc(await clip('live', [outage]));
    const stalls = run.events.filter((e) => e.type === 'stall');
    assert.equal(stalls.length, 1, JSON.stringify(run.events));
    const m = matchClip('stall', run.clip, [{ type: 'stall', ...outage }], stalls, TOLERANCES.stall.onsetSeconds);
    assert.equal(m.matches.length, 1, JSON.stringify(stalls));
    assert.ok(
      stalls[0]!.end > 12 && stalls[0]!.end < 14,
      `the stall ends when media returns: ${JSON.stringify(stalls[0])}`,
    );
    // Defects before and after the outage land on the clip's times too.
    assertFound(run, truth, ['black', 'silence']);
  },
);
