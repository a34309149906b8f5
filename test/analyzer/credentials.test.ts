/**
 * Source credentials come from the environment (the operator mounts them from a Secret),
 * reach the server, and never appear in what the analyzer prints.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticStreamArgs } from '../../analyzer/synthetic-source.js';
import { cachedMedia } from '../media/fixtures.js';
import { only, runCli } from './run-cli.js';

const USER = 'ops';
const PASSWORD = 's3cret-Pa55';

async function protectedHls(): Promise<{ server: Server; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'streamqc-auth-'));
  const clip = await cachedMedia('auth-src', 'ts', (out) =>
    syntheticStreamArgs({
      width: 320,
      height: 180,
      fps: 25,
      duration: 8,
      schedule: [{ type: 'black', start: 2, end: 5 }],
      output: out,
    }),
  );
  const seg = spawn(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-i',
      clip,
      '-c',
      'copy',
      '-f',
      'hls',
      '-hls_time',
      '2',
      '-hls_playlist_type',
      'vod',
      join(dir, 'index.m3u8'),
    ],
    { stdio: 'ignore' },
  );
  assert.equal(await new Promise((r) => seg.on('close', r)), 0);
  const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  const server = createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="streams"' }).end();
      return;
    }
    const file = join(dir, (req.url ?? '/').replace(/[^a-zA-Z0-9._-]/g, ''));
    if (!existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200);
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/index.m3u8` };
}

test(
  'credentials from STREAMQC_SOURCE_USERNAME/PASSWORD open a protected source and are never printed',
  { timeout: 60_000 },
  async () => {
    const { server, url } = await protectedHls();
    try {
      const denied = await runCli(['analyze', url]);
      assert.equal(denied.code, 1, 'without credentials the source cannot be opened');
      assert.match(denied.stderr, /401|Unauthorized/);

      const r = await runCli(['analyze', url], 60_000, {
        STREAMQC_SOURCE_USERNAME: USER,
        STREAMQC_SOURCE_PASSWORD: PASSWORD,
        STREAMQC_LOG_LEVEL: 'debug',
      });
      assert.equal(r.code, 0, r.stderr);
      const black = only(r, 'black');
      assert.ok(Math.abs(black.start - 2) < 0.1 && Math.abs(black.end - 5) < 0.1, JSON.stringify(black));
      assert.doesNotMatch(r.stdout + r.stderr, new RegExp(PASSWORD), 'the password never appears in output or logs');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  },
);

test('a wrong password names the source without the password', { timeout: 60_000 }, async () => {
  const { server, url } = await protectedHls();
  try {
    const r = await runCli(['analyze', url], 60_000, {
      STREAMQC_SOURCE_USERNAME: USER,
      STREAMQC_SOURCE_PASSWORD: 'wrong-secret-9',
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot open http:\/\/127\.0\.0\.1:\d+\/index\.m3u8/);
    assert.doesNotMatch(r.stderr, /wrong-secret-9/);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
