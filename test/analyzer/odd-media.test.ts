/**
 * Odd but legal media, analysed as a user would: pictures of 10 bits, 4:4:4 at odd sizes, 16
 * pixels on a side, a rotation flag, 1 and 120 frames a second, NTSC's 29.97, a gap in a
 * variable-rate stream, interlaced MPEG-2, VP9, AV1, FFV1, PNG with alpha, and audio as Opus,
 * FLAC, 24-bit PCM, AC-3 5.1, MP2 or a second track. Every one is clean content (ffmpeg's
 * testsrc2 and a tone), so the contract is: exit 0, every frame and every second of the first
 * audio track counted, and no defect at all (a false alarm on a format is a defect of ours).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cachedMedia, runCommand } from '../media/fixtures.js';
import { runCli, summaryLine } from './run-cli.js';

interface OddMedia {
  name: string;
  ext: string;
  /** ffmpeg's arguments before the output file. */
  args: string[];
  /** If given, a file made first by these arguments is the input of `args` (`-i` it, then `args`). */
  source?: string[];
  /** What ffprobe must show of the video stream (`-show_entries`), or the file is not the odd one meant. */
  made?: { entries: string; match: RegExp };
  frames: number;
  /** Seconds of audio in the first track; 0: none. */
  audioSeconds: number;
}

const picture = (size: string, rate: string, seconds: number): string[] => [
  '-f',
  'lavfi',
  '-i',
  `testsrc2=size=${size}:rate=${rate}:duration=${seconds}`,
];
const tone = (seconds: number, frequency = 440): string[] => [
  '-f',
  'lavfi',
  '-i',
  `sine=frequency=${frequency}:sample_rate=48000:duration=${seconds}`,
];
const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast'];
/** Most clips: 3 s of 320x240 at 25 fps, with the tone. */
const SCENE = [...picture('320x240', '25', 3), ...tone(3)];

const MEDIA: readonly OddMedia[] = [
  {
    name: 'h264-10bit',
    ext: 'mp4',
    args: [...SCENE, ...x264, '-pix_fmt', 'yuv420p10le', '-c:a', 'aac'],
    frames: 75,
    audioSeconds: 3,
  },
  {
    name: 'h264-444-odd-size',
    ext: 'mkv',
    args: [...picture('321x241', '25', 3), ...tone(3), ...x264, '-pix_fmt', 'yuv444p', '-c:a', 'aac'],
    frames: 75,
    audioSeconds: 3,
  },
  {
    name: 'tiny-16x16',
    ext: 'mp4',
    args: [...picture('16x16', '25', 3), ...tone(3), ...x264],
    frames: 75,
    audioSeconds: 3,
  },
  { name: 'wide-4096x16', ext: 'mkv', args: [...picture('4096x16', '25', 3), ...x264], frames: 75, audioSeconds: 0 },
  { name: 'tall-16x2048', ext: 'mkv', args: [...picture('16x2048', '25', 3), ...x264], frames: 75, audioSeconds: 0 },
  {
    name: 'rotated-90',
    ext: 'mp4',
    // A display matrix: ffmpeg 5.1 writes one from the rotate tag when it copies the stream only.
    source: [...SCENE, ...x264, '-c:a', 'aac'],
    args: ['-c', 'copy', '-metadata:s:v:0', 'rotate=90'],
    made: { entries: 'stream_side_data=rotation', match: /^-?90$/m },
    frames: 75,
    audioSeconds: 3,
  },
  {
    name: 'one-fps',
    ext: 'mp4',
    args: [...picture('320x240', '1', 6), ...tone(6), ...x264],
    frames: 6,
    audioSeconds: 6,
  },
  {
    name: '120-fps',
    ext: 'mkv',
    args: [...picture('320x240', '120', 3), ...tone(3), ...x264, '-c:a', 'flac'],
    frames: 360,
    audioSeconds: 3,
  },
  {
    name: 'ntsc-29.97',
    ext: 'mp4',
    args: [...picture('320x240', '30000/1001', 3), ...tone(3), ...x264, '-c:a', 'aac'],
    frames: 90,
    audioSeconds: 3,
  },
  {
    name: 'vfr-1s-gap',
    ext: 'mkv',
    // 75 frames, the 26th shown 1 s after the 25th: a still picture held, as variable-rate streams do.
    args: [
      ...picture('320x240', '25', 3),
      ...['-vf', "setpts='if(lt(N,25),N,N+25)/25/TB'", '-fps_mode', 'vfr'],
      ...x264,
    ],
    made: { entries: 'frame=pts_time', match: /^0\.960000\n2\.000000$/m },
    frames: 75,
    audioSeconds: 0,
  },
  {
    name: 'interlaced-mpeg2-mp2',
    ext: 'ts',
    args: [
      ...picture('720x576', '25', 3),
      ...tone(3),
      ...['-c:v', 'mpeg2video', '-flags', '+ilme+ildct', '-top', '1', '-c:a', 'mp2'],
    ],
    frames: 75,
    audioSeconds: 3,
  },
  {
    name: 'vp9-opus',
    ext: 'webm',
    args: [...SCENE, '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-c:a', 'libopus'],
    frames: 75,
    audioSeconds: 3,
  },
  {
    name: 'av1-opus',
    ext: 'mkv',
    args: [...SCENE, '-c:v', 'libaom-av1', '-cpu-used', '8', '-c:a', 'libopus'],
    frames: 75,
    audioSeconds: 3,
  },
  {
    name: 'ffv1-gray-flac',
    ext: 'mkv',
    args: [...SCENE, '-vf', 'format=gray', '-c:v', 'ffv1', '-c:a', 'flac'],
    frames: 75,
    audioSeconds: 3,
  },
  {
    name: 'png-alpha',
    ext: 'mov',
    args: [...picture('320x240', '25', 3), '-vf', 'format=rgba', '-c:v', 'png'],
    frames: 75,
    audioSeconds: 0,
  },
  {
    name: 'pcm24',
    ext: 'mov',
    args: [...SCENE, ...x264, '-c:a', 'pcm_s24le'],
    frames: 75,
    audioSeconds: 3,
  },
  {
    name: 'ac3-5.1',
    ext: 'ts',
    args: [
      ...picture('320x240', '25', 3),
      ...['-f', 'lavfi', '-i', 'aevalsrc=0.1*sin(440*2*PI*t)|0.1*sin(660*2*PI*t)|0|0|0|0:c=5.1:s=48000:d=3'],
      ...x264,
      ...['-c:a', 'ac3'],
    ],
    frames: 75,
    audioSeconds: 3,
  },
  {
    name: 'two-audio-tracks',
    ext: 'ts',
    args: [...SCENE, ...tone(3, 880), ...['-map', '0', '-map', '1', '-map', '2'], ...x264, ...['-c:a', 'aac']],
    frames: 75,
    audioSeconds: 3,
  },
];

interface Summary {
  counters: { frames: number; audioSeconds: number; decodeErrors: number; defects: Record<string, number> };
}

for (const media of MEDIA) {
  test(`${media.name}.${media.ext}: every frame and second of audio analysed, no defect`, async () => {
    const quiet = ['-hide_banner', '-loglevel', 'error', '-y'];
    const { source } = media;
    const input = source
      ? ['-i', await cachedMedia(`odd-${media.name}-source`, media.ext, (out) => [...quiet, ...source, out])]
      : [];
    const path = await cachedMedia(`odd-${media.name}`, media.ext, (out) => [...quiet, ...input, ...media.args, out]);
    if (media.made) {
      const probe = await runCommand(
        'ffprobe',
        ['-v', 'error', '-select_streams', 'v', '-show_entries', media.made.entries, '-of', 'csv=p=0', path],
        { what: `ffprobe of ${path}` },
      );
      assert.match(probe.stdout.toString('utf8'), media.made.match, `${path} is not what the test means`);
    }
    const result = await runCli(['analyze', path, '--format', 'jsonl'], 120_000, { STREAMQC_LOG_LEVEL: 'info' });
    assert.equal(result.code, 0, result.stderr.slice(-2000));
    const { counters } = summaryLine(result) as Summary;
    assert.ok(Math.abs(counters.frames - media.frames) <= 1, `${counters.frames} frames, ${media.frames} made`);
    assert.ok(
      Math.abs(counters.audioSeconds - media.audioSeconds) <= 0.1,
      `${counters.audioSeconds} s of audio, ${media.audioSeconds} s made`,
    );
    assert.equal(counters.decodeErrors, 0);
    assert.deepEqual(
      result.events.map((e) => `${e.type} ${e.start}-${e.end}`),
      [],
      'clean content raised defects',
    );
  });
}
