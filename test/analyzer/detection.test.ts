/**
 * End to end through the CLI on generated H.264/AAC clips with defects on a known
 * schedule: every injected defect is one event at the right time, and nothing else fires.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cachedMedia, syntheticClip } from '../media/fixtures.js';
import { only, runCli } from './run-cli.js';

const FRAME = 0.04; // 25 fps
/** ffmpeg's arguments up to a lavfi graph as its input. */
const FROM_LAVFI = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i'] as const;

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);
}

test('a scheduled clip yields one event per injected defect, at the injected times', async () => {
  const clip = await syntheticClip('schedule-640', {
    width: 640,
    height: 360,
    fps: 25,
    duration: 30,
    // -g 25: a keyframe every second, so the freeze spans two encoder keyframes.
    videoCodecArgs: ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-pix_fmt', 'yuv420p'],
    schedule: [
      { type: 'black', start: 4, end: 7 },
      { type: 'freeze', start: 9, end: 12 },
      { type: 'silence', start: 13, end: 16 },
      { type: 'blur', start: 18, end: 21.5 },
      { type: 'corrupt', start: 23, end: 24 },
      { type: 'clipping', start: 26, end: 27 },
    ],
  });
  const r = await runCli(['analyze', clip, '--format', 'jsonl']);
  assert.equal(r.code, 0, r.stderr);

  const black = only(r, 'black');
  near(black.start, 4, FRAME, 'black start');
  near(black.end, 7, FRAME, 'black end');

  const freeze = only(r, 'freeze'); // one event although keyframes at 10 s and 11 s re-encode the picture
  near(freeze.start, 9, FRAME, 'freeze start');
  near(freeze.end, 12, FRAME, 'freeze end');

  const silence = only(r, 'silence');
  near(silence.start, 13, 0.1, 'silence start');
  near(silence.end, 16, 0.1, 'silence end');

  const blur = only(r, 'blur');
  near(blur.start, 18, 2 * FRAME, 'blur start');
  near(blur.end, 21.5, 2 * FRAME, 'blur end');

  // Damaged packets from 23 s; the decoder's frame threads report damage up to a few frames
  // before the damaged frame comes out, hence the 0.3 s allowance before the onset.
  const blocky = only(r, 'blockiness');
  assert.ok(blocky.start >= 22.7 && blocky.start < 23.3, `blockiness starts with the damage: ${blocky.start}`);
  near(blocky.end, 24, FRAME, 'blockiness clears at the next clean keyframe');
  const decode = r.events.filter((e) => e.type === 'decode_error');
  assert.ok(decode.length >= 1, 'the damaged packets are reported as decode errors');
  for (const e of decode)
    assert.ok(e.start >= 22.7 && e.start < 24.1, `decode error inside the damaged second: ${e.start}`);

  const clipping = only(r, 'clipping');
  near(clipping.start, 26, 0.1, 'clipping start');
  near(clipping.end, 27, 0.15, 'clipping end');

  const unexpected = r.events.filter(
    (e) => !['black', 'freeze', 'silence', 'blur', 'blockiness', 'decode_error', 'clipping'].includes(e.type),
  );
  assert.deepEqual(unexpected, [], 'no other defect fires on this clip');
  for (const e of r.events) {
    assert.ok(!Number.isNaN(Date.parse(e.wallclock)), `wallclock is ISO 8601: ${e.wallclock}`);
    assert.ok(e.end >= e.start);
  }
});

test('12 s of quiet programme is one loudness event; the rest of the clip is in range', async () => {
  const clip = await syntheticClip(
    'quiet-audio',
    {
      width: 320,
      height: 180,
      fps: 25,
      duration: 24,
      video: false,
      schedule: [{ type: 'quiet', start: 5, end: 17 }],
    },
    'm4a',
  );
  const r = await runCli(['analyze', clip, '--format', 'jsonl']);
  assert.equal(r.code, 0, r.stderr);
  const loud = only(r, 'loudness');
  // Short-term loudness integrates 3 s, so it leaves the band within 3 s of the drop and returns within 3 s.
  assert.ok(loud.start >= 5 && loud.start <= 8, `loudness start ${loud.start}`);
  assert.ok(loud.end >= 17 && loud.end <= 20, `loudness end ${loud.end}`);
  assert.deepEqual(
    r.events.filter((e) => e.type !== 'loudness'),
    [],
  );
});

test(
  'an encoder starved of bitrate (qp 51 for 4 s between crf 20) is one blockiness event, with no decode error',
  { timeout: 120_000 },
  async () => {
    const segment = (i: number, quality: string[]): Promise<string> =>
      cachedMedia(`starve-seg${i}`, 'ts', (out) => [
        ...FROM_LAVFI,
        `mandelbrot=s=640x360:r=25,trim=start=${i * 4}:duration=4,setpts=PTS-STARTPTS`,
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        ...quality,
        '-g',
        '25',
        '-f',
        'mpegts',
        '-y',
        out,
      ]);
    const parts = [await segment(0, ['-crf', '20']), await segment(1, ['-qp', '51']), await segment(2, ['-crf', '20'])];
    const clip = await cachedMedia('starve', 'ts', (out) => [
      '-hide_banner',
      '-loglevel',
      'error',
      '-i',
      `concat:${parts.join('|')}`,
      '-c',
      'copy',
      '-f',
      'mpegts',
      '-y',
      out,
    ]);
    const r = await runCli(['analyze', clip]);
    assert.equal(r.code, 0, r.stderr);
    const blocky = only(r, 'blockiness');
    near(blocky.start, 4, 2 * FRAME, 'blockiness start');
    near(blocky.end, 8, 2 * FRAME, 'blockiness end');
    assert.deepEqual(
      r.events.filter((e) => e.type === 'decode_error'),
      [],
      'the bitstream itself is fine',
    );
  },
);

/**
 * A 4:3 picture pillarboxed into 960x540 at x = 120, on the coding grid as broadcasters pad:
 * a still texture (grey noise softened by gblur 1.5), coded `codec`, `graph` applied after it.
 */
function pillarboxed(name: string, graph: string, codec: readonly string[]): Promise<string> {
  return cachedMedia(name, 'mp4', (out) => [
    ...FROM_LAVFI,
    'color=gray:s=720x540:r=25:d=12,format=yuv420p,noise=alls=80,gblur=sigma=1.5',
    '-filter_complex',
    `[0:v]${graph},pad=960:540:120:0,format=yuv420p[v]`,
    '-map',
    '[v]',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    ...codec,
    '-y',
    out,
  ]);
}

test('a pillarboxed picture whose detail fades away is no blockiness: the bars are no block edge', async () => {
  // Coded losslessly, so no block edge exists at all. The bars' edge on the grid read as
  // blockiness 1.10 on the texture and 1.71 once a 4 s dissolve had blurred it (sigma 5,
  // detail 24 -> 2.8): blocky from 6.16 s to the end before the bars were left out.
  const clip = await pillarboxed(
    'pillarbox-dissolve-to-soft',
    'split[a][b];[b]gblur=sigma=5[soft];[a][soft]xfade=transition=fade:duration=4:offset=4',
    ['-qp', '0', '-g', '50'],
  );
  const r = await runCli(['analyze', clip, '--format', 'jsonl']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    r.events.filter((e) => e.type === 'blockiness'),
    [],
  );
});

test('in the same pillarboxed picture, qp 51 without deblocking is one blockiness event', async () => {
  // Frames 100-175 at qp 51; the picture is still, so the first keyframe in the zone (5 s) and
  // the next (6 s) carry the damage until the crf 20 keyframe at 7 s: blockiness 1.29 and 2.1
  // inside the bars against 1.00 before.
  const clip = await pillarboxed('pillarbox-qp51', 'null', [
    '-crf',
    '20',
    '-g',
    '25',
    '-x264-params',
    'zones=100,175,q=51:no-deblock=1',
  ]);
  const r = await runCli(['analyze', clip, '--format', 'jsonl']);
  assert.equal(r.code, 0, r.stderr);
  const blocky = only(r, 'blockiness');
  near(blocky.start, 5, 2 * FRAME, 'blockiness start');
  near(blocky.end, 7, 2 * FRAME, 'blockiness end');
});
