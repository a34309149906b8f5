/**
 * The DASH client's limits and refusals, like the HLS client's: what is no MPD, an MPD that
 * would expand to more segments than a client can hold, an MPD too large, an origin that does
 * not answer, a ladder larger than the label bound; a static MPD is on demand (loaded once,
 * nothing that needs liveness is judged); the path .mpd over http(s) names DASH (other paths:
 * manifest-kind.test.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  isoDurationSeconds,
  MAX_BASE_URLS,
  MAX_MPD_BYTES,
  MAX_REPRESENTATION_SEGMENTS,
  MpdError,
  parseMpd,
} from '../../analyzer/delivery/dash-manifest.js';
import { DashDeliveryMonitor } from '../../analyzer/delivery/dash-monitor.js';
import { MAX_RENDITIONS } from '../../analyzer/delivery/playlist.js';
import { isDashUrl } from '../../analyzer/delivery/manifest-kind.js';
import { parseSource } from '../../analyzer/ingest/source-url.js';
import { DashOrigin, type RepresentationMedia } from './dash-origin.js';
import { dashMedia, watchDash } from './dash-watch.js';

const URL_ = 'http://127.0.0.1:1/live/manifest.mpd';
const NOW = Date.UTC(2026, 11, 1, 0, 1, 0);

/** A dynamic MPD of `representations`, each with `segments` (a SegmentTemplate body). */
function mpd(segments: string, representations = 1, root = 'type="dynamic" minimumUpdatePeriod="PT2S"'): string {
  const reps = Array.from(
    { length: representations },
    (_, i) =>
      `<Representation id="v${i}" bandwidth="${100_000 * (i + 1)}" width="320" height="180" codecs="avc1.42c00d">${segments}</Representation>`,
  ).join('');
  return `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" ${root} availabilityStartTime="2026-12-01T00:00:00Z" publishTime="2026-12-01T00:00:59Z" minBufferTime="PT2S"><Period id="p0" start="PT0S"><AdaptationSet mimeType="video/mp4">${reps}</AdaptationSet></Period></MPD>`;
}

const template = (timeline: string): string =>
  `<SegmentTemplate timescale="1000" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Number$.m4s" startNumber="10"><SegmentTimeline>${timeline}</SegmentTimeline></SegmentTemplate>`;

describe('DASH MPD parsing: facts and refusals', () => {
  it('lists each Representation as a segment window with stable numbers, and the MPD as publishTime and update period', () => {
    const m = parseMpd(mpd(template('<S t="50000" d="2000" r="2"/>')), URL_, NOW);
    assert.deepEqual([m.dynamic, m.publishTime, m.minimumUpdatePeriod], [true, Date.UTC(2026, 11, 1, 0, 0, 59), 2]);
    const v0 = m.representations[0];
    assert.ok(v0);
    assert.equal(v0.declaration.name, 'v0');
    assert.equal(v0.declaration.minBufferTime, 2);
    assert.equal(v0.initUri, 'http://127.0.0.1:1/live/v0/init.mp4');
    assert.deepEqual(
      v0.snapshot.segments.map((s) => [s.msn, s.duration, s.uri.split('/live/')[1]]),
      [
        [10, 2, 'v0/10.m4s'],
        [11, 2, 'v0/11.m4s'],
        [12, 2, 'v0/12.m4s'],
      ],
    );
    assert.deepEqual([v0.snapshot.targetDuration, v0.snapshot.endList], [2, false]);
  });

  it('a gap and an overlap in a SegmentTimeline are breaks at the number of the S that declares them', () => {
    const m = parseMpd(
      mpd(template('<S t="0" d="1000" r="1"/><S t="2500" d="1000"/><S t="3000" d="1000"/>')),
      URL_,
      NOW,
    );
    assert.deepEqual(m.representations[0]?.timelineBreaks, [
      { number: 12, offsetSeconds: 0.5 },
      { number: 13, offsetSeconds: -0.5 },
    ]);
  });

  it('refuses what is not an MPD, naming why', () => {
    assert.throws(() => parseMpd('<MPD><Period></MPD>', URL_, NOW), /manifest\.mpd is not well-formed XML/);
    assert.throws(() => parseMpd('<html><body/></html>', URL_, NOW), /is not a DASH MPD: its root element is <html>/);
    assert.throws(
      () => parseMpd('<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"></MPD>', URL_, NOW),
      /cannot be read as an MPD: INVALID_NUMBER_OF_PERIOD/,
    );
  });

  it('refuses a timeline or a template that would expand to more segments than a client can hold', () => {
    assert.throws(
      () => parseMpd(mpd(template('<S t="0" d="1000" r="1000000000"/>')), URL_, NOW),
      (err: Error) =>
        err instanceof MpdError &&
        err.message.includes(
          `Representation "v0" describes 1000000001 segments, more than ${MAX_REPRESENTATION_SEGMENTS}`,
        ),
    );
    // No timeShiftBufferDepth: every segment since 1970 would be listed.
    const since1970 = mpd('<SegmentTemplate timescale="1000" duration="1000" media="$Number$.m4s"/>').replace(
      '2026-12-01T00:00:00Z',
      '1970-01-01T00:00:00Z',
    );
    assert.throws(() => parseMpd(since1970, URL_, NOW), /describes \d+ segments, more than 20000/);
    assert.throws(
      () => parseMpd(mpd(template('<S t="0" d="0" r="3"/>')), URL_, NOW),
      /Representation "v0" has an S element without a positive @d/,
    );
  });

  it(`refuses more than ${MAX_BASE_URLS} BaseURL elements (mpd-parser lists a Representation per combination)`, () => {
    const baseUrls = Array.from({ length: 5 }, (_, i) => `<BaseURL>http://cdn${i}.example/</BaseURL>`).join('');
    const nested = mpd(baseUrls + template('<S t="0" d="1000"/>'), 3)
      .replace('<Period id="p0" start="PT0S">', `<Period id="p0" start="PT0S">${baseUrls}`)
      .replace('<AdaptationSet mimeType="video/mp4">', `<AdaptationSet mimeType="video/mp4">${baseUrls}`);
    assert.throws(() => parseMpd(nested, URL_, NOW), /has 25 BaseURL elements, more than 16 a client can combine/);
  });

  it(`keeps at most ${MAX_RENDITIONS} Representations (the bound of the rendition label)`, () => {
    const m = parseMpd(mpd(template('<S t="0" d="1000"/>'), MAX_RENDITIONS + 4), URL_, NOW);
    assert.equal(m.representations.length, MAX_RENDITIONS);
  });

  it('reads xs:duration as MPDs write it', () => {
    assert.deepEqual(['PT1.5S', 'PT2M', 'P1DT1H', 'PT0S', 'P', 'PT', '1S', null].map(isoDurationSeconds), [
      1.5,
      120,
      90000,
      0,
      null,
      null,
      null,
      null,
    ]);
  });

  it('an http(s) URL whose path ends in .mpd is DASH by its path, nothing else', () => {
    const dash = ['http://o/live/a.mpd', 'https://o/a.MPD?token=1', 'http://o/a.m3u8', 'rtmp://o/a.mpd'].map((u) =>
      isDashUrl(parseSource(u)),
    );
    assert.deepEqual(dash, [true, true, false, false]);
  });
});

describe('DASH client limits on loopback', () => {
  let media: RepresentationMedia[] = [];
  let remove = (): void => undefined;
  before(async () => ({ media, remove } = await dashMedia()));
  after(() => remove());

  /** A server answering every request with `answer`; returns its MPD URL and a close. */
  async function serve(
    answer: (res: import('node:http').ServerResponse) => void,
  ): Promise<{ url: string; close: () => Promise<void> }> {
    const server = createServer((_req, res) => answer(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/manifest.mpd`;
    const close = async (): Promise<void> => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    };
    return { url, close };
  }

  async function startRejects(url: string): Promise<string> {
    const monitor = new DashDeliveryMonitor({
      url,
      now: () => 0,
      observe: () => undefined,
      timeoutSeconds: 1,
      probe: false,
    });
    try {
      await monitor.start();
      return 'started';
    } catch (err) {
      return (err as Error).message;
    } finally {
      await monitor.stop();
    }
  }

  it(`an MPD over ${MAX_MPD_BYTES} bytes and an origin that never answers are refused with why`, async () => {
    const large = await serve((res) => res.end(Buffer.alloc(MAX_MPD_BYTES + 1, 0x20)));
    const silent = await serve(() => undefined);
    try {
      assert.match(await startRejects(large.url), /cannot load .*manifest\.mpd: the body is larger than 4194304 bytes/);
      assert.match(await startRejects(silent.url), /cannot load .*manifest\.mpd: no (complete )?answer within 1 s/);
    } finally {
      await large.close();
      await silent.close();
    }
  });

  it('a static MPD is on demand: loaded once, its Representations ended, nothing judged', async () => {
    const origin = new DashOrigin(media);
    origin.static = true;
    const w = await watchDash(origin);
    try {
      await sleep(3000);
      assert.equal(w.origin.requests.filter((p) => p.endsWith('.mpd')).length, 1);
      assert.deepEqual(
        w.monitor.renditions.map((r) => [r.name, r.ended, r.lastMediaSequence]),
        [
          ['180p', true, 4],
          ['96p', true, 4],
          ['audio', true, 4],
        ],
      );
      assert.deepEqual(w.started, []);
    } finally {
      await w.stop();
    }
  });
});
