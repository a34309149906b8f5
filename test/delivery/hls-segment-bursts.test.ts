/**
 * Live HLS of 6 s segments whose timestamps step back at every loop of the origin's media (a
 * tagged EXT-X-DISCONTINUITY, as an ad splice or an encoder restart makes them). ffmpeg's -re
 * paces its reading only while timestamps run on: after the first step back each segment is
 * decoded at once and followed by a 5 s pause, which the analyzer took for a stall every
 * segment. Both ways of decoding are run side by side on one origin: the segments the delivery
 * client fetched (delivery on) and ffmpeg's own HLS reader (delivery off). The client's way also
 * reads no corrupt packet where the loop's continuity counters jump (segment-continuity.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCli } from '../analyzer/run-cli.js';
import { freeTcpPort, metricValue } from '../net.js';
import { HlsOrigin, LADDER, LOOP_SEGMENTS, makeLadderMedia, type RenditionMedia } from './hls-origin.js';
import { hasPayload, pidOf, splitPackets } from '../media/ts-faults.js';
import { VIDEO_PID } from '../media/transport-clips.js';

const SEGMENT_SECONDS = 6;
let media: RenditionMedia[] = [];
let dir = '';
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'streamqc-hls-bursts-'));
  media = await makeLadderMedia(dir, LADDER, { segmentSeconds: SEGMENT_SECONDS });
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The rendition both ways decode: r1, 256x144 (the client names it 144p). */
const DECODED = 1;

function config(name: string, deliveryEnabled: boolean): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ stream: name, delivery: { enabled: deliveryEnabled, rendition: '144p' } }));
  return path;
}

/** The continuity counter of the first (or last) video packet with a payload in a segment. */
function videoCounter(segment: Buffer, which: 'first' | 'last'): number {
  const counters = splitPackets(segment)
    .filter((p) => pidOf(p) === VIDEO_PID && hasPayload(p))
    .map((p) => p[3]! & 0x0f);
  const counter = which === 'first' ? counters[0] : counters.at(-1);
  if (counter === undefined) throw new Error('a segment without video');
  return counter;
}

test('6 s segments whose timestamps step back at each loop: no stall, decoded from the client or by ffmpeg', async () => {
  // At this rendition's loop point the video counters jump, as at a splice: what the decoder
  // would call a corrupt packet (segment-continuity.ts). Checked, or the test proves nothing.
  const { segments } = media[DECODED]!;
  assert.notEqual(videoCounter(segments.at(-1)!, 'last') + 1, videoCounter(segments[0]!, 'first'));
  const origin = new HlsOrigin(media);
  const url = await origin.listen();
  const runs = await Promise.all(
    [true, false].map(async (delivery) => {
      const port = await freeTcpPort();
      const source = delivery ? url : url.replace('master.m3u8', `${media[DECODED]!.spec.name}/index.m3u8`);
      const cli = startCli([
        'analyze',
        source,
        '--metrics-port',
        String(port),
        '--config',
        config(`d${delivery}`, delivery),
      ]);
      return { delivery, port, cli };
    }),
  );
  // Joined anywhere in a loop: past the next step back, and three segments more.
  const loop = LOOP_SEGMENTS * SEGMENT_SECONDS;
  await sleep((loop + 3 * SEGMENT_SECONDS + 5) * 1000);
  const frames = await Promise.all(
    runs.map(async (r) =>
      metricValue(await (await fetch(`http://127.0.0.1:${r.port}/metrics`)).text(), 'streamqc_frames_total'),
    ),
  );
  for (const r of runs) r.cli.child.kill('SIGTERM');
  const results = await Promise.all(runs.map((r) => r.cli.done));
  await origin.close();
  for (const [i, r] of runs.entries()) {
    const result = results[i]!;
    const how = r.delivery ? 'from the delivery client' : "by ffmpeg's HLS reader";
    assert.equal(result.code, 0, result.stderr);
    // 25 fps over more than a loop and three segments: the stream was decoded past a step back.
    assert.ok(frames[i]! >= 25 * (loop + 2 * SEGMENT_SECONDS), `${how}: ${frames[i]} frames`);
    assert.deepEqual(
      result.events.filter((e) => e.type === 'stall').map((e) => [e.start, e.end]),
      [],
      `${how}: ${result.stdout}`,
    );
    // The client's segments reach the decoder with their continuity counters joined: the splice
    // is no corrupt packet. ffmpeg's own HLS reader cannot be helped that way (not judged here).
    if (r.delivery) {
      assert.deepEqual(
        result.events.filter((e) => e.type === 'decode_error' || e.type === 'blockiness').map((e) => e.type),
        [],
        `${how}: ${result.stdout}`,
      );
    }
  }
});
