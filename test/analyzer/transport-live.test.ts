/**
 * The transport checks on a live UDP source: a small loopback relay paces an ffmpeg-made TS
 * by its own PCRs and drops datagrams in flight. The analyzer reads the port itself (ffmpeg
 * decodes from its relay) and counts exactly the continuity errors the drops make: one per PID
 * whose run of packets a drop interrupts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeUdpPort } from '../../analyzer/demo.js';
import type { AnalyzerStatus } from '../../analyzer/contract/status.js';
import { constantRateClip } from '../media/transport-clips.js';
import { hasPayload, packetTimes, pidOf, splitPackets } from '../media/ts-faults.js';
import { freeTcpPort } from '../net.js';
import { startCli } from './run-cli.js';

const PACKETS_PER_DATAGRAM = 7;
/** Every this many datagrams one is dropped (about two a second at 1.5 Mbit/s). */
const DROP_EVERY = 67;

/** Send `packets` to `port` at the pace of their PCR times, dropping some datagrams; returns the continuity errors the drops make. */
async function relay(packets: Uint8Array[], port: number): Promise<{ expected: number; dropped: number }> {
  const times = packetTimes(packets);
  const socket = createSocket('udp4');
  const lastDropped = new Map<number, boolean>();
  let expected = 0;
  let dropped = 0;
  const started = Date.now();
  for (let first = 0, n = 0; first < packets.length; first += PACKETS_PER_DATAGRAM, n++) {
    const group = packets.slice(first, first + PACKETS_PER_DATAGRAM);
    const wait = times[first]! * 1000 - (Date.now() - started);
    if (wait > 2) await sleep(wait);
    const drop = n % DROP_EVERY === DROP_EVERY - 1;
    for (const p of group) {
      const pid = pidOf(p);
      if (pid === 0x1fff || !hasPayload(p)) continue; // no counter to break
      // A drop breaks a PID's counter once per run of lost packets.
      if (drop && lastDropped.get(pid) !== true) expected++;
      lastDropped.set(pid, drop);
    }
    if (drop) {
      dropped += group.length;
      continue;
    }
    await new Promise<void>((resolve) => socket.send(Buffer.concat(group), port, '127.0.0.1', () => resolve()));
  }
  socket.close();
  return { expected, dropped };
}

test(
  'UDP datagrams dropped in flight are counted as exactly the continuity errors they make',
  { timeout: 90_000 },
  async () => {
    const packets = splitPackets(await constantRateClip());
    const udp = await freeUdpPort();
    const httpPort = await freeTcpPort();
    const dir = mkdtempSync(join(tmpdir(), 'streamqc-transport-live-'));
    const config = join(dir, 'live.yaml');
    writeFileSync(
      config,
      [
        'stream: transport-live',
        'listenAddress: 127.0.0.1',
        `http:\n  port: ${httpPort}`,
        // Opt-in (analyzer/detectors/tr101290.ts): this test wants the priority 1 defect.
        'detectors:\n  tr101290_priority1: { enabled: true }',
        '',
      ].join('\n'),
    );
    const cli = startCli(['analyze', `udp://127.0.0.1:${udp}?pkt_size=1316`, '--config', config, '--format', 'jsonl']);
    try {
      const end = Date.now() + 20_000;
      while ((await fetch(`http://127.0.0.1:${httpPort}/healthz`).catch(() => null))?.status !== 200) {
        if (Date.now() > end) throw new Error('analyzer did not come up');
        await sleep(100);
      }
      const { expected, dropped } = await relay(packets, udp);
      assert.ok(expected >= 5, `the relay dropped ${dropped} packets making ${expected} continuity errors`);
      await sleep(500);
      const status = (await (await fetch(`http://127.0.0.1:${httpPort}/status`)).json()) as AnalyzerStatus;
      const transport = status.transport;
      assert.ok(transport?.applicable === true, JSON.stringify(transport));
      assert.equal(transport.arrivalTimed, true);
      assert.equal(transport.errors.continuity_count_error, expected, JSON.stringify(transport.errors));
      assert.equal(transport.errors.ts_sync_loss, 0);
      const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      const series =
        'streamqc_transport_errors_total{stream="transport-live",check="continuity_count_error",priority="1"} ';
      assert.equal(
        Number(
          metrics
            .split('\n')
            .find((l) => l.startsWith(series))
            ?.slice(series.length),
        ),
        expected,
      );
      cli.child.kill('SIGTERM');
      const result = await cli.done;
      assert.ok(
        result.events.some((e) => e.type === 'tr101290_priority1'),
        `a priority 1 defect among ${JSON.stringify(result.events.map((e) => e.type))}`,
      );
      // The decoder still got the stream through the analyzer's relay.
      assert.ok(status.mediaFlowing, 'media flows through the relay to the decoder');
    } finally {
      cli.child.kill('SIGKILL');
    }
  },
);
