import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBreakNotReturnedDetector } from '../../analyzer/detectors/break_not_returned.js';
import { createAbsenceDetector } from '../../analyzer/detectors/signal-absence.js';
import { createTr101290Detector } from '../../analyzer/detectors/tr101290.js';
import type { DefectEvent, Detector } from '../../analyzer/detectors/detector.js';
import { TransportChecker, type TransportEvent } from '../../analyzer/transport/checker.js';
import { captionedClip, pair608 } from '../media/caption-sei.js';
import { constantRateClip, PMT_PID, VIDEO_PID } from '../media/transport-clips.js';
import {
  dropAt,
  indicesOf,
  insertScte35,
  joinPackets,
  packetTimes,
  spliceInsert,
  splitPackets,
} from '../media/ts-faults.js';

interface Run {
  defects: DefectEvent[];
  events: TransportEvent[];
}

/** Check a clip, then replay its events to a detector on a 100 ms tick up to `until` seconds, and flush. */
function replay(
  bytes: Uint8Array,
  build: (sink: { started(e: DefectEvent): void; ended(e: DefectEvent): void }) => Detector,
  until: number,
): Run {
  const events: TransportEvent[] = [];
  const checker = new TransportChecker((e) => events.push(e));
  checker.push(bytes);
  checker.finish();
  const defects: DefectEvent[] = [];
  const detector = build({ started: () => undefined, ended: (e) => defects.push(e) });
  const ordered = [...events].sort((a, b) => a.t - b.t);
  let next = 0;
  for (let t = 0; t <= until + 1e-9; t += 0.1) {
    while (next < ordered.length && ordered[next]!.t <= t) detector.onTransport?.(ordered[next]!.t, ordered[next++]!);
    detector.onTick?.(t, 0);
  }
  detector.flush(until);
  return { defects, events };
}

const round = (v: number): number => Math.round(v * 10) / 10;

describe('transport defects', () => {
  it('continuity errors at ~2 s and ~3 s make one priority 1 defect from the first to the last; priority 2 sees none', async () => {
    const packets = splitPackets(await constantRateClip());
    const times = packetTimes(packets);
    const video = indicesOf(packets, VIDEO_PID).filter((i) => (packets[i]![3]! & 0x20) === 0);
    const at = (s: number): number => video.find((i) => times[i]! >= s)!;
    const faulty = joinPackets(dropAt(packets, [at(2), at(3)]));
    const p1 = replay(faulty, (sink) => createTr101290Detector('tr101290_priority1', 1, 5, sink), 12);
    assert.deepEqual(
      p1.defects.map((d) => [d.type, round(d.start), round(d.end!)]),
      [['tr101290_priority1', round(times[at(2)]!), round(times[at(3)]!)]],
    );
    assert.match(String(p1.defects[0]!.detail?.errors), /continuity_count_error: 2/);
    assert.deepEqual(
      replay(faulty, (sink) => createTr101290Detector('tr101290_priority2', 2, 5, sink), 12).defects,
      [],
    );
    assert.deepEqual(replay(joinPackets(packets), (sink) => createTr101290Detector('p1', 1, 5, sink), 12).defects, []);
  });

  it('a break announced for 2 s at 1 s that never returns is break_not_returned from 3 s; cues_missing once 1.5 s pass without a cue', async () => {
    const { packets, sentAt } = insertScte35(splitPackets(await constantRateClip()), PMT_PID, 500, [
      { at: 1, section: spliceInsert({ eventId: 3, out: true, ptsSeconds: 1.2, durationSeconds: 2 }) },
    ]);
    const bytes = joinPackets(packets);
    const overrun = replay(bytes, (sink) => createBreakNotReturnedDetector(0.5, sink), 9);
    assert.deepEqual(
      overrun.defects.map((d) => [d.type, round(d.start), d.end, d.detail]),
      [['break_not_returned', round(sentAt[0]! + 2), 9, { eventId: 3 }]],
    );
    const missing = replay(
      bytes,
      (sink) => createAbsenceDetector('cues_missing', 1.5, (e) => e.kind === 'cue', sink),
      9,
    );
    assert.deepEqual(
      missing.defects.map((d) => [d.type, round(d.start)]),
      [['cues_missing', round(sentAt[0]!)]],
    );
  });

  it('captions from 1 s to 3 s: captions_missing (2 s) starts when they were last seen and not before', async () => {
    const clip = await captionedClip((frame) => (frame >= 25 && frame < 75 ? [pair608(0, 0x41, 0x42)] : null));
    const run = replay(
      clip,
      (sink) => createAbsenceDetector('captions_missing', 2, (e) => e.kind === 'captions', sink),
      8,
    );
    const captions = run.events.filter(
      (e): e is Extract<TransportEvent, { kind: 'captions' }> => e.kind === 'captions',
    );
    assert.deepEqual([...new Set(captions.flatMap((e) => e.channels))], ['CC1']);
    const seen = captions.map((e) => e.t);
    assert.ok(seen[0]! < 2, `captions start before the 2 s allowance (${seen[0]})`);
    assert.deepEqual(
      run.defects.map((d) => [d.type, round(d.start), d.end]),
      [['captions_missing', round(seen.at(-1)!), 8]],
    );
  });
});
