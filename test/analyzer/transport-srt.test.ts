/**
 * The transport checks on a live SRT source. A sender (srt-live-transmit, listener) is fed an
 * ffmpeg-made TS at the pace of its PCRs; the analyzer calls it through a small loopback UDP
 * relay that drops chosen SRT data packets in flight, and every retransmission of them (same
 * sequence number), so that the receiver gives up on each after its latency (too-late drop)
 * and the stream it delivers has a real gap. The continuity errors counted equal those the
 * dropped payloads make, derived packet by packet from what the receiver got.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeUdpPort } from '../../analyzer/demo.js';
import type { AnalyzerStatus } from '../../analyzer/contract/status.js';
import { srtTransmitUri } from '../../analyzer/transport/connections.js';
import { cachedMedia } from '../media/fixtures.js';
import { CONSTANT_RATE_MUX_ARGS, SOURCE_ARGS, VIDEO_ARGS } from '../media/transport-clips.js';
import { hasPayload, packetTimes, pidOf, splitPackets } from '../media/ts-faults.js';
import { freeTcpPort } from '../net.js';
import { startCli } from './run-cli.js';

/** Seven TS packets per SRT packet, as every SRT sender of TS does (1316-byte payload). */
const CHUNK = 7 * 188;
/** SRT data packet header (SRT RFC draft, section 3.1): 16 bytes before the payload. */
const SRT_HEADER = 16;
/** Every this many data packets of a connection one is dropped (about three a second at 1.5 Mbit/s). */
const DROP_EVERY = 47;

/** 16 s at 1.5 Mbit/s constant rate: the analyzer's probe takes a few seconds of it first. */
async function clip(): Promise<Uint8Array> {
  const path = await cachedMedia('transport-cbr-16s', 'ts', (out) => [
    ...['-v', 'error', '-y', ...SOURCE_ARGS(16), ...VIDEO_ARGS],
    ...'-b:v 800k -maxrate 800k -bufsize 800k'.split(' '),
    ...CONSTANT_RATE_MUX_ARGS,
    out,
  ]);
  return readFileSync(path);
}

/** One SRT connection through the relay, and the continuity errors its drops make for its receiver. */
interface Connection {
  upstream: Socket;
  highest: number | null;
  dataPackets: number;
  dropped: Set<number>;
  /** Per PID: whether its receiver has had a packet of it, and whether packets went missing since. */
  pids: Map<number, { gap: boolean }>;
  expected: number;
}

/** `a` is after `b` in SRT's 31-bit sequence space. */
function after(a: number, b: number): boolean {
  const d = (a - b) & 0x7fffffff;
  return d !== 0 && d < 0x40000000;
}

/**
 * The relay: each caller gets its own upstream socket to the listener. Data packets from the
 * listener are counted on their first transmission; each DROP_EVERY-th is dropped with all its
 * retransmissions. The truth follows the receiver packet by packet: a PID it has seen, whose
 * packets were lost, makes one continuity error at its next packet that arrives.
 */
function startRelay(listenerPort: number): { port: () => number; connections: Connection[]; close: () => void } {
  const front = createSocket('udp4');
  const byCaller = new Map<string, Connection>();
  const connections: Connection[] = [];
  const toCaller = (c: Connection, message: Buffer, caller: RemoteInfo): void => {
    if ((message[0]! & 0x80) === 0) {
      const seq = message.readUInt32BE(0) & 0x7fffffff;
      if (c.dropped.has(seq)) return;
      if (c.highest === null || after(seq, c.highest)) {
        c.highest = seq;
        c.dataPackets++;
        const drop = c.dataPackets % DROP_EVERY === 0;
        for (const p of splitPackets(message.subarray(SRT_HEADER))) {
          const pid = pidOf(p);
          if (pid === 0x1fff || !hasPayload(p)) continue; // no counter to break
          const state = c.pids.get(pid);
          if (drop) {
            if (state) state.gap = true;
          } else {
            if (state?.gap) c.expected++;
            c.pids.set(pid, { gap: false });
          }
        }
        if (drop) {
          c.dropped.add(seq);
          return;
        }
      }
    }
    front.send(message, caller.port, caller.address);
  };
  front.on('message', (message, caller) => {
    const key = `${caller.address}:${caller.port}`;
    let c = byCaller.get(key);
    if (!c) {
      const upstream = createSocket('udp4');
      const made: Connection = {
        upstream,
        highest: null,
        dataPackets: 0,
        dropped: new Set(),
        pids: new Map(),
        expected: 0,
      };
      upstream.on('message', (reply) => toCaller(made, reply, caller));
      byCaller.set(key, made);
      connections.push(made);
      c = made;
    }
    c.upstream.send(message, listenerPort, '127.0.0.1');
  });
  front.bind(0, '127.0.0.1');
  return {
    port: () => front.address().port,
    connections,
    close: () => {
      front.close();
      for (const c of connections) c.upstream.close();
    },
  };
}

test(
  'SRT packets dropped in flight with their retransmissions are counted as exactly the continuity errors they make',
  { timeout: 120_000 },
  async (t) => {
    const packets = splitPackets(await clip());
    const times = packetTimes(packets);
    const listenerPort = await freeUdpPort();
    const sender = spawn(
      'srt-live-transmit',
      ['-q', `-chunk:${CHUNK}`, 'file://con', `srt://127.0.0.1:${listenerPort}?mode=listener&latency=120`],
      { stdio: ['pipe', 'ignore', 'inherit'] },
    );
    sender.stdin.on('error', () => undefined);
    const relay = startRelay(listenerPort);
    await new Promise<void>((resolve) => setImmediate(resolve));
    const httpPort = await freeTcpPort();
    const dir = mkdtempSync(join(tmpdir(), 'streamqc-transport-srt-'));
    const config = join(dir, 'srt.yaml');
    writeFileSync(
      config,
      ['stream: transport-srt', 'listenAddress: 127.0.0.1', `http:\n  port: ${httpPort}`, ''].join('\n'),
    );
    // ffmpeg's SRT options: latency in microseconds (120 ms).
    const source = `srt://127.0.0.1:${relay.port()}?mode=caller&latency=120000`;
    const cli = startCli(['analyze', source, '--config', config, '--format', 'jsonl']);
    try {
      // The sender is fed at the stream's own pace from the start: the analyzer's probe reads it first.
      const started = Date.now();
      for (let first = 0; first < packets.length; first += 7) {
        const wait = times[first]! * 1000 - (Date.now() - started);
        if (wait > 2) await sleep(wait);
        sender.stdin.write(Buffer.concat(packets.slice(first, first + 7)));
      }
      await sleep(1000);
      const status = (await (await fetch(`http://127.0.0.1:${httpPort}/status`)).json()) as AnalyzerStatus;
      // The probe's connection, then the tap's: the decoder opened none of its own.
      assert.equal(relay.connections.length, 2, `connections through the relay: ${relay.connections.length}`);
      const tap = relay.connections[1]!;
      assert.ok(tap.expected >= 5, `the relay dropped ${tap.dropped.size} SRT packets making ${tap.expected} errors`);
      t.diagnostic(
        `${tap.dataPackets} SRT data packets, ${tap.dropped.size} dropped: ${tap.expected} continuity errors`,
      );
      const transport = status.transport;
      assert.ok(transport?.applicable === true, JSON.stringify(transport));
      assert.equal(transport.arrivalTimed, true);
      assert.equal(transport.errors.continuity_count_error, tap.expected, JSON.stringify(transport.errors));
      assert.equal(transport.errors.ts_sync_loss, 0);
      assert.ok(status.mediaFlowing, 'the decoder reads the tapped stream');
    } finally {
      cli.child.kill('SIGTERM');
      await cli.done;
      // The sender reads its stdin: it ends with it (SIGTERM does not interrupt that read).
      sender.stdin.end();
      sender.kill('SIGKILL');
      relay.close();
    }
  },
);

test(
  'SRT listener with a passphrase: the analyzer listens as the URL says, checks what the caller sends, and logs no secret',
  { timeout: 120_000 },
  async () => {
    const packets = splitPackets(await clip());
    const times = packetTimes(packets);
    const port = await freeUdpPort();
    const httpPort = await freeTcpPort();
    const passphrase = 'streamqc-srt-secret';
    const cli = startCli(
      [
        'analyze',
        `srt://127.0.0.1:${port}?mode=listener&latency=120000&passphrase=${passphrase}`,
        '--metrics-port',
        String(httpPort),
        '--format',
        'jsonl',
      ],
      { STREAMQC_LOG_LEVEL: 'info' },
    );
    // The caller calls again after the probe's connection ends (srt-live-transmit's auto-reconnect).
    const sender = spawn(
      'srt-live-transmit',
      [
        '-q',
        `-chunk:${CHUNK}`,
        'file://con',
        `srt://127.0.0.1:${port}?mode=caller&latency=120&passphrase=${passphrase}`,
      ],
      { stdio: ['pipe', 'ignore', 'ignore'] },
    );
    sender.stdin.on('error', () => undefined);
    let status: AnalyzerStatus | null = null;
    try {
      const started = Date.now();
      for (let first = 0; first < packets.length && status === null; first += 7) {
        const wait = times[first]! * 1000 - (Date.now() - started);
        if (wait > 2) await sleep(wait);
        sender.stdin.write(Buffer.concat(packets.slice(first, first + 7)));
        if (first % (7 * 100) !== 0) continue;
        const s = (await (await fetch(`http://127.0.0.1:${httpPort}/status`).catch(() => null))?.json()) as
          AnalyzerStatus | undefined;
        if (s?.transport?.applicable === true && s.transport.t >= 3 && s.counters.frames >= 50) status = s;
      }
      assert.ok(status, 'the tapped SRT stream was checked and decoded');
      const transport = status.transport;
      assert.ok(transport?.applicable === true);
      assert.equal(transport.arrivalTimed, true);
      assert.equal(transport.errors.continuity_count_error, 0, JSON.stringify(transport.errors));
      assert.equal(status.source, `srt://127.0.0.1:${port}?mode=***&latency=***&passphrase=***`);
    } finally {
      cli.child.kill('SIGTERM');
      sender.stdin.end();
      sender.kill('SIGKILL');
    }
    const result = await cli.done;
    assert.ok(!`${result.stdout}${result.stderr}`.includes(passphrase), 'the passphrase is never logged');
  },
);

test('ffmpeg SRT URL options become srt-live-transmit URI options; one it cannot carry is refused by name', () => {
  const uri = new URL(
    srtTransmitUri('srt://10.0.0.1:9000?mode=listener&latency=200000&passphrase=abcdefghij&streamid=cam1'),
  );
  assert.equal(uri.host, '10.0.0.1:9000');
  assert.deepEqual(Object.fromEntries(uri.searchParams), {
    mode: 'listener',
    latency: '200',
    passphrase: 'abcdefghij',
    streamid: 'cam1',
  });
  assert.throws(() => srtTransmitUri('srt://10.0.0.1:9000?smoother=live'), /SRT option "smoother" is not supported/);
  assert.throws(
    () => srtTransmitUri('srt://10.0.0.1:9000?latency=soon'),
    /latency=soon is not a number of microseconds/,
  );
});
