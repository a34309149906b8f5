/**
 * The analyzer reads each stream's own timestamps (-copyts); libavformat must still unwrap the
 * 33-bit MPEG-TS clock. A clip whose PTS wraps 4.3 s in keeps one continuous timeline: its
 * black picture is reported where it is, and nothing else is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cachedMedia } from '../media/fixtures.js';
import { runCli } from './run-cli.js';

/** 2^33 ticks of 90 kHz, in seconds. */
const PTS_WRAP_SECONDS = 2 ** 33 / 90_000;

test(
  'a 33-bit PTS wrap mid-clip: black at 7-10 s is one black event at 7-10 s, nothing else',
  { timeout: 60_000 },
  async () => {
    const offset = Math.floor(PTS_WRAP_SECONDS - 4.3);
    const clip = await cachedMedia('pts-wrap', 'ts', (out) => [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=s=320x180:r=25:d=12',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=48000:d=12',
      '-vf',
      "drawbox=c=black:t=fill:enable='between(t,7,9.99)'",
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-g',
      '25',
      '-c:a',
      'aac',
      '-output_ts_offset',
      String(offset),
      '-f',
      'mpegts',
      '-y',
      out,
    ]);
    const r = await runCli(['analyze', clip, '--format', 'jsonl']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.events.map((e) => e.type),
      ['black'],
      JSON.stringify(r.events),
    );
    assert.ok(Math.abs(r.events[0]!.start - 7) < 0.05, `black starts at 7 s: ${r.events[0]!.start}`);
    assert.ok(Math.abs(r.events[0]!.end - 10) < 0.05, `and ends at 10 s: ${r.events[0]!.end}`);
  },
);
