/**
 * The HLS client against origins that are hostile rather than faulty: a multivariant playlist
 * that lists itself or nests another, a playlist too large to parse without starving the
 * analyzer, a target duration that would drive a tight reload loop, and a server that never
 * answers (the CLI then behaves as for any source: the probe's deadline and message, and a
 * SIGTERM that ends the run at once).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HlsDeliveryMonitor } from '../../analyzer/delivery/hls-monitor.js';
import type { DeliveryObservation } from '../../analyzer/delivery/observations.js';
import { MAX_PLAYLIST_BYTES } from '../../analyzer/delivery/rendition-poller.js';
import { exitLine, runCli, startCli } from '../analyzer/run-cli.js';
import { silentServer } from '../net.js';
import { eventually } from './watch.js';

const dir = mkdtempSync(join(tmpdir(), 'streamqc-hls-hostile-'));

async function origin(
  handler: (path: string, req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: (path: string) => string; paths: string[]; close: () => Promise<void> }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://origin').pathname;
    paths.push(path);
    handler(path, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    paths,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The first playlist load that failed. */
function firstFailure(observations: DeliveryObservation[]): Promise<DeliveryObservation & { kind: 'playlist_failed' }> {
  return eventually('a failed playlist load', () => observations.find((o) => o.kind === 'playlist_failed'));
}

const variant = (uri: string): string => `#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=100000\n${uri}\n`;

function monitorOf(url: string, observations: DeliveryObservation[]): HlsDeliveryMonitor {
  return new HlsDeliveryMonitor({
    url,
    now: () => performance.now() / 1000,
    observe: (o) => observations.push(o),
    timeoutSeconds: 2,
    probe: false,
    multivariantReloadSeconds: 60,
  });
}

test('a multivariant playlist that lists itself is refused at once, naming the loop', async () => {
  const server = await origin((_path, _req, res) => void res.writeHead(200).end(variant('master.m3u8#again')));
  const monitor = monitorOf(server.url('/master.m3u8'), []);
  try {
    await assert.rejects(monitor.start(), /master\.m3u8 lists itself as the media playlist of variant 100k \(a loop\)/);
    assert.deepEqual(server.paths, ['/master.m3u8']);
  } finally {
    await monitor.stop();
    await server.close();
  }
});

test('a variant whose playlist is multivariant again (nested, or two naming each other) fails to load, naming why', async () => {
  const server = await origin(
    (path, _req, res) => void res.writeHead(200).end(variant(path === '/a.m3u8' ? 'b.m3u8' : 'a.m3u8')),
  );
  const observations: DeliveryObservation[] = [];
  const monitor = monitorOf(server.url('/a.m3u8'), observations);
  try {
    await monitor.start();
    const failed = await firstFailure(observations);
    assert.equal(failed.status, 200);
    assert.match(failed.error, /b\.m3u8 is a multivariant playlist where a variant's media playlist was expected/);
  } finally {
    await monitor.stop();
    await server.close();
  }
});

test('a media playlist over the size limit is refused before it is parsed', async () => {
  const huge = `#EXTM3U\n#EXT-X-TARGETDURATION:2\n${'#EXTINF:2,\nseg.ts\n'.repeat(MAX_PLAYLIST_BYTES / 16)}`;
  const server = await origin(
    (path, _req, res) => void res.writeHead(200).end(path === '/master.m3u8' ? variant('huge.m3u8') : huge),
  );
  const observations: DeliveryObservation[] = [];
  const monitor = monitorOf(server.url('/master.m3u8'), observations);
  try {
    await monitor.start();
    const failed = await firstFailure(observations);
    assert.match(failed.error, /larger than 1048576 bytes/);
    assert.equal(
      observations.some((o) => o.kind === 'playlist'),
      false,
    );
  } finally {
    await monitor.stop();
    await server.close();
  }
});

test('a target duration below a second does not drive a tight reload loop', async () => {
  let loads = 0;
  const server = await origin((path, _req, res) => {
    if (path === '/master.m3u8') return void res.writeHead(200).end(variant('fast.m3u8'));
    if (path !== '/fast.m3u8') return void res.writeHead(404).end();
    // A new segment at every load: each load "changed" the playlist.
    loads++;
    res
      .writeHead(200)
      .end(`#EXTM3U\n#EXT-X-TARGETDURATION:0.01\n#EXT-X-MEDIA-SEQUENCE:${loads}\n#EXTINF:0.01,\ns.ts\n`);
  });
  const monitor = monitorOf(server.url('/master.m3u8'), []);
  try {
    await monitor.start();
    await sleep(3000);
    // RFC 8216 makes a target duration whole seconds: one reload a second, not one every 10 ms.
    assert.ok(loads <= 6, `${loads} loads in 3 s`);
  } finally {
    await monitor.stop();
    await server.close();
  }
});

function configFile(name: string, yaml: string): string {
  const path = join(dir, name);
  writeFileSync(path, yaml);
  return path;
}

test('an HLS URL whose server never answers ends as any source does: the probe says why, exit 1', async () => {
  const server = await silentServer();
  try {
    const url = `http://127.0.0.1:${server.port}/live/master.m3u8`;
    const r = await runCli(
      ['analyze', url, '--config', configFile('silent.yaml', 'ingest:\n  ioTimeout: 1\n')],
      40_000,
    );
    assert.equal(r.code, 1, r.stderr);
    // The client lets go at its own deadline, saying so; ffprobe's I/O timeout then ends the run.
    const letGo = r.stderr.split('\n').find((l) => l.includes('HLS delivery checks off; ffmpeg reads the source'));
    assert.match(letGo ?? '', /no answer within 1 s/, r.stderr);
    assert.match(
      exitLine(r).msg,
      /^cannot open http:\/\/127\.0\.0\.1:\d+\/live\/master\.m3u8: (.+: Connection timed out|no answer within 5 s \(the probe's deadline)/,
    );
  } finally {
    await server.close();
  }
});

test('SIGTERM while the HLS client waits for a playlist that never comes exits 0 at once', async () => {
  const server = await silentServer();
  const config = configFile('slow.yaml', 'ingest:\n  ioTimeout: 60\n');
  const cli = startCli(['analyze', `http://127.0.0.1:${server.port}/master.m3u8`, '--config', config]);
  try {
    // The client's request is waiting on the silent server (its deadline is a minute away).
    await eventually('the playlist request', () => (server.connections() > 0 ? true : undefined));
    const signalled = performance.now();
    cli.child.kill('SIGTERM');
    const r = await cli.done;
    const after = performance.now() - signalled;
    assert.equal(r.code, 0, r.stderr);
    // A generous bound: without the stop, the run waits out the one-minute deadline.
    assert.ok(after < 10_000, `exited ${Math.round(after)} ms after SIGTERM`);
  } finally {
    cli.child.kill('SIGKILL');
    await server.close();
  }
});

test('a live playlist whose segments never come ends as a probe that never answers, naming the last failure', async () => {
  const server = await origin((path, _req, res) => {
    if (path !== '/live.m3u8') return void res.writeHead(404).end();
    const msn = Math.floor(Date.now() / 1000);
    res
      .writeHead(200)
      .end(`#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:${msn}\n#EXTINF:1,\nseg-${msn}.ts\n`);
  });
  try {
    const config = configFile('gone.yaml', 'ingest:\n  ioTimeout: 1\n  openTimeout: 4\n');
    const r = await runCli(['analyze', server.url('/live.m3u8'), '--config', config], 40_000);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      exitLine(r).msg,
      /^cannot open http:\/\/127\.0\.0\.1:\d+\/live\.m3u8: no answer within 5 s \(the probe's deadline, 2 x ingest\.ioTimeout \+ 3 s\); last: segment \d+ of rendition main: HTTP 404$/,
    );
  } finally {
    await server.close();
  }
});
