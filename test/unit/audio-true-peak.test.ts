/**
 * True peak (BS.1770-4 Annex 2, 4x oversampling) on inter-sample-peak signals, against the
 * analytic peak and against ffmpeg's `ebur128=peak=true` on the same samples.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TruePeakMeter } from '../../analyzer/audio/true-peak.js';
import { ffmpegEbur128, renderLavfi, type PcmFormat } from './audio-ffmpeg.js';
import { pushTone } from './audio-signals.js';

function samplePeakDbfs(pcm: Float32Array): number {
  let peak = 0;
  for (const x of pcm) peak = Math.max(peak, Math.abs(x));
  return 20 * Math.log10(peak);
}

function measure(pcm: Float32Array, format: PcmFormat): TruePeakMeter {
  const meter = new TruePeakMeter(format.sampleRate, format.channels);
  const step = 1024 * format.channels;
  for (let i = 0; i < pcm.length; i += step) meter.push(pcm.subarray(i, i + step));
  return meter;
}

// The fade-in keeps the onset band-limited: an abrupt start rings in any interpolator (ffmpeg's
// resampler overshoots it by 0.6 dB), which would measure the onset, not the steady signal.
const INTER_SAMPLE_PEAKS: { name: string; expr: string; format: PcmFormat; samplePeak: number; truePeak: number }[] = [
  {
    name: 'a 12 kHz sine sampled 45 degrees off its peaks, 48 kHz',
    expr: '0.5*sin(2*PI*12000*t+PI/4)',
    format: { sampleRate: 48000, channels: 2, layout: 'stereo' },
    samplePeak: -9.03,
    truePeak: -6.02,
  },
  {
    name: 'an 11.025 kHz sine sampled 45 degrees off its peaks, 44.1 kHz',
    expr: '0.5*sin(2*PI*11025*t+PI/4)',
    format: { sampleRate: 44100, channels: 2, layout: 'stereo' },
    samplePeak: -9.03,
    truePeak: -6.02,
  },
  {
    name: 'a 17 kHz sine, 48 kHz',
    expr: '0.5*sin(2*PI*17000*t+0.3)',
    format: { sampleRate: 48000, channels: 2, layout: 'stereo' },
    samplePeak: -6.03,
    truePeak: -6.02,
  },
];

for (const { name, expr, format, samplePeak, truePeak } of INTER_SAMPLE_PEAKS) {
  test(`${name}: sample peak ${samplePeak} dBFS, true peak ${truePeak} dBTP, within 0.3 dB of ffmpeg's`, async (t) => {
    const pcm = await renderLavfi(
      `aevalsrc=exprs=${expr}|${expr}:c=stereo:s=${format.sampleRate}:d=3,afade=t=in:d=0.5`,
      format,
    );
    const ref = await ffmpegEbur128(pcm, format);
    const ours = measure(pcm, format).maxTruePeakDbtp;
    t.diagnostic(`ours ${ours.toFixed(3)} dBTP, ffmpeg ${ref.truePeakDbtp} dBTP, analytic ${truePeak}`);
    assert.ok(Math.abs(samplePeakDbfs(pcm) - samplePeak) < 0.01, `sample peak ${samplePeakDbfs(pcm)}`);
    assert.ok(Math.abs(ours - ref.truePeakDbtp) <= 0.3, `ours ${ours} vs ffmpeg ${ref.truePeakDbtp}`);
    assert.ok(Math.abs(ours - truePeak) <= 0.3, `ours ${ours} vs analytic ${truePeak}`);
  });
}

test("a square wave at -0.9 dBFS overshoots to about +1.1 dBTP between samples, within 0.3 dB of ffmpeg's", async (t) => {
  const format: PcmFormat = { sampleRate: 48000, channels: 1, layout: 'mono' };
  const pcm = await renderLavfi(
    'aevalsrc=exprs=0.9*sgn(sin(2*PI*1000*t+0.1)):c=mono:s=48000:d=2,afade=t=in:d=0.2',
    format,
  );
  const ref = await ffmpegEbur128(pcm, format);
  const ours = measure(pcm, format).maxTruePeakDbtp;
  t.diagnostic(`ours ${ours.toFixed(3)} dBTP, ffmpeg ${ref.truePeakDbtp} dBTP`);
  assert.ok(ours > 0, `a clip-free square wave still peaks over full scale between samples: ${ours}`);
  assert.ok(Math.abs(ours - ref.truePeakDbtp) <= 0.3, `ours ${ours} vs ffmpeg ${ref.truePeakDbtp}`);
});

test('true peak never reads below the sample peak, even where the Annex 2 phases straddle it', () => {
  // A 12 kHz sine with its peaks on the samples: the Annex 2 phases alone read 0.2 dB low here.
  const meter = pushTone(new TruePeakMeter(48000, 1), {
    sampleRate: 48000,
    channels: 1,
    frequency: 12000,
    segments: [{ dbfs: -6, seconds: 0.5 }],
  });
  assert.ok(meter.maxTruePeakDbtp >= -6 - 1e-6, `${meter.maxTruePeakDbtp}`);

  let seed = 7;
  const noise = new Float32Array(2 * 48000);
  for (let i = 0; i < noise.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    noise[i] = (seed / 2 ** 32 - 0.5) * 0.8;
  }
  const noisy = new TruePeakMeter(48000, 2);
  for (let i = 0; i < noise.length; i += 2048) {
    const block = noise.subarray(i, i + 2048);
    noisy.push(block);
    assert.ok(noisy.blockTruePeakDbtp >= samplePeakDbfs(block), `block at ${i}`);
  }
});

test('the block true peak follows the latest block while the running maximum keeps the loudest, until reset', () => {
  const meter = new TruePeakMeter(48000, 2);
  const spec = (dbfs: number) => ({ sampleRate: 48000, channels: 2, frequency: 997, segments: [{ dbfs, seconds: 1 }] });
  pushTone(meter, spec(-3));
  pushTone(meter, spec(-20));
  assert.ok(Math.abs(meter.blockTruePeakDbtp - -20) < 0.1, `block ${meter.blockTruePeakDbtp}`);
  assert.ok(Math.abs(meter.maxTruePeakDbtp - -3) < 0.1, `max ${meter.maxTruePeakDbtp}`);
  meter.reset();
  assert.equal(meter.maxTruePeakDbtp, -Infinity);
  meter.push(new Float32Array(2048));
  assert.equal(meter.blockTruePeakDbtp, -Infinity);
});

test('at 192 kHz the samples are dense enough: no oversampling, true peak equals sample peak', () => {
  const meter = new TruePeakMeter(192000, 1);
  assert.equal(meter.oversampling, 1);
  assert.equal(new TruePeakMeter(96000, 1).oversampling, 4);
  const block = new Float32Array([0.1, -0.5, 0.25, 0]);
  meter.push(block);
  assert.equal(meter.blockTruePeakDbtp, 20 * Math.log10(0.5));
});
