import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CheckName, CHECK_NAMES } from '../../analyzer/transport/checks.js';
import {
  TransportChecker,
  type TransportCheckerOptions,
  type TransportEvent,
} from '../../analyzer/transport/checker.js';
import {
  AUDIO_PID,
  constantRateClip,
  PMT_PID,
  slowTablesClip,
  VIDEO_PID,
  variableRateClip,
} from '../media/transport-clips.js';
import {
  breakSection,
  corruptSyncByte,
  dropAt,
  duplicateAt,
  editAt,
  hasPayload,
  indicesOf,
  joinPackets,
  markDiscontinuity,
  movePcrs,
  pidOf,
  removePid,
  scramble,
  setTransportError,
  splitPackets,
  packetTimes,
  stopPcr,
  unitStart,
} from '../media/ts-faults.js';

/** The index of the last packet that carries a PCR. */
function lastIndexWithPcr(packets: readonly Uint8Array[]): number {
  for (let i = packets.length - 1; i >= 0; i--) {
    const p = packets[i]!;
    if ((p[3]! & 0x20) !== 0 && p[4]! > 0 && (p[5]! & 0x10) !== 0) return i;
  }
  throw new Error('no PCR');
}

interface Result {
  errors: Record<CheckName, number>;
  events: TransportEvent[];
  checker: TransportChecker;
}

/** Feed the bytes in chunks of awkward sizes (1 byte to 3 packets and a bit), as a network would. */
function check(bytes: Uint8Array, options: Partial<TransportCheckerOptions> = {}): Result {
  const events: TransportEvent[] = [];
  const checker = new TransportChecker((e) => events.push(e), options);
  const sizes = [1, 187, 188, 189, 600, 7, 1316, 2];
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const size = sizes[k % sizes.length]!;
    checker.push(bytes.subarray(at, at + size));
    at += size;
  }
  checker.finish();
  return { errors: checker.snapshot().errors, events, checker };
}

/** Every count zero but the ones named. */
function onlyErrors(result: Result, expected: Partial<Record<CheckName, number>>): void {
  const want = Object.fromEntries(CHECK_NAMES.map((c) => [c, expected[c] ?? 0]));
  assert.deepEqual(result.errors, want, JSON.stringify(result.events.filter((e) => e.kind === 'error').slice(0, 12)));
}

const errorsOf = (r: Result, check: CheckName): Extract<TransportEvent, { kind: 'error' }>[] =>
  r.events.filter((e): e is Extract<TransportEvent, { kind: 'error' }> => e.kind === 'error' && e.check === check);

/** Packets of `pid` with payload and no PCR, spread over the clip (never two of the same PID in a row). */
function spreadIndices(packets: readonly Uint8Array[], pid: number, count: number): number[] {
  const all = indicesOf(packets, pid).filter((i) => (packets[i]![3]! & 0x20) === 0 && !unitStart(packets[i]!));
  return Array.from({ length: count }, (_, k) => all[Math.floor(((k + 1) * all.length) / (count + 2))]!);
}

/** A gap of n packets on one PID breaks the 4-bit counter unless n is a multiple of 16. */
const ccErrorsAfterGap = (removed: number): number => (removed % 16 === 0 ? 0 : 1);

describe('TR 101 290 checks on ffmpeg clips with injected faults', () => {
  it('a clean constant-rate clip raises nothing and shows its programme, PIDs and rate', async () => {
    const result = check(await constantRateClip());
    onlyErrors(result, {});
    const snap = result.checker.snapshot();
    assert.equal(snap.synced, true);
    assert.deepEqual(
      snap.programmes.map((p) => ({ pcr: p.pcrPid, streams: p.streams.map((s) => [s.pid, s.streamType]) })),
      [
        {
          pcr: VIDEO_PID,
          streams: [
            [VIDEO_PID, 0x1b],
            [AUDIO_PID, 0x0f],
          ],
        },
      ],
    );
    const roles = Object.fromEntries(snap.pids.map((p) => [p.pid, p.role]));
    assert.deepEqual(roles, {
      0: 'pat',
      17: 'si',
      [VIDEO_PID]: 'video',
      [AUDIO_PID]: 'audio',
      [PMT_PID]: 'pmt',
      8191: 'null',
    });
    assert.ok(Math.abs(snap.bitrate - 1_500_000) < 15_000, `total rate ${snap.bitrate}`);
    assert.ok(Math.abs(snap.t - 8) < 0.3, `clip length by the stream's clock ${snap.t}`);
  });

  it('a clean variable-rate clip raises nothing, PCR accuracy included (not judged off constant rate)', async () => {
    onlyErrors(check(await variableRateClip()), {});
  });

  it('three video packets dropped apart are three continuity count errors on the video PID', async () => {
    const packets = splitPackets(await constantRateClip());
    const result = check(joinPackets(dropAt(packets, spreadIndices(packets, VIDEO_PID, 3))));
    onlyErrors(result, { continuity_count_error: 3 });
    assert.deepEqual(
      errorsOf(result, 'continuity_count_error').map((e) => e.pid),
      [VIDEO_PID, VIDEO_PID, VIDEO_PID],
    );
  });

  it('a packet sent twice is allowed; sent three times it is one continuity count error', async () => {
    const packets = splitPackets(await constantRateClip());
    const [first, second] = spreadIndices(packets, AUDIO_PID, 2);
    onlyErrors(check(joinPackets(duplicateAt(packets, first!, 1))), {});
    onlyErrors(check(joinPackets(duplicateAt(packets, second!, 2))), { continuity_count_error: 1 });
  });

  it('a counter jump announced by discontinuity_indicator, and adaptation-only packets, are no errors', async () => {
    const packets = splitPackets(await constantRateClip());
    // Move every video counter on by 5 from a PCR packet on, marking that packet discontinuous.
    const pcrPackets = packets
      .map((p, i) => ((p[3]! & 0x20) !== 0 && (p[5]! & 0x10) !== 0 ? i : -1))
      .filter((i) => i >= 0);
    const from = pcrPackets[150]!;
    const jumped = packets.map((p, i) => {
      if (i < from || pidOf(p) !== VIDEO_PID) return p;
      const copy = p.slice();
      copy[3] = (copy[3]! & 0xf0) | ((copy[3]! + 5) & 0x0f);
      if (i === from) copy[5] = copy[5]! | 0x80;
      return copy;
    });
    const adaptationOnly = packets.filter((p) => !hasPayload(p) && pidOf(p) !== 0x1fff).length;
    assert.ok(adaptationOnly > 0, 'the clip has adaptation-only packets (PCR-only) whose counters do not advance');
    onlyErrors(check(joinPackets(jumped)), {});
    // The same jump unannounced is one error.
    const unannounced = jumped.map((p, i) => (i === from ? editAt([p], [0], (q) => (q[5] = q[5]! & 0x7f))[0]! : p));
    onlyErrors(check(joinPackets(unannounced)), { continuity_count_error: 1 });
  });

  it('one bad sync byte is a sync byte error; three in a row are sync loss, regained after', async () => {
    const packets = splitPackets(await constantRateClip());
    const [one, three] = spreadIndices(packets, VIDEO_PID, 2);
    const single = check(joinPackets(editAt(packets, [one!], corruptSyncByte)));
    // The slot is not delivered, so the video PID misses a packet.
    onlyErrors(single, { sync_byte_error: 1, continuity_count_error: 1 });
    const run = check(joinPackets(editAt(packets, [three!, three! + 1, three! + 2], corruptSyncByte)));
    assert.equal(run.errors.ts_sync_loss, 1);
    assert.equal(run.errors.sync_byte_error, 2, 'bad sync bytes are counted while in sync; then sync is lost');
    assert.ok(
      run.events.some((e) => e.kind === 'cleared' && e.check === 'ts_sync_loss'),
      'sync is regained',
    );
    assert.equal(run.checker.snapshot().synced, true);
  });

  it('the PAT missing for 2 s is one PAT error (and one continuity error when it returns)', async () => {
    const { packets, removed } = removePid(splitPackets(await constantRateClip()), 0, 3, 5);
    const result = check(joinPackets(packets));
    onlyErrors(result, { pat_error: 1, continuity_count_error: ccErrorsAfterGap(removed) });
    const [error] = errorsOf(result, 'pat_error');
    assert.ok(error!.t > 3.3 && error!.t < 3.7, `PAT error from ~3.5 s (last PAT + 0.5 s), got ${error!.t}`);
    const cleared = result.events.find((e) => e.kind === 'cleared' && e.check === 'pat_error');
    assert.ok(
      cleared && cleared.t >= 5 && cleared.t < 5.2,
      `cleared when the PAT returns at 5 s: ${JSON.stringify(cleared)}`,
    );
  });

  it('the PMT missing for 2 s is one PMT error; its PID scrambled is another', async () => {
    const packets = splitPackets(await constantRateClip());
    const gap = removePid(packets, PMT_PID, 3, 5);
    onlyErrors(check(joinPackets(gap.packets)), {
      pmt_error: 1,
      continuity_count_error: ccErrorsAfterGap(gap.removed),
    });
    const pmt = indicesOf(packets, PMT_PID)[30];
    // Scrambled PMT packets: a PMT error, and scrambled packets without a CAT.
    onlyErrors(check(joinPackets(editAt(packets, [pmt!], scramble))), { pmt_error: 1, cat_error: 1 });
  });

  it('broken CRCs in two PAT sections and one PMT section are three CRC errors', async () => {
    const packets = splitPackets(await constantRateClip());
    const pat = indicesOf(packets, 0);
    const pmt = indicesOf(packets, PMT_PID);
    const result = check(joinPackets(editAt(packets, [pat[10]!, pat[30]!, pmt[20]!], breakSection)));
    onlyErrors(result, { crc_error: 3 });
    assert.deepEqual(
      errorsOf(result, 'crc_error').map((e) => [e.pid, e.detail.tableId]),
      [
        [0, 0],
        [PMT_PID, 2],
        [0, 0],
      ],
    );
  });

  it('the transport error indicator on four packets is four transport errors', async () => {
    const packets = splitPackets(await constantRateClip());
    onlyErrors(check(joinPackets(editAt(packets, spreadIndices(packets, VIDEO_PID, 4), setTransportError))), {
      transport_error: 4,
    });
  });

  it('PCR stopped for 1 s is one repetition error and one discontinuity (the next PCR is 1 s on)', async () => {
    const { packets, removed } = stopPcr(splitPackets(await constantRateClip()), 3, 4);
    assert.ok(removed > 40, `removed ${removed} PCRs`);
    const result = check(joinPackets(packets));
    onlyErrors(result, { pcr_repetition_error: 1, pcr_discontinuity_indicator_error: 1 });
    assert.ok(Math.abs(Number(errorsOf(result, 'pcr_repetition_error')[0]!.detail.intervalMs) - 1000) < 30);
  });

  it('PCR stopped 1 s before the end of a file is one repetition error, from 40 ms after the last PCR', async () => {
    const packets = splitPackets(await constantRateClip());
    const times = packetTimes(packets);
    const end = times.at(-1)!;
    const { packets: stopped, removed } = stopPcr(packets, end - 1, end + 1);
    assert.ok(removed > 40, `removed ${removed} PCRs`);
    const result = check(joinPackets(stopped));
    onlyErrors(result, { pcr_repetition_error: 1 });
    const [error] = errorsOf(result, 'pcr_repetition_error');
    assert.equal(error!.pid, VIDEO_PID);
    assert.equal(error!.detail.reason, 'no PCR before the end');
    const lastPcr = times[lastIndexWithPcr(stopped)]!;
    assert.ok(Math.abs(error!.t - (lastPcr + 0.04)) < 0.005, `at ${error!.t}, last PCR at ${lastPcr}`);
    assert.ok(Math.abs(Number(error!.detail.intervalMs) - (end - lastPcr) * 1000) < 30, JSON.stringify(error));
  });

  it("a variable-rate file's clock does not drift: lost packets at 1.5, 3.5 and 5.5 s are reported within 10 ms of them", async () => {
    const packets = splitPackets(await variableRateClip());
    const times = packetTimes(packets);
    const plain = indicesOf(packets, VIDEO_PID).filter(
      (i) => (packets[i]![3]! & 0x20) === 0 && !unitStart(packets[i]!),
    );
    const lost = [1.5, 3.5, 5.5].map((s) => plain.find((i) => times[i]! >= s)!);
    const result = check(joinPackets(dropAt(packets, lost)));
    const found = errorsOf(result, 'continuity_count_error').map((e) => e.t);
    assert.equal(found.length, 3);
    found.forEach((t, k) =>
      assert.ok(Math.abs(t - times[lost[k]!]!) < 0.01, `${t} for a packet at ${times[lost[k]!]}`),
    );
  });

  it('a PCR 200 ms ahead is two discontinuity errors (there and back), none when discontinuity_indicator says so', async () => {
    const packets = splitPackets(await constantRateClip());
    const moved = movePcrs(packets, [150], 27_000 * 200);
    const result = check(joinPackets(moved), { pcrAccuracy: false });
    onlyErrors(result, { pcr_discontinuity_indicator_error: 2 });
    const announced = markDiscontinuity(markDiscontinuity(moved, 150), 151);
    onlyErrors(check(joinPackets(announced), { pcrAccuracy: false }), {});
  });

  it('five PCRs 2 us off their byte position are ten PCR accuracy errors (off, and back); 0.3 us is within 500 ns', async () => {
    const packets = splitPackets(await constantRateClip());
    const numbers = [60, 120, 180, 240, 300];
    const result = check(joinPackets(movePcrs(packets, numbers, 54)));
    onlyErrors(result, { pcr_accuracy_error: 10 });
    const offsets = errorsOf(result, 'pcr_accuracy_error').map(
      (e) => Math.round(Number(e.detail.offsetNs) / 100) * 100,
    );
    assert.deepEqual(
      offsets,
      numbers.flatMap(() => [2000, -2000]),
    );
    onlyErrors(check(joinPackets(movePcrs(packets, numbers, 8))), {});
  });

  it('the audio PID missing for 1.5 s is one PTS error; with a 1 s PID period also a PID error, gone and back', async () => {
    const { packets, removed } = removePid(splitPackets(await constantRateClip()), AUDIO_PID, 3, 4.5);
    const result = check(joinPackets(packets));
    onlyErrors(result, { pts_error: 1, continuity_count_error: ccErrorsAfterGap(removed) });
    assert.equal(errorsOf(result, 'pts_error')[0]!.pid, AUDIO_PID);
    const strict = check(joinPackets(packets), { pidErrorPeriod: 1 });
    onlyErrors(strict, { pts_error: 1, continuity_count_error: ccErrorsAfterGap(removed), pid_error: 1 });
    const presence = strict.events.filter(
      (e) => (e.kind === 'pid_disappeared' || e.kind === 'pid_appeared') && e.pid === AUDIO_PID,
    );
    assert.deepEqual(
      presence.map((e) => e.kind),
      ['pid_appeared', 'pid_disappeared', 'pid_appeared'],
    );
  });

  it('tables 6 s apart (6 s HLS segments) are PAT and PMT errors, but their PIDs never go; tables that stop go after 30 s', async () => {
    const packets = splitPackets(await slowTablesClip());
    const times = packetTimes(packets);
    const tableTimes = (pid: number): number[] => indicesOf(packets, pid, false).map((i) => times[i]!);
    // What the clip is: PAT, PMT and SDT 6 s apart, audio and video throughout.
    for (const pid of [0, PMT_PID, 0x11]) {
      const gaps = tableTimes(pid)
        .slice(1)
        .map((t, i) => t - tableTimes(pid)[i]!);
      assert.ok(gaps.length >= 5 && gaps.every((g) => g > 5.5 && g < 6.5), `PID ${pid} gaps ${gaps.join(', ')}`);
    }
    const presence = (r: Result): TransportEvent[] =>
      r.events.filter((e) => e.kind === 'pid_disappeared' || e.kind === 'pid_appeared');
    const healthy = check(joinPackets(packets));
    assert.ok(healthy.errors.pat_error >= 6 && healthy.errors.pmt_error >= 6, JSON.stringify(healthy.errors));
    assert.deepEqual(
      presence(healthy).map((e) => e.kind),
      ['pid_appeared', 'pid_appeared', 'pid_appeared', 'pid_appeared', 'pid_appeared'],
      JSON.stringify(presence(healthy)),
    );

    // The tables stop after their second sending: each table PID goes 30 s after it was last seen.
    const tables = new Set([0, PMT_PID, 0x11]);
    const stopped = packets.filter((p, i) => !tables.has(pidOf(p)) || times[i]! < 7);
    const result = check(joinPackets(stopped));
    const gone = presence(result).filter((e) => e.kind === 'pid_disappeared');
    assert.deepEqual(
      gone.map((e) => e.pid).sort((a, b) => a - b),
      [0, 0x11, PMT_PID],
      JSON.stringify(gone),
    );
    for (const e of gone) {
      const last = Math.max(...tableTimes(e.pid).filter((t) => t < 7));
      assert.ok(Math.abs(e.t - (last + 30)) < 0.05, `PID ${e.pid} gone at ${e.t}, last seen ${last}`);
    }
  });

  it('scrambled audio packets without a CAT are one CAT error', async () => {
    const packets = splitPackets(await constantRateClip());
    onlyErrors(check(joinPackets(editAt(packets, spreadIndices(packets, AUDIO_PID, 3), scramble))), { cat_error: 1 });
  });
});
