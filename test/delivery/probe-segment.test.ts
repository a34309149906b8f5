/**
 * A segment probe answered from the segment's own bytes (PMT stream types, the video's SPS) is
 * ffprobe's answer: on H.264 of every common size, frame rate, profile and scan (cropped 1080,
 * odd 4:4:4 crops, 29.97, 59.94, 23.976, interlaced tff) and HEVC, with and without AAC, AC-3,
 * E-AC-3, MP2 and MP3. Where the bytes do not decide it (Opus in a private stream, MPEG-2 video,
 * fragmented MP4, VUI timing that the timestamps contradict) ffprobe answers. And a ladder's
 * probes spawn no ffprobe.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffprobeSegment, probeFromParameterSets, probeSegment } from '../../analyzer/delivery/probe-segment.js';
import { runFfmpeg } from '../media/fixtures.js';
import { eventually, ladderMedia, watch } from './watch.js';

let dir = '';
before(() => (dir = mkdtempSync(join(tmpdir(), 'streamqc-probe-segment-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Half a second of lavfi test picture (and a tone where `audio` names a codec), encoded as given, in MPEG-TS unless told. */
async function clip(
  name: string,
  picture: string,
  video: string[],
  audio: string | null,
  container: string[] = ['-f', 'mpegts'],
): Promise<Buffer> {
  const out = join(dir, name);
  await runFfmpeg(
    [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', picture],
      ...(audio === null ? [] : ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-c:a', audio]),
      ...['-t', '0.5', ...video, ...container, out],
    ],
    { what: `making ${name}` },
  );
  return readFileSync(out);
}

const x264 = (...more: string[]): string[] => ['-c:v', 'libx264', '-preset', 'ultrafast', ...more];
const x265 = (...more: string[]): string[] => [
  '-c:v',
  'libx265',
  '-preset',
  'ultrafast',
  '-x265-params',
  'log-level=error',
  ...more,
];
const INTERLACED = ['-flags', '+ildct+ilme', '-x264opts', 'tff=1'];

/** Clips the JS answers: name, lavfi picture, video options, audio codec, and the picture ffprobe must find. */
const ANSWERED: [string, string, string[], string | null][] = [
  ['1080p25-high-aac.ts', 'testsrc2=size=1920x1080:rate=25', x264('-profile:v', 'high'), 'aac'],
  ['480p29.97-baseline-ac3.ts', 'testsrc2=size=854x480:rate=30000/1001', x264('-profile:v', 'baseline'), 'ac3'],
  ['720p59.94-main-mp3.ts', 'testsrc2=size=1280x720:rate=60000/1001', x264('-profile:v', 'main'), 'libmp3lame'],
  [
    '360p23.976-high10-eac3.ts',
    'testsrc2=size=640x360:rate=24000/1001',
    x264('-profile:v', 'high10', '-pix_fmt', 'yuv420p10le'),
    'eac3',
  ],
  // 4:4:4 crops by single samples: 853x481 is coded as 864x496.
  ['odd-444-50.ts', 'testsrc2=size=856x484:rate=50,format=yuv444p,crop=853:481', x264(), 'aac'],
  ['576i25-tff-mp2.ts', 'testsrc2=size=720x576:rate=25', x264(...INTERLACED), 'mp2'],
  ['1080i29.97-tff.ts', 'testsrc2=size=1920x1080:rate=30000/1001', x264(...INTERLACED), 'ac3'],
  ['hevc-720p50-aac.ts', 'testsrc2=size=1280x720:rate=50', x265(), 'aac'],
  ['hevc-odd-444-25.ts', 'testsrc2=size=856x484:rate=25,format=yuv444p,crop=853:481', x265(), null],
  [
    'hevc-main10-29.97-ac3.ts',
    'testsrc2=size=854x478:rate=30000/1001',
    x265('-pix_fmt', 'yuv420p10le', '-profile:v', 'main10'),
    'ac3',
  ],
];

describe('segment probe from the segment bytes', () => {
  for (const [name, picture, video, audio] of ANSWERED) {
    it(`${name}: the same answer as ffprobe`, async () => {
      const bytes = await clip(name, picture, video, audio);
      const ffprobe = await ffprobeSegment(bytes);
      assert.ok(ffprobe !== null && ffprobe.width !== null, `ffprobe reads ${name}`);
      assert.deepEqual(probeFromParameterSets(bytes), ffprobe);
    });
  }

  it('1920x1080 is read as cropped from 1088 coded lines, 59.94 fps as 60000/1001', async () => {
    const bytes = await clip('1080p59.94.ts', 'testsrc2=size=1920x1080:rate=60000/1001', x264(), null);
    assert.deepEqual(probeFromParameterSets(bytes), {
      width: 1920,
      height: 1080,
      frameRate: 60000 / 1001,
      codecs: ['h264'],
    });
  });

  it('audio-only segments: the codecs their stream types (MPEG audio: its frame headers) name', async () => {
    for (const codec of ['aac', 'ac3', 'eac3', 'mp2']) {
      const bytes = await clip(`audio-${codec}.ts`, 'testsrc2', ['-vn'], codec);
      const js = probeFromParameterSets(bytes);
      assert.deepEqual(js, { width: null, height: null, frameRate: null, codecs: [codec] });
      assert.deepEqual(js, await ffprobeSegment(bytes));
    }
  });

  it('where the bytes do not decide the answer, ffprobe gives it', async () => {
    const base = 'testsrc2=size=640x360:rate=25';
    const h264 = await clip('plain.ts', base, x264(), null);
    writeFileSync(join(dir, 'plain-in.ts'), h264);
    const remuxed = async (name: string, bsf: string): Promise<Buffer> => {
      const out = join(dir, name);
      const args = ['-hide_banner', '-loglevel', 'error', '-i', join(dir, 'plain-in.ts'), '-c', 'copy'];
      await runFfmpeg([...args, '-bsf:v', bsf, '-f', 'mpegts', out], { what: `making ${name}` });
      return readFileSync(out);
    };
    const cases: [string, Buffer][] = [
      // A private stream (0x06): the codec is in its descriptors, which the JS does not read.
      ['H.264 with Opus audio', await clip('opus.ts', base, x264(), 'libopus')],
      ['MPEG-2 video', await clip('mpeg2.ts', base, ['-c:v', 'mpeg2video'], 'aac')],
      [
        'fragmented MP4',
        await clip('frag.mp4', base, x264(), 'aac', ['-movflags', 'frag_keyframe+empty_moov', '-f', 'mp4']),
      ],
      // VUI timing of 29.97 fps on frames 40 ms apart; then 25 fps VUI on frames 20 ms apart.
      ['VUI timing other than the timestamps', await remuxed('vui-lies.ts', 'h264_metadata=tick_rate=60000/1001')],
      ['timestamps other than the VUI timing', await remuxed('fast.ts', 'setts=ts=TS/2')],
    ];
    for (const [what, bytes] of cases) {
      assert.equal(probeFromParameterSets(bytes), null, `${what}: not answered from the bytes`);
      const ffprobe = await ffprobeSegment(bytes);
      assert.ok(ffprobe !== null && ffprobe.codecs.length > 0, `${what}: ffprobe reads it`);
      assert.deepEqual(await probeSegment(bytes), ffprobe, what);
    }
  });

  it("a followed ladder's probes spawn no ffprobe, and their answers are ffprobe's", async () => {
    // An ffprobe that notes each spawn, then runs the real one.
    const spawns = join(dir, 'ffprobe-spawns');
    writeFileSync(spawns, '');
    const counting = join(dir, 'counting-ffprobe');
    writeFileSync(counting, `#!/bin/sh\necho spawn >> '${spawns}'\nexec ffprobe "$@"\n`);
    chmodSync(counting, 0o755);
    const spawned = (): number => readFileSync(spawns, 'utf8').split('\n').filter(Boolean).length;
    // The wrapper counts where a probe does spawn it (MPEG-2 video is ffprobe's to read).
    await probeSegment(
      await clip('counted.ts', 'testsrc2=size=320x180:rate=25', ['-c:v', 'mpeg2video'], null),
      counting,
    );
    assert.equal(spawned(), 1, 'the counting ffprobe counts a spawn');

    const { media, remove } = await ladderMedia();
    try {
      const w = await watch(media, { ffprobePath: counting });
      try {
        await eventually('every rendition probed', () =>
          new Set(w.probes.map((p) => p.rendition)).size === media.length ? true : undefined,
        );
      } finally {
        await w.stop();
      }
      assert.equal(spawned(), 1, 'no ffprobe spawned by the ladder');
      for (const m of media) {
        const probe = w.probes.find((p) => p.probed.height === m.spec.height);
        assert.ok(probe, `${m.spec.name} probed`);
        assert.deepEqual(probe.probed, await ffprobeSegment(m.segments[0]!), m.spec.name);
      }
    } finally {
      remove();
    }
  });
});
