import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reconnectDelay } from '../../analyzer/pipeline.js';
import { AnalyzerMetrics } from '../../analyzer/report/metrics.js';

const ingest = { reconnectInitialDelay: 0.5, reconnectMaxDelay: 30, reconnectJitter: 0.2 };

test('reconnect delays double from the initial delay and stop at the cap', () => {
  const plain = [0, 1, 2, 3, 4, 5, 6, 7, 10, 1000].map((a) => reconnectDelay(a, ingest, 0.5));
  assert.deepEqual(plain, [0.5, 1, 2, 4, 8, 16, 30, 30, 30, 30]);
});

test('jitter spreads a delay by at most the configured share either way', () => {
  assert.equal(reconnectDelay(3, ingest, 0), 4 * 0.8);
  assert.ok(Math.abs(reconnectDelay(3, ingest, 0.999999) - 4 * 1.2) < 1e-5);
  assert.equal(
    reconnectDelay(20, ingest, 0),
    30 * 0.8,
    'the cap is jittered too, never exceeded by more than the share',
  );
});

test('every series of the metrics contract exists with the stream label from the start', async () => {
  const text = await new AnalyzerMetrics('news').text();
  for (const name of [
    'streamqc_up',
    'streamqc_frames_total',
    'streamqc_frames_dropped_total',
    'streamqc_decode_errors_total',
    'streamqc_reconnects_total',
  ]) {
    assert.match(text, new RegExp(`^${name}\\{stream="news"\\} 0$`, 'm'), name);
  }
  for (const type of [
    'black',
    'freeze',
    'silence',
    'loudness',
    'clipping',
    'blockiness',
    'blur',
    'stall',
    'decode_error',
    'av_sync',
    'format_change',
  ]) {
    for (const name of ['streamqc_defect_active', 'streamqc_defects_total', 'streamqc_defect_seconds_total']) {
      assert.match(text, new RegExp(`^${name}\\{stream="news",type="${type}"\\} 0$`, 'm'), `${name} ${type}`);
    }
  }
  // Declared (HELP/TYPE) even before the first value: dashboards and alerts rely on these names.
  for (const name of [
    'streamqc_video_black_ratio',
    'streamqc_video_blockiness',
    'streamqc_video_blur',
    'streamqc_audio_loudness_lufs',
    'streamqc_audio_true_peak_dbtp',
    'streamqc_audio_loudness_max_lufs',
    'streamqc_audio_loudness_range_lu',
    'streamqc_audio_true_peak_max_dbtp',
    'streamqc_av_offset_seconds',
    'streamqc_input_bitrate_bits_per_second',
    'streamqc_stream_info',
    'streamqc_analysis_lag_seconds',
    'streamqc_frame_processing_seconds',
  ]) {
    assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
  }
});
