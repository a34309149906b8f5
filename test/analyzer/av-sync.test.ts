/**
 * A/V sync: audio timestamps that jump 0.5 s ahead of video mid-stream while the packets
 * keep their places (a live encoder's drifting audio clock) are one av_sync event from the
 * jump to the end; the untouched stream has none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticClip } from '../media/fixtures.js';
import { shiftAudioTimestamps } from '../media/ts-pts.js';
import { only, runCli } from './run-cli.js';

test('audio running 0.5 s ahead of video from 8 s on is one av_sync event from about 8 s', { timeout: 60_000 }, async () => {
  const clip = await syntheticClip('av-base', { width: 320, height: 180, fps: 25, duration: 16, schedule: [] });
  const clean = await runCli(['analyze', clip]);
  assert.equal(clean.code, 0, clean.stderr);
  assert.deepEqual(clean.events.filter((e) => e.type === 'av_sync'), [], 'no av_sync on the untouched stream');

  const dir = mkdtempSync(join(tmpdir(), 'streamqc-av-'));
  const drifted = join(dir, 'drifted.ts');
  writeFileSync(drifted, shiftAudioTimestamps(readFileSync(clip), 8, 0.5));
  const r = await runCli(['analyze', drifted]);
  assert.equal(r.code, 0, r.stderr);
  const av = only(r, 'av_sync');
  // The offset is a median over about a second of frames, so it crosses 0.1 s within ~0.5 s.
  assert.ok(av.start >= 7.5 && av.start <= 9, `av_sync starts near the jump: ${av.start}`);
  assert.ok(av.end >= 15.5, `and lasts to the end: ${av.end}`);
  assert.ok(Math.abs(Number(av.detail?.offsetSeconds ?? av.detail?.offset) - 0.5) < 0.1, JSON.stringify(av.detail));
});
