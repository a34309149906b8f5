/**
 * A manifest under a path that does not say what it is (no .m3u8, no .mpd) is followed by the
 * client of what its answer says: the Content-Type (application/dash+xml, audio/mpegurl, ...)
 * or, when that says neither, its first bytes (#EXTM3U, <MPD). An answer that is neither is
 * left to ffmpeg with a message that says what it was; one that claims to be a playlist and is
 * not is named as such.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { resolveConfig } from '../../analyzer/config.js';
import { kindByAnswer, kindByPath } from '../../analyzer/delivery/manifest-kind.js';
import { DeliveryStage } from '../../analyzer/delivery/stage.js';
import { parseSource } from '../../analyzer/ingest/source-url.js';
import { DeliveryMetrics } from '../../analyzer/report/delivery-metrics.js';
import { DashOrigin, type RepresentationMedia } from './dash-origin.js';
import { dashMedia } from './dash-watch.js';
import { HlsOrigin, type RenditionMedia } from './hls-origin.js';
import { ladderMedia } from './watch.js';

describe('what a source is, by its path, then its Content-Type, then its first bytes', () => {
  it('the path decides where it names a manifest or media; otherwise the answer does', () => {
    const byPath = ['http://o/a.m3u8', 'https://o/b.M3U?x=1', 'http://o/live.mpd', 'http://o/a.ts', 'http://o/v.mp4']
      .concat(['http://o/channel/1', 'http://o/manifest', 'udp://239.0.0.1:1234'])
      .map((u) => kindByPath(parseSource(u)));
    assert.deepEqual(byPath, ['hls', 'hls', 'dash', 'media', 'media', null, null, 'media']);
  });

  it('a Content-Type of a manifest decides; text/plain or octet-stream falls back to the first bytes', () => {
    const mpd = Buffer.from(
      '\uFEFF<?xml version="1.0"?>\n<!-- origin 7 -->\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011">',
    );
    const cases: [string | null, Buffer][] = [
      ['application/vnd.apple.mpegurl', Buffer.from('#EXTM3U\n')],
      ['audio/mpegurl', Buffer.from('#EXTM3U\n')],
      ['application/x-mpegurl', Buffer.from('')],
      ['application/dash+xml', Buffer.from('<MPD/>')],
      ['text/plain', Buffer.from('  #EXTM3U\n#EXT-X-VERSION:3\n')],
      ['application/octet-stream', mpd],
      [null, Buffer.from('<dash:MPD xmlns:dash="urn:mpeg:dash:schema:mpd:2011">')],
      ['video/mp2t', Buffer.from([0x47, 0x40, 0x00, 0x10])],
      ['text/html', Buffer.from('<!DOCTYPE html><html><body>MPD</body></html>')],
      ['application/xml', Buffer.from('<?xml version="1.0"?><MPDX/>')],
    ];
    assert.deepEqual(
      cases.map(([type, head]) => kindByAnswer(type, head)),
      ['hls', 'hls', 'hls', 'dash', 'hls', 'dash', 'dash', null, null, null],
    );
  });
});

interface Stage {
  stage: DeliveryStage;
  logs: { msg: string; reason?: string; contentType?: string; start?: string }[];
}

function stageFor(url: string): Stage {
  const logs: Stage['logs'] = [];
  const log = pino(
    { level: 'info' },
    { write: (line: string) => void logs.push(JSON.parse(line) as Stage['logs'][0]) },
  );
  const config = resolveConfig({ stream: 's', delivery: { enabled: true }, ingest: { ioTimeout: 2 } });
  const stage = DeliveryStage.for(config, parseSource(url), {
    now: () => performance.now() / 1000,
    metrics: new DeliveryMetrics(new Registry()),
    stream: 's',
    activeDefects: () => [],
    wallclock: () => new Date().toISOString(),
    log,
  });
  assert.ok(stage, `${url} may be a manifest: the stage looks at it`);
  return { stage, logs };
}

/** The renditions the stage follows after start(), or null when it let the source go. */
async function followed(url: string): Promise<{ names: string[] | null; logs: Stage['logs'] }> {
  const { stage, logs } = stageFor(url);
  try {
    assert.equal(await stage.start(), null);
    const ladder = stage.status();
    assert.equal(ladder === null, stage.mediaFeed() === null, 'followed and fed to the decoder, or neither');
    return { names: ladder?.renditions.map((r) => r.name) ?? null, logs };
  } finally {
    await stage.stop();
  }
}

async function server(contentType: string, body: Buffer | string): Promise<{ url: string; server: Server }> {
  const s = createServer((_req, res) => void res.writeHead(200, { 'content-type': contentType }).end(body));
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/watch/channel-7`, server: s };
}

describe('a manifest under a path that does not say what it is', () => {
  let hls: RenditionMedia[] = [];
  let dash: RepresentationMedia[] = [];
  const removes: (() => void)[] = [];
  before(async () => {
    const [h, d] = await Promise.all([ladderMedia(), dashMedia()]);
    hls = h.media;
    dash = d.media;
    removes.push(h.remove, d.remove);
  });
  after(() => removes.forEach((r) => r()));

  it('an MPD served as application/dash+xml is followed as DASH', async () => {
    const origin = new DashOrigin(dash);
    origin.alias = { path: '/live/channel', contentType: 'application/dash+xml' };
    const base = (await origin.listen()).replace('/live/manifest.mpd', '');
    try {
      assert.deepEqual((await followed(`${base}/live/channel?session=1`)).names, ['180p', '96p', 'audio']);
    } finally {
      await origin.close();
    }
  });

  it('an HLS playlist served as audio/mpegurl, or as text/plain (by its #EXTM3U), is followed as HLS', async () => {
    const origin = new HlsOrigin(hls);
    const base = (await origin.listen()).replace('/master.m3u8', '');
    try {
      for (const contentType of ['audio/mpegurl', 'text/plain; charset=utf-8']) {
        origin.alias = { path: '/tv', contentType };
        assert.deepEqual((await followed(`${base}/tv`)).names, ['180p', '144p', '96p'], contentType);
      }
    } finally {
      await origin.close();
    }
  });

  it('an answer that is neither is left to ffmpeg, saying what it was; one served as a playlist that is none is named', async () => {
    const ts = await server('video/mp2t', Buffer.from([0x47, 0x40, 0x00, 0x10, 0x00]));
    const html = await server('application/vnd.apple.mpegurl', '<!DOCTYPE html><p>maintenance</p>');
    try {
      const neither = await followed(ts.url);
      assert.equal(neither.names, null);
      const said = neither.logs.find((l) => l.msg.startsWith('neither an HLS playlist'));
      assert.deepEqual([said?.contentType, said?.start], ['video/mp2t', '"G@..."']);

      const claimed = await followed(html.url);
      assert.equal(claimed.names, null);
      const off = claimed.logs.find((l) => l.msg === 'HLS delivery checks off; ffmpeg reads the source');
      assert.match(off?.reason ?? '', /channel-7 is not an HLS playlist: it does not start with #EXTM3U$/);
    } finally {
      for (const s of [ts.server, html.server]) {
        s.closeAllConnections();
        s.close();
      }
    }
  });
});
