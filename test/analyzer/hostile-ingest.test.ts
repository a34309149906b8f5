/**
 * Media and servers are untrusted: odd but legal audio, servers that lie or loop, children
 * killed under the analyzer, and inputs that name ffmpeg protocols. Each case ends with the
 * contract's exit code, a message naming the cause, and no child left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { syntheticStreamArgs } from '../../analyzer/synthetic-source.js';
import { freeTcpPort, silentServer } from '../net.js';
import { childPids } from '../../analyzer/ingest/children.js';
import { probeSource } from '../../analyzer/ingest/probe.js';
import { DecodeSession } from '../../analyzer/ingest/decode-session.js';
import { parseSource } from '../../analyzer/ingest/source-url.js';
import { Analyzer } from '../../analyzer/pipeline.js';
import { defaultConfig } from '../../analyzer/config.js';
import { silentLogger } from '../../analyzer/report/log.js';
import { cachedMedia } from '../media/fixtures.js';
import { exitLine, only, runCli, startCli, type CliResult } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'streamqc-hostile-'));

function noStackTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /\n\s+at .+\(.+:\d+:\d+\)/, `a stack trace leaked:\n${stderr}`);
}

/** An HTTP server on loopback for one test; `url(path)` addresses it. */
async function loopbackServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: (path: string) => string; close: () => Promise<void> }> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** The name of the program `pid` runs now (its executable after exec), or ''. */
function programOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * The pid of `parent`'s child that runs the program `name`, once it runs it. The children are
 * spawned as `setpriv --pdeathsig KILL -- ffprobe ...`: their command line names ffprobe from
 * the fork on, but until setpriv has set the death signal and exec'd, killing the parent leaves
 * the child behind. So the program itself is waited for, not the command line.
 */
async function childRunning(parent: number, name: string, timeoutMs = 20_000): Promise<number> {
  for (const end = Date.now() + timeoutMs; Date.now() < end;) {
    const pid = childPids(parent).find((p) => programOf(p) === name);
    if (pid !== undefined) return pid;
    await sleep(50);
  }
  throw new Error(`no ${name} child of ${parent} within ${timeoutMs} ms`);
}

function configFile(name: string, yaml: string): string {
  const path = join(dir, name);
  writeFileSync(path, yaml);
  return path;
}

/** 8 s, 320x180, black from 2 s to 5 s. */
function blackClip(): Promise<string> {
  return cachedMedia('hostile-black', 'ts', (out) =>
    syntheticStreamArgs({
      width: 320,
      height: 180,
      fps: 25,
      duration: 8,
      schedule: [{ type: 'black', start: 2, end: 5 }],
      output: out,
    }),
  );
}

/** The clip cut into 2 s HLS segments in a fresh folder; returns the folder. */
async function hlsOf(clip: string): Promise<string> {
  const out = mkdtempSync(join(dir, 'hls-'));
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
      '-hls_list_size',
      '0',
      join(out, 'index.m3u8'),
    ],
    { stdio: 'ignore' },
  );
  assert.equal(await new Promise((r) => seg.on('close', r)), 0);
  return out;
}

/** 7 s of a -20 dBFS tone at `rate` Hz, silent from 2 s to 5 s. */
function toneWithGap(rate: number): Promise<string> {
  return cachedMedia(`tone-gap-${rate}`, 'wav', (out) => [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    `aevalsrc=exprs='if(between(t,2,5),0,0.1*sin(2*PI*300*t))':s=${rate}:d=7`,
    '-c:a',
    'pcm_s16le',
    '-y',
    out,
  ]);
}

/** 6 s of digital silence on 65 channels (lavfi cannot make more than 64: raw zeros can). */
function sixtyFiveChannels(withVideo: boolean): Promise<string> {
  const video = withVideo ? ['-f', 'lavfi', '-i', 'color=c=black:s=160x90:r=25:d=6'] : [];
  return cachedMedia(`silence-65ch${withVideo ? '-black' : ''}`, 'mkv', (out) => [
    '-hide_banner',
    '-loglevel',
    'error',
    ...video,
    '-f',
    's16le',
    '-ar',
    '48000',
    '-ac',
    '65',
    '-t',
    '6',
    '-i',
    '/dev/zero',
    ...(withVideo ? ['-c:v', 'ffv1'] : []),
    '-c:a',
    'pcm_s16le',
    '-y',
    out,
  ]);
}

for (const rate of [2000, 4000, 1_000_000]) {
  test(`audio at ${rate} Hz is analysed: the 2-5 s gap is one silence event, exit 0`, { timeout: 60_000 }, async () => {
    const r = await runCli(['analyze', await toneWithGap(rate)]);
    assert.equal(r.code, 0, r.stderr);
    noStackTrace(r.stderr);
    const silence = only(r, 'silence');
    assert.ok(Math.abs(silence.start - 2) < 0.1 && Math.abs(silence.end - 5) < 0.1, JSON.stringify(silence));
  });
}

test(
  '/status keeps the source format (2 kHz) and says what the meters measure (8 kHz)',
  { timeout: 60_000 },
  async () => {
    const analyzer = new Analyzer(defaultConfig(), await toneWithGap(2000), { log: silentLogger() });
    const result = await analyzer.run();
    assert.equal(result.exitCode, 0, result.message ?? '');
    const status = analyzer.status();
    assert.equal(status.format.sampleRate, 2000);
    assert.equal(status.format.channels, 1);
    assert.deepEqual(status.analysis.audio, { sampleRate: 8000, channels: 1 });
  },
);

test(
  '65 audio channels beside video: the video is analysed, the audio refused with the reason, exit 0',
  { timeout: 60_000 },
  async () => {
    const r = await runCli(['analyze', await sixtyFiveChannels(true)]);
    assert.equal(r.code, 0, r.stderr);
    noStackTrace(r.stderr);
    assert.match(r.stderr, /65 channels; at most 64 can be analysed/);
    assert.deepEqual(
      r.events.map((e) => e.type),
      ['black'],
    );
  },
);

test('65 audio channels and nothing else: exit 1 naming the channel count', { timeout: 60_000 }, async () => {
  const clip = await sixtyFiveChannels(false);
  const r = await runCli(['analyze', clip]);
  assert.equal(r.code, 1, r.stderr);
  noStackTrace(r.stderr);
  assert.match(
    exitLine(r).msg,
    /^cannot analyze .*silence-65ch.*: its audio has 65 channels; at most 64 can be analysed/,
  );
  assert.equal(r.stdout, '');
});

test(
  'a finite file from a server without Range or Content-Length is analysed once, exit 0',
  { timeout: 90_000 },
  async () => {
    const bytes = readFileSync(await blackClip());
    let downloads = 0;
    // Chunked transfer, Range ignored: ffprobe finds no duration, as for a live stream.
    const server = await loopbackServer((_req, res) => {
      downloads++;
      res.writeHead(200, { 'content-type': 'video/mp2t' });
      res.end(bytes);
    });
    try {
      const r = await runCli(['analyze', server.url('/clip.ts')], 40_000);
      assert.equal(r.code, 0, r.stderr);
      only(r, 'black');
      assert.ok(downloads <= 2, `the file was downloaded ${downloads} times (one probe, one analysis expected)`);
    } finally {
      await server.close();
    }
  },
);

test(
  'an HLS playlist without EXT-X-ENDLIST is live: it waits for more and SIGTERM ends it with exit 0',
  { timeout: 90_000 },
  async () => {
    const hls = await hlsOf(await blackClip());
    const playlist = readFileSync(join(hls, 'index.m3u8'), 'utf8').replace('#EXT-X-ENDLIST\n', '');
    const server = await loopbackServer((req, res) => {
      const name = (req.url ?? '/').slice(1);
      if (name === 'index.m3u8') return void res.writeHead(200).end(playlist);
      if (!readdirSync(hls).includes(name)) return void res.writeHead(404).end();
      res.writeHead(200).end(readFileSync(join(hls, name)));
    });
    const port = await freeTcpPort();
    const cli = startCli(['analyze', server.url('/index.m3u8'), '--metrics-port', String(port)]);
    try {
      let status: { live: boolean; counters: { frames: number } } | null = null;
      for (let i = 0; i < 100 && !(status && status.counters.frames > 25); i++) {
        await sleep(200);
        status = await fetch(`http://127.0.0.1:${port}/status`).then(
          (res) => res.json() as Promise<typeof status>,
          () => null,
        );
      }
      assert.ok(status, 'no /status answer');
      assert.equal(status.live, true);
    } finally {
      cli.child.kill('SIGTERM');
      await server.close();
    }
    const r = await cli.done;
    assert.equal(r.code, 0, r.stderr);
  },
);

test("a probe that fails names the cause, never ffprobe's version banner: a 404", { timeout: 60_000 }, async () => {
  const server = await loopbackServer((_req, res) => void res.writeHead(404).end());
  try {
    const r = await runCli(['analyze', server.url('/gone.ts')]);
    assert.equal(r.code, 1, r.stderr);
    noStackTrace(r.stderr);
    assert.match(exitLine(r).msg, /^cannot open http:\/\/127\.0\.0\.1:\d+\/gone\.ts: .*404 Not Found/);
    assert.doesNotMatch(r.stderr, /ffprobe version|libav|libpostproc/);
  } finally {
    await server.close();
  }
});

test(
  "a probe that fails names the cause, never ffprobe's version banner: ffprobe killed",
  { timeout: 60_000 },
  async () => {
    const server = await silentServer();
    const config = configFile('slow-io.yaml', 'ingest:\n  ioTimeout: 30\n');
    const cli = startCli(['analyze', `http://127.0.0.1:${server.port}/hangs.ts`, '--config', config]);
    try {
      process.kill(await childRunning(cli.child.pid!, 'ffprobe'), 'SIGKILL');
      const r = await cli.done;
      assert.equal(r.code, 1, r.stderr);
      noStackTrace(r.stderr);
      assert.match(exitLine(r).msg, /^cannot open http:\/\/127\.0\.0\.1:\d+\/hangs\.ts: ffprobe was killed by SIGKILL/);
      assert.doesNotMatch(r.stderr, /ffprobe version|libav|libpostproc/);
    } finally {
      cli.child.kill('SIGKILL');
      await server.close();
    }
  },
);

/** Processes, anyone's, whose command line contains `marker` (a port only this test uses). */
function processesWith(marker: string): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((pid) => commandLine(pid).includes(marker));
}

test('no ffprobe outlives an analyzer killed with SIGKILL during a hanging probe', { timeout: 60_000 }, async () => {
  const server = await silentServer();
  const marker = `127.0.0.1:${server.port}`;
  // ffprobe's own I/O timeout is far away: only its parent's death can end it within the test.
  const config = configFile('very-slow-io.yaml', 'ingest:\n  ioTimeout: 120\n');
  const cli = startCli(['analyze', `http://${marker}/hangs.ts`, '--config', config]);
  try {
    await childRunning(cli.child.pid!, 'ffprobe');
    cli.child.kill('SIGKILL');
    await cli.done;
    let left = processesWith(marker);
    for (let i = 0; i < 50 && left.length > 0; i++) {
      await sleep(100);
      left = processesWith(marker);
    }
    assert.deepEqual(left.map(commandLine), [], 'a child of the killed analyzer lives on');
  } finally {
    for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
    await server.close();
  }
});

/** An HLS master playlist that lists itself: every request is answered at once, forever. */
function selfReferencingPlaylist(): ReturnType<typeof loopbackServer> {
  return loopbackServer(
    (_req, res) => void res.writeHead(200).end('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=100000\nmaster.m3u8\n'),
  );
}

test(
  'SIGTERM during a probe that never ends (a self-referencing playlist) exits 0 within 3 s',
  { timeout: 60_000 },
  async () => {
    const server = await selfReferencingPlaylist();
    const cli = startCli(['analyze', server.url('/master.m3u8')]);
    try {
      await childRunning(cli.child.pid!, 'ffprobe');
      await sleep(500);
      const signalled = Date.now();
      cli.child.kill('SIGTERM');
      const r = await cli.done;
      const exitedAfter = Date.now() - signalled;
      assert.equal(r.code, 0, r.stderr);
      noStackTrace(r.stderr);
      assert.ok(exitedAfter < 3000, `exited ${exitedAfter} ms after SIGTERM`);
    } finally {
      cli.child.kill('SIGKILL');
      await server.close();
    }
  },
);

/** The CLI's run on a self-referencing playlist with `yaml` as its config. */
async function analyzeSelfReferencing(name: string, yaml: string): Promise<CliResult> {
  const server = await selfReferencingPlaylist();
  try {
    const r = await runCli(['analyze', server.url('/master.m3u8'), '--config', configFile(name, yaml)], 40_000);
    assert.equal(r.code, 1, r.stderr);
    noStackTrace(r.stderr);
    return r;
  } finally {
    await server.close();
  }
}

test('a probe past its deadline is exit 1 naming the deadline for a finite input', { timeout: 60_000 }, async () => {
  const r = await analyzeSelfReferencing('deadline.yaml', 'ingest:\n  ioTimeout: 1\n');
  assert.match(
    exitLine(r).msg,
    /^cannot open http:\/\/127\.0\.0\.1:\d+\/master\.m3u8: no answer within 5 s \(the probe's deadline/,
  );
});

test('a probe past its deadline is retried for a live input, until the open timeout', { timeout: 60_000 }, async () => {
  const r = await analyzeSelfReferencing(
    'deadline-live.yaml',
    'live: true\ningest:\n  ioTimeout: 0.5\n  openTimeout: 5\n  reconnectInitialDelay: 0.2\n',
  );
  const retries = r.stderr.split('\n').filter((l) => l.includes('will retry') && l.includes('no answer within 4 s'));
  assert.ok(retries.length >= 1, `no retry after the deadline:\n${r.stderr}`);
  assert.match(exitLine(r).msg, /^cannot open .*master\.m3u8: no answer within 4 s/);
});

test(
  'ffmpeg killed in the middle of a finite input is exit 1 naming the signal, with the events so far',
  { timeout: 90_000 },
  async () => {
    const bytes = readFileSync(
      await cachedMedia('hostile-long', 'ts', (out) =>
        syntheticStreamArgs({
          width: 320,
          height: 180,
          fps: 25,
          duration: 30,
          schedule: [{ type: 'black', start: 2, end: 4 }],
          output: out,
        }),
      ),
    );
    // Served at twice its real-time rate, so ffmpeg is still decoding when it is killed.
    const chunk = Math.ceil((bytes.length / 30) * 2 * 0.05);
    const server = await loopbackServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp2t' });
      let sent = 0;
      const timer = setInterval(() => {
        if (sent >= bytes.length || res.destroyed) return void (clearInterval(timer), res.end());
        res.write(bytes.subarray(sent, (sent += chunk)));
      }, 50);
    });
    const cli = startCli(['analyze', server.url('/long.ts')]);
    try {
      let stdout = '';
      cli.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      for (const end = Date.now() + 30_000; !stdout.includes('"type":"black"') && Date.now() < end;) await sleep(50);
      process.kill(await childRunning(cli.child.pid!, 'ffmpeg'), 'SIGKILL');
      const r = await cli.done;
      assert.equal(r.code, 1, r.stderr);
      noStackTrace(r.stderr);
      assert.match(
        exitLine(r).msg,
        /^cannot decode http:\/\/127\.0\.0\.1:\d+\/long\.ts to its end: ffmpeg was killed by SIGKILL after \d+\.\d s of media/,
      );
      const black = only(r, 'black');
      assert.ok(Math.abs(black.start - 2) < 0.1 && Math.abs(black.end - 4) < 0.1, JSON.stringify(black));
    } finally {
      cli.child.kill('SIGKILL');
      await server.close();
    }
  },
);

test('an INPUT naming an ffmpeg protocol (concat:, subfile, pipe:, unix:) is refused with exit 2', async () => {
  const clip = await blackClip();
  for (const input of [
    `concat:${clip}|${clip}`,
    `subfile,,start,0,end,0,,:${clip}`,
    'pipe:0',
    'unix:/run/streamqc.sock',
    `file://concat:${clip}|${clip}`,
  ]) {
    const r = await runCli(['analyze', input]);
    assert.equal(r.code, 2, `${input}: ${r.stderr}`);
    noStackTrace(r.stderr);
    assert.match(
      exitLine(r).msg,
      /^INPUT ".+" names ffmpeg's "(concat|subfile|pipe|unix)" protocol, which is not allowed: give a file path/,
    );
    assert.equal(r.stdout, '');
  }
  const explicitFile = await runCli(['analyze', `file:${clip}`]);
  assert.equal(explicitFile.code, 0, explicitFile.stderr);
  only(explicitFile, 'black');
});

test("ffprobe and ffmpeg open only the protocols of the source's scheme", { timeout: 60_000 }, async () => {
  const clip = await blackClip();
  const file = parseSource(clip);
  const probe = await probeSource(file, { ioTimeoutSeconds: 5 });
  // A file source whose input names another protocol (as if the CLI's check were bypassed).
  const concat = { ...file, input: `concat:${clip}|${clip}` };
  await assert.rejects(
    probeSource(concat, { ioTimeoutSeconds: 5 }),
    /Protocol 'concat' not on whitelist 'file,crypto'/,
  );
  let frames = 0;
  const diagnostics: string[] = [];
  const session = new DecodeSession(
    { source: concat, probe, analysis: { width: 80, height: 45 }, audio: null, ioTimeoutSeconds: 5 },
    {
      video: () => {
        frames++;
      },
      audio: () => undefined,
      avOffset: () => undefined,
      format: () => undefined,
      decodeError: () => undefined,
      diagnostic: (_level, message) => void diagnostics.push(message),
    },
  );
  const exit = await session.exited;
  assert.notEqual(exit.code, 0);
  assert.ok(
    diagnostics.some((d) => d.includes("Protocol 'concat' not on whitelist 'file,crypto'")),
    diagnostics.join('\n'),
  );
  assert.equal(frames, 0);
});

test(
  'an HLS playlist whose segments name concat:, subfile or file: of a local file never reads it',
  { timeout: 60_000 },
  async () => {
    const secret = await blackClip();
    for (const segment of [
      `concat:${secret}|${secret}`,
      `subfile,,start,0,end,0,,:${secret}`,
      `file:${secret}`,
      `file://${secret}`,
    ]) {
      const server = await loopbackServer(
        (_req, res) =>
          void res.writeHead(200).end(`#EXTM3U\n#EXT-X-TARGETDURATION:8\n#EXTINF:8,\n${segment}\n#EXT-X-ENDLIST\n`),
      );
      try {
        const r = await runCli(['analyze', server.url('/index.m3u8')]);
        assert.equal(r.code, 1, `${segment}: ${r.stderr}`);
        noStackTrace(r.stderr);
        assert.deepEqual(r.events, [], `${segment}: the local file was analysed`);
      } finally {
        await server.close();
      }
    }
  },
);
