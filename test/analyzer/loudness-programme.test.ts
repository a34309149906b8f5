/**
 * Programme loudness reports end to end: a real file through the CLI with a short report period,
 * the period's integrated loudness judged against the profile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedMedia } from '../media/fixtures.js';
import { runCli } from './run-cli.js';

/** 10 s of stereo 1 kHz: -30 LUFS for 5 s, then -23 LUFS. */
function quietThenRight(): Promise<string> {
  return cachedMedia('programme-quiet-then-right', 'wav', (out) => [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'aevalsrc=exprs=if(lt(t\\,5)\\,0.03162\\,0.07079)*sin(2*PI*1000*t):channel_layout=stereo:duration=10:sample_rate=48000',
    '-c:a',
    'pcm_f32le',
    out,
  ]);
}

/** The loudness events of the file analysed with `loudness` as the loudness detector's options (YAML flow mapping). */
async function loudnessEvents(
  loudness: string,
): Promise<{ start: number; end: number; detail?: Record<string, unknown> }[]> {
  const dir = mkdtempSync(join(tmpdir(), 'programme-'));
  try {
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `detectors:\n  loudness: ${loudness}\n`);
    const result = await runCli(['analyze', await quietThenRight(), '--config', config]);
    assert.equal(result.code, 0, result.stderr);
    return result.events.filter((e) => e.type === 'loudness');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a 5 s report period at -30 LUFS is one programme loudness event under ebu-r128, from 0 to 5 s', async () => {
  const events = await loudnessEvents('{ profile: ebu-r128, reportPeriod: 5 }');
  assert.equal(events.length, 1, JSON.stringify(events));
  const [event] = events;
  assert.ok(event);
  assert.equal(event.start, 0);
  assert.ok(Math.abs(event.end - 5) < 0.05, `end ${event.end}`);
  const detail = event.detail ?? {};
  assert.equal(detail.rule, 'programme');
  assert.equal(detail.direction, 'too quiet');
  const integrated = Number(detail.integratedLufs);
  assert.ok(Math.abs(integrated - -30) < 0.1, `integrated ${integrated}`);
});

test('the same file under a custom profile of -26.5 LUFS +/-4 LU has no programme event', async () => {
  const events = await loudnessEvents(
    '{ profile: custom, programmeTargetLufs: -26.5, programmeToleranceLu: 4, reportPeriod: 5 }',
  );
  assert.deepEqual(events, []);
});
