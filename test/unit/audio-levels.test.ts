/**
 * Sample peak, RMS and clipping per block, on JS tones and on a sine ffmpeg drives into clipping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measureLevels } from '../../analyzer/audio/levels.js';
import { AudioMeter } from '../../analyzer/audio/meter.js';
import { renderLavfi } from './audio-ffmpeg.js';
import { toneBlocks } from './audio-signals.js';

test('a 1 kHz sine at -20 dBFS reads -20 dBFS peak, -23.01 dBFS RMS, no clipping and -20 dBTP true peak', () => {
  const meter = new AudioMeter(48000, 2);
  // 960 frames is 20 whole periods, so every block's RMS is the sine's exact RMS.
  const tone = toneBlocks({
    sampleRate: 48000,
    channels: 2,
    frequency: 1000,
    segments: [{ dbfs: -20, seconds: 1 }],
    blockFrames: 960,
  });
  for (const block of tone) {
    const m = meter.push(block);
    for (let c = 0; c < 2; c++) {
      assert.ok(Math.abs(m.peakDbfs[c]! - -20) < 1e-4, `peak ${m.peakDbfs[c]}`);
      assert.ok(Math.abs(m.rmsDbfs[c]! - (-20 - 10 * Math.log10(2))) < 1e-4, `rms ${m.rmsDbfs[c]}`);
    }
    assert.equal(m.clippedSamples, 0);
  }
  assert.ok(Math.abs(meter.truePeakMaxDbtp - -20) < 0.05, `true peak ${meter.truePeakMaxDbtp}`);
});

test('each channel is measured on its own: -6 dBFS left, silent right', () => {
  const tone = toneBlocks({
    sampleRate: 48000,
    channels: 2,
    frequency: 1000,
    segments: [{ dbfs: -6, seconds: 0.02 }],
    activeChannels: [0],
    blockFrames: 960,
  });
  const [block] = [...tone];
  assert.ok(block);
  const levels = measureLevels(block, 2);
  assert.ok(Math.abs(levels.peakDbfs[0]! - -6) < 1e-4);
  assert.equal(levels.peakDbfs[1], -Infinity);
  assert.equal(levels.rmsDbfs[1], -Infinity);
});

test('a 1 kHz sine driven 20 dB into clipping by ffmpeg clips 42 of every 48 samples per channel', async () => {
  // 0.5 * 10 = 5x full scale; s16 conversion clamps it. |5 sin(2 pi k / 48)| >= 0.999 for all
  // k but 0, 1, 23, 24, 25 and 47 of each 48-sample period.
  const pcm = await renderLavfi(
    'aevalsrc=exprs=0.5*sin(2*PI*1000*t)|0.5*sin(2*PI*1000*t):c=stereo:s=48000:d=1,volume=20dB,aformat=sample_fmts=s16',
    { sampleRate: 48000, channels: 2, layout: 'stereo' },
  );
  assert.equal(pcm.length, 2 * 48000);
  const meter = new AudioMeter(48000, 2, { clipLevel: 0.999 });
  let clipped = 0;
  let worstTruePeak = -Infinity;
  for (let i = 0; i < pcm.length; i += 2048) {
    const m = meter.push(pcm.subarray(i, i + 2048));
    clipped += m.clippedSamples;
    worstTruePeak = Math.max(worstTruePeak, m.truePeakDbtp);
  }
  assert.equal(clipped, 2 * 48000 * (42 / 48));
  // The flattened tops ring between samples: over full scale even though no sample is.
  assert.ok(worstTruePeak > 0, `true peak of the clipped sine ${worstTruePeak}`);
});

test('the clip level is an option: at 0.5, samples at or above half scale count, float overs included', () => {
  const block = new Float32Array([0.49, -0.5, 0.7, -1.5, 0, 0.2]);
  assert.equal(measureLevels(block, 2, 0.5).clippedSamples, 3);
  assert.equal(measureLevels(block, 2).clippedSamples, 1);
  assert.equal(new AudioMeter(48000, 2, { clipLevel: 0.5 }).push(block).clippedSamples, 3);
});

test('a clip level outside 0.1..1 (-20..0 dBFS) is refused, naming the option and the range', () => {
  assert.throws(
    () => new AudioMeter(48000, 2, { clipLevel: 1.5 }),
    /clipLevel 1.5 is not allowed: a number from 0.1 to 1/,
  );
  assert.throws(() => new AudioMeter(48000, 2, { clipLevel: 0.05 }), /clipLevel 0.05 is not allowed/);
  assert.throws(() => new AudioMeter(48000, 2, { clipLevel: Number.NaN }), /clipLevel NaN is not allowed/);
});
