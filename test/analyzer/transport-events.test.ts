/**
 * Signal events through the whole analyzer on a TS file built by the fault injector: the audio
 * PID removed for 1.5 s, SCTE-35 splice_insert and time_signal cues inserted at known times.
 * Each becomes one event (the onSignal callback the CLI prints as jsonl, /status recentEvents,
 * the cue counter by source), at the time the injector put it; a clean clip's PID line-up is
 * no event.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { resolveConfig } from '../../analyzer/config.js';
import { isSignalEvent, type SignalEvent } from '../../analyzer/contract/status.js';
import { Analyzer } from '../../analyzer/pipeline.js';
import { AUDIO_PID, constantRateClip, PMT_PID } from '../media/transport-clips.js';
import {
  indicesOf,
  insertScte35,
  joinPackets,
  packetTimes,
  removePid,
  spliceInsert,
  spliceNull,
  splitPackets,
  timeSignal,
} from '../media/ts-faults.js';

const dir = mkdtempSync(join(tmpdir(), 'streamqc-transport-events-'));
const SCTE35_PID = 500;
/** The PID absence period (tr101290_priority1.pidErrorPeriod) these runs use. */
const PERIOD = 1;

async function analyze(file: string): Promise<{ analyzer: Analyzer; signals: SignalEvent[] }> {
  const signals: SignalEvent[] = [];
  const config = resolveConfig({ stream: 'file', detectors: { tr101290_priority1: { pidErrorPeriod: PERIOD } } });
  const analyzer = new Analyzer(config, file, {
    log: pino({ level: 'silent' }),
    onSignal: (e) => signals.push(e),
  });
  const result = await analyzer.run();
  assert.equal(result.exitCode, 0, result.message ?? undefined);
  return { analyzer, signals };
}

const near = (a: number, b: number, what: string): void => {
  assert.ok(Math.abs(a - b) < 0.01, `${what}: ${a}, expected ${b}`);
};

test(
  'a PID gone for 1.5 s and four cues are six signal events at their times, in /status and counted by source',
  { timeout: 90_000 },
  async () => {
    const clip = splitPackets(await constantRateClip());
    const { packets: withoutAudio } = removePid(clip, AUDIO_PID, 3, 4.5);
    const { packets, sentAt } = insertScte35(withoutAudio, PMT_PID, SCTE35_PID, [
      { at: 1, section: spliceInsert({ eventId: 7, out: true, ptsSeconds: 1.5, durationSeconds: 2 }) },
      { at: 2, section: spliceNull() },
      { at: 2.5, section: spliceInsert({ eventId: 7, out: false, ptsSeconds: 3 }) },
      {
        at: 5,
        section: timeSignal({ ptsSeconds: 5.5, segmentationEventId: 9, segmentationTypeId: 0x34, durationSeconds: 1 }),
      },
      { at: 6.5, section: timeSignal({ ptsSeconds: 6.5, segmentationEventId: 9, segmentationTypeId: 0x35 }) },
    ]);
    const file = join(dir, 'events.ts');
    writeFileSync(file, joinPackets(packets));
    const times = packetTimes(packets);
    const audio = indicesOf(packets, AUDIO_PID, false).map((i) => times[i]!);
    const lastBefore = audio.filter((t) => t < 3).at(-1)!;
    const firstAfter = audio.find((t) => t >= 4.5)!;

    const { analyzer, signals } = await analyze(file);
    assert.deepEqual(
      signals.map((s) => s.type),
      ['cue_out', 'cue_in', 'pid_disappeared', 'pid_appeared', 'cue_out', 'cue_in'],
      JSON.stringify(signals),
    );
    const [out1, in1, gone, back, out2, in2] = signals as [SignalEvent, ...SignalEvent[]];
    near(out1.start, sentAt[0]!, 'splice_insert out');
    assert.deepEqual(out1.detail, {
      source: 'ts',
      command: 'splice_insert',
      breakDuration: 2,
      pid: SCTE35_PID,
      spliceEventId: 7,
      ptsTime: 1.5 * 90000,
      autoReturn: 'yes',
    });
    near(in1!.start, sentAt[2]!, 'splice_insert in');
    assert.deepEqual(in1!.detail, {
      source: 'ts',
      command: 'splice_insert',
      pid: SCTE35_PID,
      spliceEventId: 7,
      ptsTime: 3 * 90000,
    });
    // Gone one absence period after its last packet; back at its first packet after the gap.
    near(gone!.start, lastBefore + PERIOD, 'audio gone');
    assert.deepEqual(gone!.detail, { pid: AUDIO_PID, role: 'audio' });
    near(back!.start, firstAfter, 'audio back');
    assert.deepEqual(back!.detail, { pid: AUDIO_PID, role: 'audio', returned: 'yes' });
    near(out2!.start, sentAt[3]!, 'time_signal out');
    assert.deepEqual(out2!.detail, {
      source: 'ts',
      command: 'time_signal',
      breakDuration: 1,
      pid: SCTE35_PID,
      segmentationEventId: 9,
      segmentationTypeId: 0x34,
      ptsTime: 5.5 * 90000,
    });
    near(in2!.start, sentAt[4]!, 'time_signal in');
    assert.equal(in2!.detail.segmentationTypeId, 0x35);
    for (const s of signals) {
      assert.equal(s.end, s.start, 'a signal is an instant');
      assert.ok(!Number.isNaN(Date.parse(s.wallclock)), s.wallclock);
    }

    const status = analyzer.status();
    assert.deepEqual(status.recentEvents.filter(isSignalEvent), signals);
    assert.equal(status.counters.signals, 6);
    const metrics = await analyzer.metrics.text();
    assert.match(metrics, /streamqc_scte35_cues_total\{stream="file",command="splice_insert",source="ts"\} 2/);
    assert.match(metrics, /streamqc_scte35_cues_total\{stream="file",command="splice_null",source="ts"\} 1/);
    assert.match(metrics, /streamqc_scte35_cues_total\{stream="file",command="time_signal",source="ts"\} 2/);
  },
);

test('a clean TS file: its PIDs appearing at the start are its line-up, not events', { timeout: 90_000 }, async () => {
  const file = join(dir, 'clean.ts');
  writeFileSync(file, await constantRateClip());
  const { analyzer, signals } = await analyze(file);
  assert.deepEqual(signals, []);
  assert.equal(analyzer.status().counters.signals, 0);
  assert.ok((analyzer.status().transport as { pids?: unknown[] }).pids!.length >= 4, 'the line-up is in /status');
});
