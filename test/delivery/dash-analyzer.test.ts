/**
 * The analyzer on a live DASH origin (dash-origin.ts on loopback), as a user runs it: the
 * highest video Representation is decoded from the initialization and media segments the
 * delivery checks fetched (each requested once), /status shows the Representations, and the
 * delivery metrics carry their names as the `rendition` label.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DELIVERY_DEFECT_TYPES } from '../../analyzer/delivery/detectors/index.js';
import { exitLine, runCli, startCli } from '../analyzer/run-cli.js';
import { freeTcpPort, metricValue } from '../net.js';
import { DashOrigin, type RepresentationMedia } from './dash-origin.js';
import { dashMedia } from './dash-watch.js';
import { analyzerStatus, decodingLadder, eventually } from './watch.js';

let media: RepresentationMedia[] = [];
let dir = '';
let remove = (): void => undefined;
before(async () => ({ media, remove, dir } = await dashMedia()));
after(() => remove());

describe('the analyzer on a live DASH origin', () => {
  it('decodes the highest video Representation from the fetched segments and shows every Representation', async () => {
    const origin = new DashOrigin(media);
    const url = await origin.listen();
    const port = await freeTcpPort();
    const config = join(dir, 'dash.json');
    writeFileSync(config, JSON.stringify({ stream: 'dash', delivery: { enabled: true } }));
    const cli = startCli(['analyze', url, '--metrics-port', String(port), '--config', config]);
    try {
      const flowing = await decodingLadder(port, 3);
      assert.equal(flowing.delivery?.rendition, '180p');
      assert.deepEqual([flowing.format.width, flowing.format.height], [320, 180]);
      assert.deepEqual(
        flowing.delivery.renditions.map((r) => [r.name, r.resolution, r.alive]),
        [
          ['180p', '320x180', true],
          ['96p', '160x96', true],
          ['audio', null, true],
        ],
      );
      assert.deepEqual(
        flowing.activeDefects.filter((e) => DELIVERY_DEFECT_TYPES.includes(e.type)),
        [],
      );
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.ok(metricValue(text, 'streamqc_delivery_segments_total{stream="dash",rendition="audio"}') > 0);
      assert.equal(metricValue(text, 'streamqc_delivery_renditions{stream="dash",state="alive"}'), 3);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.done;
      await origin.close();
    }
    const result = await cli.done;
    assert.equal(result.code, 0, result.stderr);
    // One download per segment: the decoder read what the delivery checks fetched.
    const segments = origin.requests.filter((p) => p.startsWith('/live/180p/'));
    assert.ok(segments.length >= 3, `requests for 180p: ${segments.join(' ')}`);
    assert.deepEqual(segments, [...new Set(segments)], 'a segment was downloaded twice');
    assert.equal(segments.filter((p) => p.endsWith('init.mp4')).length, 1);
  });

  it('an ad Period under ids of its own that codes the decoded rendition otherwise is decoded from its start, under the same name', async () => {
    const origin = new DashOrigin(media);
    // From a few seconds on, 180p serves the 96p media (its own initialization segment), as an ad
    // break may, and every Representation is listed under an id of the ad's.
    origin.newPeriodAt = origin.liveNumber() + 8;
    origin.secondPeriodServes.set('180p', '96p');
    for (const id of ['180p', '96p', 'audio']) origin.secondPeriodIds.set(id, `ad${id}`);
    const url = await origin.listen();
    const port = await freeTcpPort();
    const config = join(dir, 'periods.json');
    writeFileSync(config, JSON.stringify({ stream: 'dash', delivery: { enabled: true } }));
    const cli = startCli(['analyze', url, '--metrics-port', String(port), '--config', config]);
    try {
      const before = await decodingLadder(port, 3);
      assert.deepEqual([before.format.width, before.format.height], [320, 180]);
      // The decoder starts over on the new initialization segment: the second Period's picture size.
      const after = await eventually(
        'the second Period decoded at 160x96',
        async () => {
          const s = await analyzerStatus(port);
          return s?.format.height === 96 && s.counters.frames > before.counters.frames + 50 ? s : undefined;
        },
        60_000,
      );
      assert.equal(after.format.width, 160);
      assert.equal(after.delivery?.rendition, '180p');
      const reported = [...after.activeDefects, ...after.recentEvents];
      const events = reported.map((e) => e.type);
      assert.ok(!events.includes('decode_error') && !events.includes('stall'), JSON.stringify(reported));
      // What a viewer sees change is reported as what it is: the picture size.
      const change = reported.find((e) => e.type === 'format_change');
      assert.equal(change?.detail?.resolution, '320x180 -> 160x96', JSON.stringify(reported));
      assert.ok(
        events.every((t) => !DELIVERY_DEFECT_TYPES.includes(t)),
        `no delivery defect at the Period: ${JSON.stringify(events)}`,
      );
    } finally {
      cli.child.kill('SIGTERM');
      await cli.done;
      await origin.close();
    }
    assert.equal((await cli.done).code, 0);
    // Still one download per segment, and one per initialization segment.
    const segments = origin.requests.filter((p) => p.startsWith('/live/180p/') || p.startsWith('/live/ad180p/'));
    assert.deepEqual(segments, [...new Set(segments)], 'a segment was downloaded twice');
    assert.deepEqual(
      segments.filter((p) => p.endsWith('init.mp4')),
      ['/live/180p/init.mp4', '/live/ad180p/p1-init.mp4'],
    );
  });

  it('a Representation asked for by a name the MPD lacks is a clear error naming the video Representations', async () => {
    const origin = new DashOrigin(media);
    const url = await origin.listen();
    const config = join(dir, 'missing.json');
    writeFileSync(config, JSON.stringify({ stream: 'dash', delivery: { enabled: true, rendition: 'audio' } }));
    try {
      const result = await runCli(['analyze', url, '--config', config], 60_000);
      assert.equal(result.code, 1, result.stderr);
      // The audio Representation has no picture to decode: it is checked, not offered.
      assert.match(
        exitLine(result).msg,
        /delivery\.rendition "audio" is not in the ladder of http:\/\/127\.0\.0\.1:\d+\/live\/manifest\.mpd: it has 180p, 96p \(or highest\)$/,
      );
    } finally {
      await origin.close();
    }
  });
});
