/**
 * A segment's media fingerprint (what a probe would find, read without ffprobe) on segments
 * ffmpeg makes: equal for two segments of one encode, different when the picture size, the
 * frame rate or the codec changes, and none where it cannot be read from the first bytes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FINGERPRINT_BYTES, mediaFingerprint } from '../../analyzer/delivery/media-fingerprint.js';
import { runFfmpeg } from '../media/fixtures.js';

let dir = '';
before(() => (dir = mkdtempSync(join(tmpdir(), 'streamqc-fingerprint-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

/** One second of MPEG-TS (or another container) from lavfi, as an HLS segment would carry it. */
async function segment(name: string, video: string, codec: string[], format = 'mpegts'): Promise<Buffer> {
  const out = join(dir, name);
  await runFfmpeg(
    [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', video],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '1'],
      ...codec,
      ...['-c:a', 'aac', '-f', format, out],
    ],
    { what: `making ${name}` },
  );
  return readFileSync(out);
}

const H264 = ['-c:v', 'libx264', '-preset', 'ultrafast'];

describe('media fingerprint', () => {
  it('is the same for two segments of one encode, whole or their first bytes', async () => {
    const a = await segment('a.ts', 'testsrc2=size=320x180:rate=25', H264);
    const b = await segment('b.ts', 'smptebars=size=320x180:rate=25', H264);
    const fa = mediaFingerprint(a);
    assert.ok(fa !== null);
    assert.match(fa, /^27:\d+,15:\d+\|67/, 'H.264 and AAC, then the SPS');
    assert.equal(mediaFingerprint(b), fa);
    assert.equal(mediaFingerprint(a.subarray(0, FINGERPRINT_BYTES)), fa);
  });

  it('differs when the picture size, the frame rate or the codec differs', async () => {
    const base = mediaFingerprint(await segment('base.ts', 'testsrc2=size=320x180:rate=25', H264));
    const others = [
      await segment('size.ts', 'testsrc2=size=256x144:rate=25', H264),
      await segment('rate.ts', 'testsrc2=size=320x180:rate=50', H264),
      await segment('hevc.ts', 'testsrc2=size=320x180:rate=25', ['-c:v', 'libx265', '-preset', 'ultrafast']),
    ].map((s) => mediaFingerprint(s));
    assert.ok(others.every((f) => f !== null));
    assert.equal(new Set([base, ...others]).size, 4, JSON.stringify([base, ...others]));
  });

  it('is none where the first bytes cannot tell: another container, MPEG-2 video, a cut-off start', async () => {
    const mp4 = await segment(
      'frag.mp4',
      'testsrc2=size=320x180:rate=25',
      [...H264, ...['-movflags', 'frag_keyframe+empty_moov']],
      'mp4',
    );
    const mpeg2 = await segment('mpeg2.ts', 'testsrc2=size=320x180:rate=25', ['-c:v', 'mpeg2video']);
    const ts = await segment('cut.ts', 'testsrc2=size=320x180:rate=25', H264);
    assert.equal(mediaFingerprint(mp4), null);
    assert.equal(mediaFingerprint(mpeg2), null);
    // Out of packet alignment (a segment that does not start at a packet).
    assert.equal(mediaFingerprint(ts.subarray(100)), null);
    // PAT and PMT but no video parameter set within the bytes read.
    assert.equal(mediaFingerprint(ts.subarray(0, 2 * 188)), null);
  });
});
