/**
 * Live sources on loopback: MPEG-TS over UDP from a real-time ffmpeg sender, and HLS over
 * HTTP. Proves the HTTP endpoints while media flows, the stall defect and reconnect when
 * the source dies and comes back, a clean SIGTERM that closes active defects, and that no
 * ffmpeg child outlives the analyzer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { syntheticStreamArgs, type DefectWindow } from '../../analyzer/synthetic-source.js';
import { childPids } from '../../analyzer/ingest/children.js';
import { freeUdpPort } from '../../analyzer/demo.js';
import { cachedMedia } from '../media/fixtures.js';
import { only, runCli, startCli } from './run-cli.js';
import { freeTcpPort, metricValue } from '../net.js';

const dir = mkdtempSync(join(tmpdir(), 'streamqc-live-'));

function startSender(url: string, schedule: DefectWindow[], offset: number): ChildProcess {
  return spawn(
    'ffmpeg',
    syntheticStreamArgs({
      width: 320,
      height: 180,
      fps: 25,
      duration: null,
      realtime: true,
      schedule,
      scheduleOffset: offset,
      output: url,
    }),
    { stdio: 'ignore' },
  );
}

async function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.kill('SIGKILL');
  await new Promise((r) => p.once('close', r));
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

test(
  'a live UDP stream: endpoints, a stall and reconnect, and SIGTERM closing an active defect',
  { timeout: 120_000 },
  async () => {
    const udp = await freeUdpPort();
    const httpPort = await freeTcpPort();
    const url = `udp://127.0.0.1:${udp}?pkt_size=1316`;
    const config = join(dir, 'live.yaml');
    writeFileSync(
      config,
      [
        'stream: live-test',
        'listenAddress: 127.0.0.1',
        `http:\n  port: ${httpPort}`,
        'ingest:\n  ioTimeout: 2\n  reconnectInitialDelay: 0.2\n  reconnectMaxDelay: 1',
        '',
      ].join('\n'),
    );
    // Black from 14 s on the sender's clock until well after we stop.
    const schedule: DefectWindow[] = [{ type: 'black', start: 14, end: 600 }];
    let signalledAt: number;
    let sender = startSender(url, schedule, 0);
    const cli = startCli(['analyze', url, '--config', config, '--format', 'jsonl']);
    const seenChildren = new Set<number>();
    const watch = setInterval(() => {
      if (cli.child.pid) for (const pid of childPids(cli.child.pid)) seenChildren.add(pid);
    }, 100);
    try {
      await until('healthz', async () => ((await get(httpPort, '/healthz')).status === 200 ? true : undefined));
      await until('readyz', async () => ((await get(httpPort, '/readyz')).status === 200 ? true : undefined));
      const metrics = await until('frames in /metrics', async () => {
        const m = await get(httpPort, '/metrics');
        return metricValue(m.body, 'streamqc_frames_total') > 25 ? m.body : undefined;
      });
      assert.match(metrics, /streamqc_up\{stream="live-test"\} 1/);
      assert.match(
        metrics,
        /streamqc_stream_info\{stream="live-test",video_codec="h264",resolution="320x180",frame_rate="25",audio_codec="aac",sample_rate="48000",channel_layout="stereo"\} 1/,
      );
      assert.match(metrics, /streamqc_defect_active\{stream="live-test",type="stall"\} 0/);
      const status = JSON.parse((await get(httpPort, '/status')).body) as {
        phase: string;
        format: { width: number };
        live: boolean;
      };
      assert.equal(status.phase, 'running');
      assert.equal(status.format.width, 320);
      assert.equal(status.live, true);

      // The source dies for 6 s: a stall, /readyz goes 503, then it comes back.
      await sleep(1500);
      await stopProcess(sender);
      const stoppedAt = Date.now();
      await until('stall active', async () => {
        const m = await get(httpPort, '/metrics');
        return m.body.includes('streamqc_defect_active{stream="live-test",type="stall"} 1') ? true : undefined;
      });
      assert.equal((await get(httpPort, '/readyz')).status, 503);
      await sleep(Math.max(0, 6000 - (Date.now() - stoppedAt)));
      sender = startSender(url, schedule, 10);
      await until('stall cleared and reconnected', async () => {
        const m = (await get(httpPort, '/metrics')).body;
        return m.includes('streamqc_defect_active{stream="live-test",type="stall"} 0') &&
          metricValue(m, 'streamqc_reconnects_total') >= 1
          ? true
          : undefined;
      });
      // Sender clock 10 -> black at 14: about 4 s after the restart.
      await until(
        'black active',
        async () => {
          const m = await get(httpPort, '/metrics');
          return m.body.includes('streamqc_defect_active{stream="live-test",type="black"} 1') ? true : undefined;
        },
        15_000,
      );
    } catch (err) {
      const status = await get(httpPort, '/status').catch(() => ({ body: 'unavailable' }));
      throw new Error(`${(err as Error).message}\nstatus: ${status.body}`, { cause: err });
    } finally {
      clearInterval(watch);
      signalledAt = Date.now();
      cli.child.kill('SIGTERM');
      await stopProcess(sender);
    }
    const r = await cli.done;
    assert.equal(r.code, 0, r.stderr);
    const stall = only(r, 'stall');
    assert.ok(
      stall.end - stall.start >= 4 && stall.end - stall.start < 12,
      `stall lasted ${stall.end - stall.start} s`,
    );
    const black = only(r, 'black');
    assert.ok(black.end > black.start, 'the active black defect was closed at SIGTERM');
    // Closed at the signal (the timeline runs at wall-clock pace while media flows), not when
    // the ffmpeg children had exited.
    const closedAt = Date.parse(black.wallclock) + (black.end - black.start) * 1000;
    assert.ok(Math.abs(closedAt - signalledAt) < 600, `black closed ${closedAt - signalledAt} ms from the signal`);
    // The black may already be on the first frame after the reconnect (the sender's black starts
    // 4 s after its restart, about as long as a reconnect can take): it then starts exactly where
    // the stall ends. A timeline that restarted at the reconnect would put it before the stall.
    assert.ok(
      black.start >= stall.end,
      `timeline continues across the outage: stall ${JSON.stringify(stall)}, black ${JSON.stringify(black)}`,
    );
    assert.ok(seenChildren.size >= 1, 'the analyzer ran ffmpeg children');
    for (const pid of seenChildren)
      assert.equal(existsSync(`/proc/${pid}`), false, `ffmpeg child ${pid} outlived the analyzer`);
  },
);

test('HLS over loopback HTTP is analysed to its end', { timeout: 120_000 }, async () => {
  const hlsDir = mkdtempSync(join(tmpdir(), 'streamqc-hls-'));
  const clip = await cachedMedia('hls-src', 'ts', (out) =>
    syntheticStreamArgs({
      width: 320,
      height: 180,
      fps: 25,
      duration: 12,
      schedule: [{ type: 'black', start: 3, end: 6 }],
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
      join(hlsDir, 'index.m3u8'),
    ],
    { stdio: 'ignore' },
  );
  assert.equal(await new Promise((r) => seg.on('close', r)), 0);
  const server = createHttpServer((req, res) => {
    const file = join(hlsDir, (req.url ?? '/').replace(/[^a-zA-Z0-9._-]/g, ''));
    if (!existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200);
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const r = await runCli(['analyze', `http://127.0.0.1:${port}/index.m3u8`], 60_000);
    assert.equal(r.code, 0, r.stderr);
    const black = only(r, 'black');
    assert.ok(Math.abs(black.start - 3) < 0.1 && Math.abs(black.end - 6) < 0.1, JSON.stringify(black));
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
