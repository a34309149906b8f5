/**
 * Continuity counters joined across HLS segments (analyzer/delivery/segment-continuity.ts), on
 * segments ffmpeg's own HLS muxer made: played in a loop (the last segment, then the first
 * again, as at an ad splice or an origin's loop point), ffmpeg reading the bytes as one stream
 * calls a packet corrupt; joined, it does not. A packet lost inside a segment stays lost, and
 * what is not a transport stream passes untouched.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContinuityJoiner } from '../../analyzer/delivery/segment-continuity.js';
import { runCommand, runFfmpeg } from '../media/fixtures.js';
import { dropAt, hasPayload, indicesOf, joinPackets, pidOf, splitPackets } from '../media/ts-faults.js';
import { VIDEO_PID } from '../media/transport-clips.js';

let dir = '';
let segments: Buffer[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'streamqc-continuity-'));
  await runFfmpeg(
    [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '6'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac', '-b:a', '64k'],
      ...['-f', 'hls', '-hls_time', '2', '-hls_list_size', '0'],
      ...['-hls_segment_filename', join(dir, 'seg%d.ts'), join(dir, 'index.m3u8')],
    ],
    { what: 'making the HLS segments' },
  );
  segments = [0, 1, 2].map((i) => readFileSync(join(dir, `seg${i}.ts`)));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** What ffmpeg says, at warning level and above, reading `bytes` as one stream. */
async function ffmpegWarnings(bytes: Buffer): Promise<string[]> {
  const result = await runCommand('ffmpeg', ['-hide_banner', '-v', 'warning', '-i', 'pipe:0', '-f', 'null', '-'], {
    input: bytes,
    what: 'decoding the joined segments',
  });
  return result.stderr.split('\n').filter((l) => /corrupt/i.test(l));
}

/** Per PID, the counters of its packets with a payload, in order. */
function counters(bytes: Buffer): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const p of splitPackets(bytes)) {
    if (!hasPayload(p)) continue;
    const list = out.get(pidOf(p)) ?? [];
    list.push(p[3]! & 0x0f);
    out.set(pidOf(p), list);
  }
  return out;
}

test('a loop point (the last segment, then the first again) is a corrupt packet to ffmpeg; joined, it is none and every counter runs on', async () => {
  const loop = [segments[0]!, segments[1]!, segments[2]!, segments[0]!, segments[1]!];
  const raw = Buffer.concat(loop);
  const original = Buffer.from(raw);
  assert.ok((await ffmpegWarnings(raw)).length > 0, 'the plain loop is no corrupt packet: the test proves nothing');

  const joiner = new ContinuityJoiner();
  const joined = Buffer.concat(loop.map((s) => joiner.join(s)));
  assert.deepEqual(await ffmpegWarnings(joined), []);
  assert.ok(raw.equals(original), 'the segments themselves were changed');
  assert.equal(joined.length, raw.length);
  for (const [pid, list] of counters(joined)) {
    list.forEach((cc, i) => {
      if (i > 0) assert.equal(cc, (list[i - 1]! + 1) & 0x0f, `PID ${pid}, packet ${i}`);
    });
  }
  // Only counters moved: every other byte is the same.
  const rawPackets = splitPackets(raw);
  const joinedPackets = splitPackets(joined);
  let moved = 0;
  joinedPackets.forEach((p, i) => {
    const before = rawPackets[i]!;
    if (p[3] !== before[3]) moved++;
    assert.ok(p[3]! >> 4 === before[3]! >> 4, `packet ${i}: flags changed`);
    p[3] = before[3]!;
    assert.ok(Buffer.from(p).equals(Buffer.from(before)), `packet ${i}: more than its counter changed`);
  });
  assert.ok(moved > 0, 'no counter moved');
});

test('a video packet lost inside a segment stays a corrupt packet after joining; segments that follow on are not changed', async () => {
  const packets = splitPackets(segments[1]!);
  const lost = indicesOf(packets, VIDEO_PID)[40]!;
  const damaged = Buffer.from(joinPackets(dropAt(packets, [lost])));
  const joiner = new ContinuityJoiner();
  const first = joiner.join(segments[0]!);
  assert.equal(first, segments[0], 'the first segment has nothing to follow and is given as it is');
  const joined = Buffer.concat([first, joiner.join(damaged)]);
  assert.ok(joined.subarray(segments[0]!.length).equals(damaged), 'a segment that follows on was changed');
  assert.ok((await ffmpegWarnings(joined)).length > 0, 'the lost packet was hidden');
});

test('what is not a transport stream (fragmented MP4, packed audio, a short read) passes untouched', () => {
  const joiner = new ContinuityJoiner();
  joiner.join(segments[0]!);
  const notTs = [Buffer.from('ID3\x04\x00 packed audio'), Buffer.alloc(100, 0x47), Buffer.alloc(400, 1)];
  for (const bytes of notTs) assert.equal(joiner.join(bytes), bytes);
});
