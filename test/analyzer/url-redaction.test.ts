/**
 * Signed CDN URLs carry their grant in the query (token, sig, ...). The analyzer hands the
 * real URL to ffmpeg, and masks it everywhere a person or a scraper reads: stdout, the JSON
 * logs (debug included), /status, /metrics labels, and the URLs that ffmpeg itself prints.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticClip } from '../media/fixtures.js';
import { exitLine, logLines, only, runCli, startCli, type CliResult } from './run-cli.js';

const SECRET = 'SECRET123';
const dir = mkdtempSync(join(tmpdir(), 'streamqc-redact-'));

interface SignedCdn {
  server: Server;
  base: string;
  /** Every request path with its query, as the server received it. */
  seen: string[];
}

/**
 * A CDN on loopback: /clip.ts served slowly (about 3 s, so /status and /metrics can be read
 * while it plays), an HLS playlist whose second segment's AES key URL (signed too) is missing, 404 otherwise.
 */
async function signedCdn(clip: Buffer): Promise<SignedCdn> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://cdn');
    seen.push(`${url.pathname}${url.search}`);
    if (url.pathname === '/clip.ts') {
      res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': clip.length });
      const chunk = Math.ceil(clip.length / 20);
      let sent = 0;
      const timer = setInterval(() => {
        res.write(clip.subarray(sent, sent + chunk));
        sent += chunk;
        if (sent >= clip.length) {
          clearInterval(timer);
          res.end();
        }
      }, 150);
      res.on('close', () => clearInterval(timer));
    } else if (url.pathname === '/hls/index.m3u8') {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      // The first segment plays; the second is encrypted with a key ffmpeg cannot fetch, and
      // ffmpeg's error names the key URL, signed like the rest.
      res
        .writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' })
        .end(
          [
            '#EXTM3U',
            '#EXT-X-VERSION:3',
            '#EXT-X-TARGETDURATION:6',
            '#EXT-X-PLAYLIST-TYPE:VOD',
            '#EXTINF:6.0,',
            `${origin}/hls/seg0.ts?token=${SECRET}&sig=s3g`,
            `#EXT-X-KEY:METHOD=AES-128,URI="${origin}/hls/key?token=${SECRET}&sig=k3y"`,
            '#EXTINF:6.0,',
            `${origin}/hls/seg1.ts?token=${SECRET}&sig=s3g`,
            '#EXT-X-ENDLIST',
            '',
          ].join('\n'),
        );
    } else if (url.pathname === '/hls/seg0.ts') {
      res.writeHead(200, { 'content-type': 'video/mp2t' }).end(clip);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function freeTcpPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function assertNoSecret(what: string, text: string): void {
  assert.ok(!text.includes(SECRET), `${what} leaks the token:\n${text.slice(0, 3000)}`);
}

function assertCleanRun(r: CliResult): void {
  assertNoSecret('stdout', r.stdout);
  assertNoSecret('stderr', r.stderr);
  logLines(r.stderr);
}

/**
 * /status and /metrics bodies read every 100 ms until `done` settles, fulfilled or rejected (a rejected
 * run must end the loop too, or the test hangs instead of failing); each read gives up after 2 s.
 */
async function scrapeWhile(port: number, done: Promise<unknown>): Promise<{ status: string[]; metrics: string[] }> {
  const bodies = { status: [] as string[], metrics: [] as string[] };
  let finished = false;
  const finish = (): void => {
    finished = true;
  };
  done.then(finish, finish);
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set in done's callback, unseen by narrowing
  while (!finished) {
    for (const path of ['status', 'metrics'] as const) {
      const body = await fetch(`http://127.0.0.1:${port}/${path}`, { signal: AbortSignal.timeout(2000) }).then(
        (res) => res.text(),
        () => null,
      );
      if (body !== null) bodies[path].push(body);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return bodies;
}

test(
  "a signed URL's token reaches the server but no log line, /status or /metrics label, even at debug level",
  { timeout: 90_000 },
  async () => {
    const clip = await syntheticClip('signed-cdn', {
      width: 320,
      height: 180,
      fps: 25,
      duration: 6,
      schedule: [{ type: 'black', start: 2, end: 4 }],
    });
    const cdn = await signedCdn(readFileSync(clip));
    try {
      const port = await freeTcpPort();
      const config = join(dir, 'finite.yaml');
      writeFileSync(config, 'live: false\nlistenAddress: 127.0.0.1\n');
      const { child, done } = startCli(
        [
          'analyze',
          `${cdn.base}/clip.ts?token=${SECRET}&sig=abc%2Fdef`,
          '--config',
          config,
          '--metrics-port',
          String(port),
        ],
        { STREAMQC_LOG_LEVEL: 'debug' },
      );
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const [r, scraped] = await Promise.all([done, scrapeWhile(port, done)]);
      clearTimeout(timer);

      assert.equal(r.code, 0, r.stderr);
      only(r, 'black');
      assert.ok(
        cdn.seen.some((path) => path.startsWith(`/clip.ts?token=${SECRET}&sig=`)),
        `ffmpeg got the real URL: ${cdn.seen.join(', ')}`,
      );
      assertCleanRun(r);
      assert.ok(scraped.status.length > 0 && scraped.metrics.length > 0, 'read /status and /metrics while it ran');
      for (const body of [...scraped.status, ...scraped.metrics]) assertNoSecret('/status or /metrics', body);
      assert.match(
        scraped.metrics.at(-1)!,
        /streamqc_up\{stream="http:\/\/127\.0\.0\.1:\d+\/clip\.ts\?token=\*\*\*&sig=\*\*\*"\} 1/,
      );
      assert.match(scraped.status.at(-1)!, /"source":"http:\/\/127\.0\.0\.1:\d+\/clip\.ts\?token=\*\*\*&sig=\*\*\*"/);
    } finally {
      cdn.server.closeAllConnections();
      await new Promise<void>((resolve) => cdn.server.close(() => resolve()));
    }
  },
);

test('a signed URL that answers 404 exits 1 naming the masked URL', { timeout: 60_000 }, async () => {
  const cdn = await signedCdn(Buffer.alloc(0));
  try {
    const r = await runCli(['analyze', `${cdn.base}/gone.ts?token=${SECRET}&sig=x`], 30_000, {
      STREAMQC_LOG_LEVEL: 'debug',
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(exitLine(r).msg, /\/gone\.ts\?token=\*\*\*&sig=\*\*\*/);
    assert.ok(cdn.seen.includes(`/gone.ts?token=${SECRET}&sig=x`), cdn.seen.join(', '));
    assertCleanRun(r);
  } finally {
    await new Promise<void>((resolve) => cdn.server.close(() => resolve()));
  }
});

test(
  'URLs that ffmpeg prints itself (an HLS key URL it cannot fetch) are masked too',
  { timeout: 60_000 },
  async () => {
    const clip = await syntheticClip('signed-cdn', {
      width: 320,
      height: 180,
      fps: 25,
      duration: 6,
      schedule: [{ type: 'black', start: 2, end: 4 }],
    });
    const cdn = await signedCdn(readFileSync(clip));
    try {
      const r = await runCli(['analyze', `${cdn.base}/hls/index.m3u8?token=${SECRET}`], 30_000, {
        STREAMQC_LOG_LEVEL: 'debug',
      });
      assert.ok(
        cdn.seen.includes(`/hls/key?token=${SECRET}&sig=k3y`),
        `ffmpeg asked for the key: ${cdn.seen.join(', ')}`,
      );
      assert.match(r.stderr, /\/hls\/key\?token=\*\*\*&sig=\*\*\*/, `the key URL is in the logs, masked:\n${r.stderr}`);
      assertCleanRun(r);
    } finally {
      await new Promise<void>((resolve) => cdn.server.close(() => resolve()));
    }
  },
);

test('a signed URL given where a command belongs is masked in the usage error', async () => {
  const r = await runCli([`https://cdn.example/live.m3u8?token=${SECRET}`]);
  assert.equal(r.code, 2);
  assert.equal(exitLine(r).msg, 'unknown command "https://cdn.example/live.m3u8?token=***"');
  assertCleanRun(r);
});
