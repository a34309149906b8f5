/**
 * The bytes as received, teed (analyzer/transport/tapped-feed.ts): a TS file and an HTTP(S)
 * TS are read once by the analyzer, and the decoding ffmpeg reads those very bytes on its
 * stdin (a wrapper around the real ffmpeg records its arguments and its stdin); the checks'
 * results are those of the bytes themselves. An HLS source's checks read the segments its
 * delivery client hands the decoder, with continuity restarted at each discontinuity.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { resolveConfig } from '../../analyzer/config.js';
import type { AnalyzerStatus } from '../../analyzer/contract/status.js';
import { Analyzer } from '../../analyzer/pipeline.js';
import { cachedMedia } from '../media/fixtures.js';
import { constantRateClip, SOURCE_ARGS, VIDEO_ARGS, VIDEO_PID } from '../media/transport-clips.js';
import { dropAt, indicesOf, joinPackets, splitPackets } from '../media/ts-faults.js';
import { freeTcpPort } from '../net.js';
import { HlsOrigin, type RenditionMedia } from '../delivery/hls-origin.js';
import { eventually, ladderMedia } from '../delivery/watch.js';
import { startCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'streamqc-transport-taps-'));
let media: RenditionMedia[] = [];
let removeLadder = (): void => undefined;
before(async () => ({ media, remove: removeLadder } = await ladderMedia()));
after(() => {
  removeLadder();
  rmSync(dir, { recursive: true, force: true });
});

/** The constant-rate clip with three video packets missing: three continuity errors, nothing else. */
async function clipWithDrops(): Promise<{ file: string; bytes: Buffer }> {
  const packets = splitPackets(await constantRateClip());
  const video = indicesOf(packets, VIDEO_PID).filter((i) => (packets[i]![3]! & 0x60) === 0);
  const bytes = Buffer.from(joinPackets(dropAt(packets, [video[500]!, video[1500]!, video[2500]!])));
  const file = join(dir, 'drops.ts');
  writeFileSync(file, bytes);
  return { file, bytes };
}

/** A wrapper around the real ffmpeg that keeps each run's arguments and stdin in `into`. */
function recordingFfmpeg(into: string): string {
  const path = join(into, 'ffmpeg');
  writeFileSync(path, `#!/bin/sh\nprintf '%s\\n' "$@" > "${into}/args.$$"\ntee "${into}/stdin.$$" | ffmpeg "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

/** What the one decode run read: its arguments and its stdin. */
function decodeRun(into: string): { args: string[]; stdin: Buffer } {
  const runs = readdirSync(into).filter((f) => f.startsWith('args.'));
  assert.equal(runs.length, 1, `one decode run, not ${runs.join(', ')}`);
  const pid = runs[0]!.slice('args.'.length);
  return {
    args: readFileSync(join(into, `args.${pid}`), 'utf8')
      .trim()
      .split('\n'),
    stdin: readFileSync(join(into, `stdin.${pid}`)),
  };
}

async function analyze(input: string, ffmpegPath: string): Promise<AnalyzerStatus> {
  const config = resolveConfig({ stream: 'tap', detectors: { tr101290_priority1: { enabled: true } } });
  const analyzer = new Analyzer(config, input, { log: pino({ level: 'silent' }), ffmpegPath });
  const result = await analyzer.run();
  assert.equal(result.exitCode, 0, result.message ?? undefined);
  return analyzer.status();
}

function assertThreeDrops(status: AnalyzerStatus): void {
  const transport = status.transport;
  assert.ok(transport?.applicable === true, JSON.stringify(transport));
  assert.equal(transport.arrivalTimed, false);
  assert.deepEqual(
    Object.entries(transport.errors).filter(([, n]) => n > 0),
    [['continuity_count_error', 3]],
  );
  assert.ok(status.counters.frames >= 190, `frames decoded: ${status.counters.frames}`);
}

/** Runs `body` with an HTTP server on a loopback port answering with `handler`; closes it after. */
async function withServer<T>(handler: RequestListener, body: (port: number) => Promise<T>): Promise<T> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await body((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

test('a TS file is read once: the decoder reads the checked bytes on its stdin, and the checks count the same', async () => {
  const { file, bytes } = await clipWithDrops();
  const runs = mkdtempSync(join(dir, 'file-'));
  assertThreeDrops(await analyze(file, recordingFfmpeg(runs)));
  const { args, stdin } = decodeRun(runs);
  assert.equal(args[args.indexOf('-i') + 1], 'pipe:0');
  assert.ok(!args.includes(file), 'the decoder never opens the file');
  assert.ok(!args.includes('-re'), 'a file is decoded as fast as it can be, as before');
  assert.ok(stdin.equals(bytes), `the decoder read ${stdin.length} of the file's ${bytes.length} bytes, unchanged`);
});

test('an HTTP TS with credentials: one GET of the analyzer feeds checker and decoder; the credentials go along', async () => {
  const { bytes } = await clipWithDrops();
  const agents: string[] = [];
  const expected = `Basic ${Buffer.from('monitor:s3cret').toString('base64')}`;
  const serve: RequestListener = (req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="ts"' }).end();
      return;
    }
    agents.push(req.headers['user-agent'] ?? '');
    res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': bytes.length }).end(bytes);
  };
  await withServer(serve, async (port) => {
    const runs = mkdtempSync(join(dir, 'http-'));
    const status = await analyze(`http://monitor:s3cret@127.0.0.1:${port}/drops.ts`, recordingFfmpeg(runs));
    assertThreeDrops(status);
    assert.equal(status.source, `http://***@127.0.0.1:${port}/drops.ts`);
    const { args, stdin } = decodeRun(runs);
    assert.equal(args[args.indexOf('-i') + 1], 'pipe:0');
    assert.ok(stdin.equals(bytes), 'the decoder read the bytes the analyzer fetched, unchanged');
    // ffprobe's requests (Lavf) and exactly one of the analyzer's own.
    assert.equal(agents.filter((a) => !a.startsWith('Lavf')).length, 1, JSON.stringify(agents));
  });
});

test('an HTTP source that fails once it is a TS: the decoder is told, and a clear probe error ends the run', async () => {
  const { bytes } = await clipWithDrops();
  let served = 0;
  const serve: RequestListener = (_req, res) => {
    // ffprobe's first look succeeds; the analyzer's own request then finds the file gone.
    if (served++ === 0) res.writeHead(200, { 'content-type': 'video/mp2t' }).end(bytes);
    else res.writeHead(404).end();
  };
  await withServer(serve, async (port) => {
    const analyzer = new Analyzer(resolveConfig({}), `http://127.0.0.1:${port}/gone.ts`, {
      log: pino({ level: 'silent' }),
    });
    const result = await analyzer.run();
    assert.equal(result.exitCode, 1);
    assert.match(result.message ?? '', new RegExp(`^cannot decode http://127.0.0.1:${port}/gone.ts: HTTP 404$`));
  });
});

test('a live HTTP TS whose connection breaks: the analyzer fetches it again and joins the new connection anew', async () => {
  const clean = Buffer.from(await constantRateClip());
  let tapGets = 0;
  const serve: RequestListener = (req, res) => {
    const lavf = (req.headers['user-agent'] ?? '').startsWith('Lavf');
    if (!lavf) tapGets++;
    res.writeHead(200, { 'content-type': 'video/mp2t' });
    if (lavf || tapGets > 1) {
      res.end(clean);
      return;
    }
    // The analyzer's first connection breaks half way through the stream.
    res.write(clean.subarray(0, Math.floor(clean.length / 2 / 188) * 188), () => res.destroy());
  };
  await withServer(serve, async (port) => {
    const lost: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => lost.push(line) });
    const config = resolveConfig({ stream: 'http-live', live: true });
    const analyzer = new Analyzer(config, `http://127.0.0.1:${port}/live.ts`, { log });
    const run = analyzer.run();
    try {
      const status = await eventually(
        'the second connection checked',
        () => {
          const s = analyzer.status();
          return tapGets >= 2 && s.counters.reconnects >= 1 && s.transport?.applicable ? s : undefined;
        },
        60_000,
      );
      const transport = status.transport;
      assert.ok(transport?.applicable === true);
      assert.equal(transport.errors.continuity_count_error, 0, 'a new connection is no continuity error');
      assert.ok(
        lost.some((l) => l.includes('source connection lost')),
        `the broken connection is logged: ${lost.join('')}`,
      );
    } finally {
      analyzer.stop();
      await run;
    }
  });
});

test('an HTTP MP4: the transport checks do not apply, and say why', async () => {
  const mp4 = readFileSync(
    // faststart: the index first, so ffmpeg reads it in one pass from a server without ranges.
    await cachedMedia('transport-not-ts-faststart', 'mp4', (out) => [
      ...['-v', 'error', '-y', ...SOURCE_ARGS(2), ...VIDEO_ARGS],
      ...['-c:a', 'aac', '-movflags', '+faststart', out],
    ]),
  );
  const serve: RequestListener = (_req, res) => {
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': mp4.length }).end(mp4);
  };
  await withServer(serve, async (port) => {
    const analyzer = new Analyzer(resolveConfig({}), `http://127.0.0.1:${port}/clip.mp4`, {
      log: pino({ level: 'silent' }),
    });
    const result = await analyzer.run();
    assert.equal(result.exitCode, 0, result.message ?? undefined);
    assert.deepEqual(analyzer.status().transport, {
      applicable: false,
      reason: 'the source is mov,mp4,m4a,3gp,3g2,mj2, not an MPEG transport stream',
    });
  });
});

test('live HLS: the checks read the segments the decoder is given, and a loop point marked as a discontinuity is no continuity error', async () => {
  const origin = new HlsOrigin(media);
  const url = await origin.listen();
  const port = await freeTcpPort();
  const config = join(dir, 'hls.json');
  writeFileSync(config, JSON.stringify({ stream: 'hls', delivery: { enabled: true } }));
  const cli = startCli(['analyze', url, '--metrics-port', String(port), '--config', config]);
  try {
    // The origin loops every 4 segments, each loop point an EXT-X-DISCONTINUITY: 9 segments cross two.
    const status = await eventually(
      'nine segments checked',
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/status`).catch(() => null);
        const s = res?.ok ? ((await res.json()) as AnalyzerStatus) : undefined;
        return s?.transport?.applicable === true && s.transport.t >= 9 ? s : undefined;
      },
      60_000,
    );
    const transport = status.transport;
    assert.ok(transport?.applicable === true);
    assert.equal(transport.arrivalTimed, false);
    assert.equal(transport.errors.continuity_count_error, 0, JSON.stringify(transport.errors));
    // ffmpeg's HLS muxer writes PAT and PMT once per 1 s segment: more than 0.5 s apart, a true
    // TR 101 290 1.3/1.5 error (the only one these segments have).
    assert.deepEqual(
      Object.entries(transport.errors)
        .filter(([, n]) => n > 0)
        .map(([check]) => check)
        .filter((check) => check !== 'pat_error' && check !== 'pmt_error'),
      [],
    );
    assert.ok(
      transport.pids.some((p) => p.role === 'video' && p.present),
      JSON.stringify(transport.pids.map((p) => [p.pid, p.role])),
    );
  } finally {
    cli.child.kill('SIGTERM');
    await cli.done;
    await origin.close();
  }
});
