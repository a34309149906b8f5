/**
 * Cross-check with an independent implementation: DVBlast (Debian's dvblast, VideoLAN) reads
 * the same faulty clips over loopback UDP and reports each continuity discontinuity and each
 * packet with the transport error indicator; the checker must count the same, PID by PID.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeUdpPort } from '../../analyzer/demo.js';
import { TransportChecker, type TransportEvent } from '../../analyzer/transport/checker.js';
import { AUDIO_PID, constantRateClip, VIDEO_PID } from '../media/transport-clips.js';
import { dropAt, editAt, indicesOf, joinPackets, setTransportError, splitPackets } from '../media/ts-faults.js';

/** Whether something listens on this loopback UDP port (dvblast has bound it). */
function bound(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  // Each line is "<slot>: <local> <remote> ...". The slot is right-aligned in 4 columns, so past
  // 9999 the line has no leading blank: split the trimmed line, or the local address is missed.
  return readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .some((l) => l.trim().split(/\s+/)[1]?.endsWith(hex));
}

class NotBound extends Error {}

/**
 * dvblast's per-PID discontinuities and transport error indicators for these bytes. A dvblast that
 * does not bind its port within 30 s is started again on another port: that is the harness, not
 * what is compared.
 */
async function dvblast(bytes: Uint8Array): Promise<{ discontinuities: Map<number, number>; teiPackets: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await dvblastOnce(bytes);
    } catch (err) {
      if (!(err instanceof NotBound) || attempt === 3) throw err;
    }
  }
}

async function dvblastOnce(bytes: Uint8Array): Promise<{ discontinuities: Map<number, number>; teiPackets: number }> {
  const port = await freeUdpPort();
  const child = spawn('dvblast', ['-D', `@127.0.0.1:${port}/udp`, '-x', 'text'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  try {
    for (let waited = 0; !bound(port); waited += 50) {
      if (waited > 30_000) throw new NotBound(`dvblast did not bind ${port}: ${log}`);
      await sleep(50);
    }
    const socket = createSocket('udp4');
    // 7 packets a datagram, paced so that no loopback buffer overflows.
    for (let at = 0, n = 0; at < bytes.length; at += 1316, n++) {
      await new Promise<void>((resolve) =>
        socket.send(bytes.subarray(at, at + 1316), port, '127.0.0.1', () => resolve()),
      );
      if (n % 20 === 19) await sleep(2);
    }
    socket.close();
    await sleep(1000); // let it read what is queued (a safety margin, not an assertion)
  } finally {
    child.kill('SIGKILL');
  }
  const discontinuities = new Map<number, number>();
  for (const [, pid] of log.matchAll(/TS discontinuity on pid\s+(\d+)/g)) {
    discontinuities.set(Number(pid), (discontinuities.get(Number(pid)) ?? 0) + 1);
  }
  return { discontinuities, teiPackets: [...log.matchAll(/transport_error_indicator on pid/g)].length };
}

function ours(bytes: Uint8Array): { discontinuities: Map<number, number>; teiPackets: number } {
  const events: TransportEvent[] = [];
  const checker = new TransportChecker((e) => events.push(e));
  checker.push(bytes);
  const discontinuities = new Map<number, number>();
  for (const e of events) {
    if (e.kind === 'error' && e.check === 'continuity_count_error' && e.pid !== null) {
      discontinuities.set(e.pid, (discontinuities.get(e.pid) ?? 0) + 1);
    }
  }
  return { discontinuities, teiPackets: checker.snapshot().errors.transport_error };
}

describe('the checker against DVBlast on the same clips', () => {
  it('packets dropped on the video and audio PIDs: the same discontinuities per PID', async () => {
    const packets = splitPackets(await constantRateClip());
    const video = indicesOf(packets, VIDEO_PID).filter((i) => (packets[i]![3]! & 0x60) === 0);
    const audio = indicesOf(packets, AUDIO_PID).filter((i) => (packets[i]![1]! & 0x40) === 0);
    const bytes = joinPackets(dropAt(packets, [video[400]!, video[1400]!, video[2400]!, audio[40]!, audio[140]!]));
    const theirs = await dvblast(bytes);
    const mine = ours(bytes);
    assert.deepEqual(Object.fromEntries(mine.discontinuities), { [VIDEO_PID]: 3, [AUDIO_PID]: 2 });
    assert.deepEqual(Object.fromEntries(theirs.discontinuities), Object.fromEntries(mine.discontinuities));
  });

  it('the transport error indicator on four packets: four for both', async () => {
    const packets = splitPackets(await constantRateClip());
    const video = indicesOf(packets, VIDEO_PID);
    const bytes = joinPackets(
      editAt(packets, [video[300]!, video[900]!, video[1500]!, video[2100]!], setTransportError),
    );
    const theirs = await dvblast(bytes);
    assert.equal(ours(bytes).teiPackets, 4);
    assert.equal(theirs.teiPackets, 4);
  });
});
