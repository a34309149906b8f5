import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { AudioStage } from '../../analyzer/audio/stage.js';
import type { LoudnessPeriod } from '../../analyzer/detectors/detector.js';
import type { DefectEvent } from '../../analyzer/detectors/types.js';
import { createLoudnessDetector, loudnessOptions } from '../../analyzer/detectors/loudness.js';
import { defaultsOf } from '../../analyzer/options.js';
import { AnalyzerMetrics } from '../../analyzer/report/metrics.js';
import { StreamReport } from '../../analyzer/report/stream-report.js';
import { checkAnalyzerStatus } from '../../analyzer/contract/status.js';

const RATE = 48000;
const BLOCK = 1024;

/** Plays stereo 1 kHz segments (seconds at a loudness, LUFS) through a stage; returns the periods it closed. */
function play(
  stage: AudioStage,
  segments: readonly [seconds: number, lufs: number][],
  marksAt: readonly number[] = [],
): LoudnessPeriod[] {
  const periods: LoudnessPeriod[] = [];
  let sample = 0;
  const marks = [...marksAt];
  for (const [seconds, lufs] of segments) {
    const amplitude = Math.pow(10, lufs / 20);
    const end = sample + seconds * RATE;
    while (sample < end) {
      const t = sample / RATE;
      if (marks.length > 0 && t >= (marks[0] ?? Infinity)) {
        marks.shift();
        const closed = stage.closePeriod('marker');
        if (closed) periods.push(closed);
      }
      const frames = Math.min(BLOCK, end - sample);
      const pcm = new Float32Array(2 * frames);
      for (let n = 0; n < frames; n++, sample++) {
        pcm[2 * n] = pcm[2 * n + 1] = amplitude * Math.sin((2 * Math.PI * 1000 * sample) / RATE);
      }
      const { period } = stage.push(t, pcm);
      if (period) periods.push(period);
    }
  }
  const last = stage.closePeriod('end');
  if (last) periods.push(last);
  return periods;
}

function near(actual: number | null, expected: number, tolerance: number, what: string): void {
  assert.ok(actual !== null && Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, want ${expected}`);
}

test('a 5 s report period over 12 s of programme: two full periods and the rest at the end, each with its own figures', () => {
  const stage = new AudioStage({ sampleRate: RATE, channels: 2 }, 1, { periodSeconds: 5 });
  const periods = play(stage, [
    [5, -20],
    [5, -30],
    [2, -23],
  ]);
  assert.deepEqual(
    periods.map((p) => p.closedBy),
    ['period', 'period', 'end'],
  );
  const [first, second, rest] = periods;
  assert.ok(first && second && rest);
  near(first.start, 0, 1e-9, 'first start');
  near(first.end, 5, BLOCK / RATE, 'first end');
  near(second.start, first.end, 1e-9, 'second starts where the first ended');
  near(rest.end, 12, 1e-9, 'the last ends with the input');
  near(first.integratedLufs, -20, 0.05, 'first I');
  // The first gating blocks of a period still hold the end of the last one: a few tenths of an LU.
  near(second.integratedLufs, -30, 0.5, 'second I');
  near(rest.integratedLufs, -23, 0.5, 'rest I');
  near(first.maxTruePeakDbtp, -20, 0.1, 'first max TP');
  // The true-peak filter's few samples of delay carry the first period's last peak into the second.
  near(rest.maxTruePeakDbtp, -23, 0.1, 'rest max TP');
  near(first.loudnessRangeLu, 0, 0.1, 'first LRA');
  assert.equal(rest.loudnessRangeLu, null, '2 s is shorter than one short-term window... of its own steps');
});

test('a marker closes the period where it falls, whatever the report period', () => {
  const stage = new AudioStage({ sampleRate: RATE, channels: 2 }, 1, { periodSeconds: 3600 });
  const periods = play(
    stage,
    [
      [4, -18],
      [4, -28],
    ],
    [4],
  );
  assert.deepEqual(
    periods.map((p) => p.closedBy),
    ['marker', 'end'],
  );
  near(periods[0]?.end ?? null, 4, BLOCK / RATE, 'marker period end');
  near(periods[0]?.integratedLufs ?? null, -18, 0.05, 'programme before the marker');
  near(periods[1]?.integratedLufs ?? null, -28, 0.5, 'programme after the marker');
});

test('no audio since the last close: no period', () => {
  const stage = new AudioStage({ sampleRate: RATE, channels: 2 }, 1, { periodSeconds: 5 });
  assert.equal(stage.closePeriod('marker'), null);
});

function judged(
  profile: 'ebu-r128' | 'atsc-a85',
  integratedLufs: number,
  closedBy: LoudnessPeriod['closedBy'] = 'period',
): DefectEvent[] {
  const ended: DefectEvent[] = [];
  const detector = createLoudnessDetector(
    { ...defaultsOf(loudnessOptions), profile },
    { started: () => undefined, ended: (e) => ended.push(e) },
  );
  detector.onLoudnessPeriod?.({
    start: 3600,
    end: 7200,
    closedBy,
    integratedLufs,
    loudnessRangeLu: 6,
    maxTruePeakDbtp: -3,
  });
  return ended;
}

test('a programme at -25.5 LUFS is a loudness defect under ebu-r128 (-23 +/-1) and not under atsc-a85 (-24 +/-2)', () => {
  const [event, ...more] = judged('ebu-r128', -25.5);
  assert.equal(more.length, 0);
  assert.deepEqual(event, {
    type: 'loudness',
    start: 3600,
    end: 7200,
    detail: {
      rule: 'programme',
      profile: 'ebu-r128',
      integratedLufs: -25.5,
      targetLufs: -23,
      toleranceLu: 1,
      loudnessRangeLu: 6,
      maxTruePeakDbtp: -3,
      direction: 'too quiet',
    },
  });
  assert.deepEqual(judged('atsc-a85', -25.5), []);
  assert.equal(judged('atsc-a85', -21.5)[0]?.detail?.direction, 'too loud');
  assert.deepEqual(judged('ebu-r128', -22.2), []);
  assert.equal(judged('ebu-r128', -25.5, 'marker').length, 1, 'a programme between markers is judged');
  assert.deepEqual(judged('ebu-r128', -25.5, 'end'), [], 'the rest of a finite input is reported, not judged');
});

test('period reports are a bounded /status history and gauges of the last complete period', async () => {
  const report = new StreamReport(new AnalyzerMetrics('news'), () => '', pino({ level: 'silent' }));
  for (let k = 0; k < 30; k++) {
    report.loudnessPeriod({
      start: k * 10,
      end: (k + 1) * 10,
      closedBy: 'period',
      integratedLufs: -23 - k / 10,
      loudnessRangeLu: 5,
      maxTruePeakDbtp: -2,
    });
  }
  const status = report.status({
    source: 'x',
    live: true,
    phase: 'running',
    startedAt: '',
    timelineSeconds: 300,
    mediaFlowing: true,
    format: {
      videoCodec: null,
      width: null,
      height: null,
      frameRate: null,
      audioCodec: null,
      sampleRate: null,
      channels: null,
      channelLayout: null,
    },
    bitrate: null,
    analysis: { width: 0, height: 0, backend: 'none', executionProvider: 'cpu', lagSeconds: 0, audio: null },
    lastMediaWall: null,
  });
  assert.equal(status.loudnessPeriods.length, 24);
  assert.equal(status.loudnessPeriods[0]?.start, 60, 'the oldest six were dropped');
  assert.equal(checkAnalyzerStatus(JSON.parse(JSON.stringify(status))).ok, true);
  const text = await report.metrics.text();
  assert.match(text, /^streamqc_audio_programme_loudness_lufs\{stream="news"\} -25\.9$/m);
  assert.match(text, /^streamqc_audio_programme_loudness_range_lu\{stream="news"\} 5$/m);
  assert.match(text, /^streamqc_audio_programme_true_peak_max_dbtp\{stream="news"\} -2$/m);
  assert.match(text, /^streamqc_audio_programme_periods_total\{stream="news"\} 30$/m);
  // A silent period: no figure, and no stale one from the period before.
  report.loudnessPeriod({
    start: 300,
    end: 310,
    closedBy: 'period',
    integratedLufs: null,
    loudnessRangeLu: null,
    maxTruePeakDbtp: null,
  });
  assert.doesNotMatch(await report.metrics.text(), /^streamqc_audio_programme_loudness_lufs\{/m);
});
