/**
 * The analyzer on a live HLS ladder (hls-origin.ts on loopback), as a user runs it: the
 * chosen rendition is decoded from the segments the delivery checks fetched (each segment is
 * requested once: no second download), /status shows the ladder, the delivery metrics carry
 * a `rendition` label, and a fault in another rendition is a defect event of the analyzer.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnalyzerStatus } from '../../analyzer/contract/status.js';
import { DELIVERY_DEFECT_TYPES } from '../../analyzer/delivery/detectors/index.js';
import { exitLine, runCli, startCli } from '../analyzer/run-cli.js';
import { freeTcpPort, metricValue } from '../net.js';
import { HlsOrigin, LADDER, makeLadderMedia, type RenditionMedia } from './hls-origin.js';
import { analyzerStatus, decodingLadder, eventually, ladderMedia } from './watch.js';

let media: RenditionMedia[] = [];
let dir = '';
let remove = (): void => undefined;
before(async () => ({ media, remove, dir } = await ladderMedia()));
after(() => remove());

function config(name: string, delivery: Record<string, unknown>): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({ stream: 'hls', delivery: { enabled: true, multivariantReload: 1, ...delivery } }),
  );
  return path;
}

const isDelivery = (e: { type: string }): boolean => DELIVERY_DEFECT_TYPES.includes(e.type);

/** The highest rendition (180p) decoded, and the whole ladder of LADDER alive in /status. */
function decodesTheWholeLadder(s: AnalyzerStatus): void {
  assert.equal(s.delivery?.rendition, '180p');
  assert.deepEqual([s.format.width, s.format.height], [320, 180]);
  assert.deepEqual(
    s.delivery.renditions.map((r) => [r.name, r.resolution, r.alive]),
    [
      ['180p', '320x180', true],
      ['144p', '256x144', true],
      ['96p', '160x96', true],
    ],
  );
}

const status = analyzerStatus;

/** Stops the CLI as a pod is stopped (SIGTERM), then the origin. */
async function stopBoth(cli: ReturnType<typeof startCli>, origin: HlsOrigin): Promise<void> {
  cli.child.kill('SIGTERM');
  await cli.done;
  await origin.close();
}

describe('the analyzer on a live HLS ladder', () => {
  it('follows a fragmented-MP4 (CMAF) ladder: decodes its highest rendition from the fetched segments and their EXT-X-MAP', async () => {
    const fmp4 = await makeLadderMedia(join(dir, 'fmp4'), LADDER, { fmp4: true });
    const origin = new HlsOrigin(fmp4);
    const url = await origin.listen();
    const port = await freeTcpPort();
    const cli = startCli(['analyze', url, '--metrics-port', String(port), '--config', config('fmp4', {})]);
    try {
      const flowing = await decodingLadder(port, 3);
      decodesTheWholeLadder(flowing);
      const reported = [...flowing.activeDefects, ...flowing.recentEvents];
      assert.deepEqual(reported, [], 'a healthy CMAF ladder raises nothing');
      // The other renditions' segments were checked too (headers only, or probed with their EXT-X-MAP).
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.ok(metricValue(text, 'streamqc_delivery_segments_total{stream="hls",rendition="96p"}') > 0);
    } finally {
      await stopBoth(cli, origin);
    }
    assert.equal((await cli.done).code, 0);
    // The decoder read what the delivery checks fetched: each segment once, the EXT-X-MAP once.
    const decoded = origin.requests.filter((p) => p.startsWith('/r0/') && !p.endsWith('.m3u8'));
    assert.deepEqual(decoded, [...new Set(decoded)], 'a segment was downloaded twice');
    assert.deepEqual(
      decoded.filter((p) => p.endsWith('init.mp4')),
      ['/r0/init.mp4'],
    );
    assert.ok(decoded.filter((p) => p.endsWith('.m4s')).length >= 3, decoded.join(' '));
  });

  it('decodes the highest rendition from the fetched segments, shows the ladder, and shows a removed variant as down until it returns', async () => {
    const origin = new HlsOrigin(media);
    const url = await origin.listen();
    const port = await freeTcpPort();
    const cli = startCli(['analyze', url, '--metrics-port', String(port), '--config', config('highest', {})]);
    try {
      const flowing = await decodingLadder(port, 3);
      decodesTheWholeLadder(flowing);
      assert.deepEqual(flowing.activeDefects.filter(isDelivery), []);

      origin.inject('r1', { removed: true });
      const down = await eventually('144p down', async () => {
        const s = await status(port);
        return s?.delivery?.alive === 2 ? { ...s.delivery, active: s.activeDefects } : undefined;
      });
      const [removal] = down.active.filter(isDelivery);
      assert.deepEqual([removal?.type, removal?.detail?.rendition], ['rendition_down', '144p']);
      // Still listed, after the ladder, as down since its removal: its declaration as last seen.
      assert.equal(down.declared, 2);
      assert.deepEqual(
        down.renditions.map((r) => [r.name, r.resolution, r.listed, r.alive]),
        [
          ['180p', '320x180', true, true],
          ['96p', '160x96', true, true],
          ['144p', '256x144', false, false],
        ],
      );
      const gone = down.renditions[2];
      assert.deepEqual([gone?.downStart, gone?.downSince], [removal?.start, removal?.wallclock]);
      assert.ok(down.renditions.slice(0, 2).every((r) => r.downSince === null && r.downStart === null));
      // The ladder's gauges follow on the client's next tick (every 250 ms).
      const metrics = await eventually('144p down in the metrics', async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return metricValue(text, 'streamqc_delivery_rendition_up{stream="hls",rendition="144p"}') === 0
          ? text
          : undefined;
      });
      assert.ok(metricValue(metrics, 'streamqc_delivery_segments_total{stream="hls",rendition="96p"}') > 0);
      assert.equal(metricValue(metrics, 'streamqc_delivery_renditions{stream="hls",state="alive"}'), 2);
      assert.equal(metricValue(metrics, 'streamqc_delivery_renditions{stream="hls",state="declared"}'), 2);
      assert.equal(metricValue(metrics, 'streamqc_defect_active{stream="hls",type="rendition_down"}'), 1);
      // Its last segment's figures describe no rendition anyone serves: they go, its counters stay.
      assert.doesNotMatch(metrics, /streamqc_delivery_segment_bitrate_bits_per_second\{[^}]*rendition="144p"/);
      assert.doesNotMatch(metrics, /streamqc_delivery_declared_bandwidth_bits_per_second\{[^}]*rendition="144p"/);
      assert.ok(metricValue(metrics, 'streamqc_delivery_segments_total{stream="hls",rendition="144p"}') > 0);

      origin.inject('r1', { removed: false });
      const back = await eventually('144p back', async () => {
        const s = await status(port);
        return s?.delivery?.alive === 3 ? s : undefined;
      });
      assert.deepEqual(
        back.delivery?.renditions.map((r) => [r.name, r.listed, r.alive, r.downSince]),
        [
          ['180p', true, true, null],
          ['96p', true, true, null],
          ['144p', true, true, null],
        ],
      );
      await eventually('144p up in the metrics', async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return metricValue(text, 'streamqc_delivery_rendition_up{stream="hls",rendition="144p"}') === 1
          ? true
          : undefined;
      });
    } finally {
      await stopBoth(cli, origin);
    }
    const result = await cli.done;
    assert.equal(result.code, 0, result.stderr);
    // The loop point of the origin's media is a tagged discontinuity whose timestamps step back:
    // the decoder's own reports of it are not delivery faults, and are not judged here.
    // One event for the removal, ended by the return.
    const delivery = result.events.filter(isDelivery);
    assert.deepEqual(
      delivery.map((e) => [e.type, e.detail?.rendition, e.detail?.reason]),
      [['rendition_down', '144p', 'removed']],
      result.stdout,
    );
    const [removal] = delivery;
    assert.ok(removal && removal.end > removal.start, result.stdout);
    // One download per segment: the decoder read what the delivery checks fetched.
    const segments = origin.requests.filter((p) => /^\/r0\/seg-\d+\.ts$/.test(p));
    assert.ok(segments.length >= 3, `segments of 180p fetched: ${segments.length}`);
    assert.deepEqual(segments, [...new Set(segments)], 'a segment was downloaded twice');
  });

  it('an origin that starts late: ffmpeg waits for it, the client retries, attaches, and the decoder switches to its segments', async () => {
    const originPort = await freeTcpPort();
    const url = `http://127.0.0.1:${originPort}/master.m3u8`;
    const port = await freeTcpPort();
    const late = config('late', {});
    // A live source that may take its time to open (openTimeout 0: forever); quick retries.
    const settings = JSON.parse(readFileSync(late, 'utf8')) as Record<string, unknown>;
    const ingest = { ioTimeout: 2, openTimeout: 0, reconnectInitialDelay: 0.2, reconnectMaxDelay: 1 };
    writeFileSync(late, JSON.stringify({ ...settings, live: true, ingest }));
    const cli = startCli(['analyze', url, '--metrics-port', String(port), '--config', late], {
      STREAMQC_LOG_LEVEL: 'info',
    });
    let stderr = '';
    cli.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const origin = new HlsOrigin(media);
    try {
      await eventually('the client lets go at start', () =>
        stderr.includes('HLS delivery checks off') ? true : undefined,
      );
      assert.equal((await status(port))?.delivery, undefined, 'no ladder while the origin is down');
      await origin.listen(originPort);
      const flowing = await decodingLadder(port, 3);
      assert.equal(flowing.delivery?.rendition, '180p');
      // Whoever opened first, ffmpeg reads no segment itself once the client follows: a few
      // segment durations later every new segment is the client's (not Lavf's) and fetched once.
      const since = origin.log.length;
      await eventually('three more segments of 180p', () =>
        origin.log.slice(since).filter((e) => /^\/r0\/seg-\d+\.ts$/.test(e.path)).length >= 3 ? true : undefined,
      );
      const later = origin.log.slice(since).filter((e) => e.path.endsWith('.ts'));
      assert.deepEqual(
        later.filter((e) => e.agent.startsWith('Lavf')),
        [],
        'ffmpeg still downloads segments itself',
      );
      const decoded = later.filter((e) => e.path.startsWith('/r0/')).map((e) => e.path);
      assert.deepEqual(decoded, [...new Set(decoded)], 'a segment was downloaded twice');
    } finally {
      await stopBoth(cli, origin);
    }
    const result = await cli.done;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /"msg":"following HLS"/);
  });

  it('a rendition asked for by a name the ladder lacks is a clear error naming the ladder', async () => {
    const origin = new HlsOrigin(media);
    const url = await origin.listen();
    try {
      const result = await runCli(['analyze', url, '--config', config('missing', { rendition: '1080p' })], 60_000);
      assert.equal(result.code, 1, result.stderr);
      assert.match(
        exitLine(result).msg,
        /delivery\.rendition "1080p" is not in the ladder of http:\/\/127\.0\.0\.1:\d+\/master\.m3u8: it has 180p, 144p, 96p \(or highest\)$/,
      );
    } finally {
      await origin.close();
    }
  });
});

/**
 * HLS playlist cues through the whole analyzer: EXT-X-CUE-OUT/IN and EXT-X-DATERANGE
 * SCTE35-OUT are the same cue events (jsonl, `source hls`), cue counter and cue defects as
 * SCTE-35 sections in a TS: cues_missing (4 s) from the start of delivery to the first cue,
 * break_not_returned for a break announced for 2 s whose cue in never comes.
 */
describe('HLS playlist cues as cue events and defects', () => {
  it('a break that returns and one that does not: five cue events, cues_missing until the first, break_not_returned', async () => {
    const origin = new HlsOrigin(media);
    const url = await origin.listen();
    const port = await freeTcpPort();
    const path = join(dir, 'cues.json');
    writeFileSync(
      path,
      JSON.stringify({
        stream: 'hls',
        delivery: { enabled: true },
        // HLS cues are timed when a reload first sees them, each up to a reload (1 s) and a beat
        // (0.25 s) after the origin lists it: two sightings of cues 2 s apart may be 3.25 s apart,
        // and more on a loaded machine (a CI run with a training run beside it saw a cue in more
        // than 2 s past its break's end). The default grace (5 s) leaves that lag room.
        detectors: { cues_missing: { enabled: true, missingAfter: 4 }, break_not_returned: { grace: 5 } },
      }),
    );
    const cli = startCli(['analyze', url, '--metrics-port', String(port), '--config', path]);
    // The media sequence number of the first cue, once placed.
    const placed = { first: -1 };
    try {
      // The timeline runs once frames are decoded: the cues are timed on it.
      await eventually('frames of the ladder', async () => {
        const s = await status(port);
        return s && s.counters.frames > 0 && s.delivery?.alive === 3 ? true : undefined;
      });
      // Five segments ahead: the client sees them appear more than cues_missing's 4 s after it started.
      placed.first = origin.liveMsn() + 5;
      origin.cues.push({ msn: placed.first, id: 'break-1' }, { msn: placed.first + 4, id: 'break-2', returns: false });
      await eventually(
        'break_not_returned',
        async () =>
          (await status(port))?.activeDefects.some((d) => d.type === 'break_not_returned') ? true : undefined,
        60_000,
      );
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const cues = (command: string): number =>
        metricValue(metrics, `streamqc_scte35_cues_total{stream="hls",command="${command}",source="hls"}`);
      assert.equal(cues('ext_x_cue_out'), 2);
      assert.equal(cues('ext_x_daterange_out'), 2);
      assert.equal(cues('ext_x_cue_in'), 1);
    } finally {
      await stopBoth(cli, origin);
    }
    const result = await cli.done;
    assert.equal(result.code, 0, result.stderr);
    const { first } = placed;
    const signals = result.events.filter((e) => e.type === 'cue_out' || e.type === 'cue_in');
    const summary = signals.map((e) => [e.type, e.detail?.command, e.detail?.id ?? null, e.detail?.msn]);
    assert.deepEqual(
      summary.sort((a, b) => Number(a[3]) - Number(b[3]) || String(a[1]).localeCompare(String(b[1]))),
      [
        ['cue_out', 'ext_x_cue_out', null, first],
        ['cue_out', 'ext_x_daterange_out', 'break-1', first],
        ['cue_in', 'ext_x_cue_in', null, first + 2],
        ['cue_out', 'ext_x_cue_out', null, first + 4],
        ['cue_out', 'ext_x_daterange_out', 'break-2', first + 4],
      ],
      result.stdout,
    );
    for (const s of signals) {
      assert.equal(s.detail?.source, 'hls');
      assert.equal(typeof s.detail.rendition, 'string');
      if (s.type === 'cue_out') assert.equal(s.detail.breakDuration, 2);
      assert.equal(s.end, s.start);
    }
    const outAt = (msn: number): number => signals.find((s) => s.type === 'cue_out' && s.detail?.msn === msn)!.start;
    // Cues 2 s apart are within the 4 s allowance: the first cues_missing is the wait for the first cue.
    const missing = result.events.filter((e) => e.type === 'cues_missing');
    assert.equal(missing[0]?.end, outAt(first), result.stdout);
    const overrun = result.events.filter((e) => e.type === 'break_not_returned');
    assert.equal(overrun.length, 1, result.stdout);
    assert.equal(overrun[0]!.start, Math.round((outAt(first + 4) + 2) * 1000) / 1000, 'from the announced return');
  });
});
