/**
 * A/V sync: audio timestamps that jump 0.5 s ahead of video mid-stream while the packets
 * keep their places (a live encoder's drifting audio clock) are one av_sync event from the
 * jump to the end; the untouched stream has none. A jump of the audio clock, either way,
 * never moves the video's frame times: a black picture after it is reported where it is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticClip } from '../media/fixtures.js';
import { shiftAudioTimestamps } from '../media/ts-pts.js';
import { only, runCli } from './run-cli.js';

const FRAME = 1 / 25;

test(
  'audio running 0.5 s ahead of video from 8 s on is one av_sync event from about 8 s',
  { timeout: 60_000 },
  async () => {
    const clip = await syntheticClip('av-base', { width: 320, height: 180, fps: 25, duration: 16, schedule: [] });
    const clean = await runCli(['analyze', clip]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.deepEqual(
      clean.events.filter((e) => e.type === 'av_sync'),
      [],
      'no av_sync on the untouched stream',
    );

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
  },
);

for (const shift of [0.5, -0.5]) {
  test(
    `audio ${shift > 0 ? 'ahead of' : 'behind'} video by 0.5 s from 6 s to 10 s leaves a black picture at 13-16 s where it is`,
    { timeout: 60_000 },
    async () => {
      const clip = await syntheticClip('av-black', {
        width: 320,
        height: 180,
        fps: 25,
        duration: 18,
        schedule: [{ type: 'black', start: 13, end: 16 }],
      });
      const dir = mkdtempSync(join(tmpdir(), 'streamqc-av-'));
      const drifted = join(dir, 'drifted.ts');
      // Shifting back from the (already shifted) end selects exactly the audio originally at or after it.
      const window = shiftAudioTimestamps(readFileSync(clip), 6, shift);
      writeFileSync(drifted, shiftAudioTimestamps(window, 10 + shift, -shift));
      const r = await runCli(['analyze', drifted]);
      assert.equal(r.code, 0, r.stderr);
      const av = only(r, 'av_sync');
      assert.ok(av.start >= 5.5 && av.start <= 7, `av_sync starts near the jump: ${av.start}`);
      assert.ok(av.end >= 9.5 && av.end <= 11, `and ends near the jump back: ${av.end}`);
      assert.ok(Math.abs(Number(av.detail?.offsetSeconds) - shift) < 0.1, JSON.stringify(av.detail));
      const black = only(r, 'black');
      assert.ok(Math.abs(black.start - 13) <= FRAME + 0.05, `black starts at 13 s: ${black.start}`);
      assert.ok(Math.abs(black.end - 16) <= FRAME + 0.05, `black ends at 16 s: ${black.end}`);
    },
  );
}
