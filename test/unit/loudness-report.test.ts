import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { AnalyzerMetrics } from '../../analyzer/report/metrics.js';
import { StreamReport } from '../../analyzer/report/stream-report.js';
import { checkAnalyzerStatus } from '../../analyzer/contract/status.js';
import { AudioStage } from '../../analyzer/audio/stage.js';

const readings = {
  momentaryLufs: -22.5,
  shortTermLufs: -23.1,
  integratedLufs: -23.0,
  truePeakDbtp: -3.2,
  loudnessRangeLu: 7.5,
  maxMomentaryLufs: -18.25,
  maxShortTermLufs: -20.5,
  maxTruePeakDbtp: -1.5,
};

function report(): StreamReport {
  return new StreamReport(new AnalyzerMetrics('news'), () => '2026-12-01T00:00:00.000Z', pino({ level: 'silent' }));
}

test('LRA, max momentary, max short-term and the programme max true peak are Prometheus gauges', async () => {
  const r = report();
  r.loudnessMeasured(readings);
  const text = await r.metrics.text();
  assert.match(text, /^streamqc_audio_loudness_range_lu\{stream="news"\} 7\.5$/m);
  assert.match(text, /^streamqc_audio_loudness_max_lufs\{stream="news",window="momentary"\} -18\.25$/m);
  assert.match(text, /^streamqc_audio_loudness_max_lufs\{stream="news",window="short_term"\} -20\.5$/m);
  assert.match(text, /^streamqc_audio_true_peak_max_dbtp\{stream="news"\} -1\.5$/m);
  assert.match(text, /^streamqc_audio_loudness_lufs\{stream="news",window="integrated"\} -23$/m);
});

test('/status carries every EBU Mode reading and passes the contract schema', () => {
  const r = report();
  r.loudnessMeasured(readings);
  assert.deepEqual(r.loudnessReadings, readings);
});

test('the contract schema refuses a loudness reading out of bounds or of the wrong type', () => {
  const base = {
    source: 'x',
    phase: 'running',
    mediaFlowing: true,
    format: {},
    bitrate: null,
    activeDefects: [],
    recentEvents: [],
    counters: { defects: {} },
  };
  assert.equal(checkAnalyzerStatus({ ...base, loudness: readings }).ok, true);
  for (const [field, value] of [
    ['loudnessRangeLu', -1],
    ['maxMomentaryLufs', Infinity],
    ['maxTruePeakDbtp', 'loud'],
  ] as const) {
    const answer = checkAnalyzerStatus({ ...base, loudness: { ...readings, [field]: value } });
    assert.match('error' in answer ? answer.error : 'accepted', new RegExp(`/loudness/${field}`));
  }
});

test('a finished input publishes fresh gated figures: finalReadings is not the once-a-second integrated value', () => {
  const stage = new AudioStage({ sampleRate: 48000, channels: 2 }, 1);
  let sample = 0;
  const block = (amplitude: number): Float32Array => {
    const pcm = new Float32Array(2 * 1024);
    for (let n = 0; n < 1024; n++, sample++) {
      pcm[2 * n] = pcm[2 * n + 1] = amplitude * Math.sin((2 * Math.PI * 1000 * sample) / 48000);
    }
    return pcm;
  };
  let t = 0;
  let last = stage.push(t, block(0.1)).loudness;
  // 4 s at one level, then 0.9 s far louder: the last once-a-second refresh predates the loud part.
  for (; t < 4; t += 1024 / 48000) last = stage.push(t, block(0.1)).loudness;
  for (const end = t + 0.9; t < end; t += 1024 / 48000) last = stage.push(t, block(0.8)).loudness;
  const final = stage.finalReadings();
  assert.ok(final.integratedLufs !== null && last.integratedLufs !== null);
  assert.ok(
    final.integratedLufs > last.integratedLufs + 1,
    `final ${final.integratedLufs}, last ${last.integratedLufs}`,
  );
  assert.ok(final.loudnessRangeLu !== null && final.loudnessRangeLu > 1, `LRA ${final.loudnessRangeLu}`);
  assert.ok(final.maxTruePeakDbtp !== null && Math.abs(final.maxTruePeakDbtp - 20 * Math.log10(0.8)) < 0.1);
});
