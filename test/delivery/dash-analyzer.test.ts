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
import { decodingLadder } from './watch.js';

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
