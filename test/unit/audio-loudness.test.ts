/**
 * BS.1770-4 / EBU R128 loudness on signals with known answers: the BS.1770 coefficient table,
 * the EBU Tech 3341 (meter) and Tech 3342 (loudness range) test cases synthesised in JS,
 * channel weighting, timing of the first readings, and sample-rate independence.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoudnessMeter, kWeightingFor, defaultChannelWeights } from '../../analyzer/audio/loudness.js';
import { pushTone, toneBlocks, type ToneSegment } from './audio-signals.js';

function stereoTone(segments: ToneSegment[], sampleRate = 48000, frequency = 1000): LoudnessMeter {
  return pushTone(new LoudnessMeter(sampleRate, 2), { sampleRate, channels: 2, frequency, segments });
}

function assertNear(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);
}

test('K-weighting derived at 48 kHz reproduces the BS.1770 coefficient table', () => {
  const { shelf, highPass } = kWeightingFor(48000);
  const table = {
    shelf: {
      b0: 1.53512485958697,
      b1: -2.69169618940638,
      b2: 1.19839281085285,
      a1: -1.69065929318241,
      a2: 0.73248077421585,
    },
    highPass: { b0: 1, b1: -2, b2: 1, a1: -1.99004745483398, a2: 0.99007225036621 },
  };
  for (const key of ['b0', 'b1', 'b2', 'a1', 'a2'] as const) {
    assertNear(shelf[key], table.shelf[key], 1e-9, `shelf ${key}`);
    assertNear(highPass[key], table.highPass[key], 1e-9, `high-pass ${key}`);
  }
});

test('EBU Tech 3341 cases 1 and 2: a stereo 1 kHz sine at -23 / -33 dBFS reads -23.0 / -33.0 LUFS M, S and I', () => {
  for (const level of [-23, -33]) {
    const meter = stereoTone([{ dbfs: level, seconds: 20 }]);
    assertNear(meter.momentaryLufs, level, 0.1, `momentary at ${level} dBFS`);
    assertNear(meter.shortTermLufs, level, 0.1, `short-term at ${level} dBFS`);
    assertNear(meter.integratedLufs, level, 0.1, `integrated at ${level} dBFS`);
  }
});

test('EBU Tech 3341 cases 3 to 5: the relative gate drops the quiet parts, integrated reads -23.0 LUFS', () => {
  const cases: ToneSegment[][] = [
    [
      { dbfs: -36, seconds: 10 },
      { dbfs: -23, seconds: 60 },
      { dbfs: -36, seconds: 10 },
    ],
    [
      { dbfs: -72, seconds: 10 },
      { dbfs: -36, seconds: 10 },
      { dbfs: -23, seconds: 60 },
      { dbfs: -36, seconds: 10 },
      { dbfs: -72, seconds: 10 },
    ],
    [
      { dbfs: -26, seconds: 20 },
      { dbfs: -20, seconds: 20.1 },
      { dbfs: -26, seconds: 20 },
    ],
  ];
  for (const segments of cases) {
    assertNear(stereoTone(segments).integratedLufs, -23, 0.1, JSON.stringify(segments));
  }
});

test('EBU Tech 3342 cases 1 to 4: loudness range reads 10, 5, 20 and 15 LU', () => {
  const cases: { segments: ToneSegment[]; lra: number }[] = [
    {
      segments: [
        { dbfs: -20, seconds: 20 },
        { dbfs: -30, seconds: 20 },
      ],
      lra: 10,
    },
    {
      segments: [
        { dbfs: -20, seconds: 20 },
        { dbfs: -15, seconds: 20 },
      ],
      lra: 5,
    },
    {
      segments: [
        { dbfs: -40, seconds: 20 },
        { dbfs: -20, seconds: 20 },
      ],
      lra: 20,
    },
    {
      segments: [-50, -35, -20, -35, -50].map((dbfs) => ({ dbfs, seconds: 20 })),
      lra: 15,
    },
  ];
  for (const { segments, lra } of cases) {
    // Tech 3342 allows +/-1 LU; a histogram of 0.01 LU bins should do far better.
    assertNear(stereoTone(segments).loudnessRangeLu, lra, 0.1, JSON.stringify(segments));
  }
});

test('digital silence reads -Infinity momentary, short-term and integrated loudness and 0 LU range', () => {
  const meter = new LoudnessMeter(48000, 2);
  meter.push(new Float32Array(2 * 48000 * 5));
  assert.equal(meter.momentaryLufs, -Infinity);
  assert.equal(meter.shortTermLufs, -Infinity);
  assert.equal(meter.integratedLufs, -Infinity);
  assert.equal(meter.loudnessRangeLu, 0);
});

test('momentary loudness appears at 400 ms and short-term at 3 s, never earlier', () => {
  const meter = new LoudnessMeter(48000, 2);
  const readings: { frames: number; momentary: number; shortTerm: number }[] = [];
  let frames = 0;
  for (const block of toneBlocks({
    sampleRate: 48000,
    channels: 2,
    frequency: 1000,
    segments: [{ dbfs: -20, seconds: 4 }],
  })) {
    meter.push(block);
    frames += block.length / 2;
    readings.push({ frames, momentary: meter.momentaryLufs, shortTerm: meter.shortTermLufs });
  }
  for (const r of readings) {
    assert.equal(Number.isFinite(r.momentary), r.frames >= 19200, `momentary after ${r.frames} frames`);
    assert.equal(Number.isFinite(r.shortTerm), r.frames >= 144000, `short-term after ${r.frames} frames`);
  }
});

test('the same sine reads the same loudness at 44.1, 48 and 96 kHz within 0.1 LU', () => {
  for (const frequency of [100, 1000, 10000]) {
    const segments = [{ dbfs: -20, seconds: 4 }];
    const at48 = stereoTone(segments, 48000, frequency);
    for (const rate of [44100, 96000]) {
      const other = stereoTone(segments, rate, frequency);
      const what = `${frequency} Hz at ${rate} vs 48000 Hz`;
      assertNear(other.momentaryLufs, at48.momentaryLufs, 0.1, `${what}: momentary`);
      assertNear(other.shortTermLufs, at48.shortTermLufs, 0.1, `${what}: short-term`);
      assertNear(other.integratedLufs, at48.integratedLufs, 0.1, `${what}: integrated`);
    }
  }
});

test('in 5.1 a surround channel weighs +1.5 dB over a front channel and the LFE does not count', () => {
  assert.deepEqual(defaultChannelWeights(6), [1, 1, 1, 0, 1.41, 1.41]);
  const inChannel = (channel: number): LoudnessMeter =>
    pushTone(new LoudnessMeter(48000, 6), {
      sampleRate: 48000,
      channels: 6,
      frequency: 1000,
      segments: [{ dbfs: -20, seconds: 2 }],
      activeChannels: [channel],
    });
  const left = inChannel(0).integratedLufs;
  assertNear(inChannel(1).integratedLufs, left, 1e-9, 'right vs left');
  assertNear(inChannel(2).integratedLufs, left, 1e-9, 'centre vs left');
  assertNear(inChannel(4).integratedLufs - left, 10 * Math.log10(1.41), 1e-9, 'left surround vs left');
  assertNear(inChannel(5).integratedLufs - left, 10 * Math.log10(1.41), 1e-9, 'right surround vs left');
  assert.equal(inChannel(3).integratedLufs, -Infinity);
});

test('readings do not depend on how the audio is split into blocks', () => {
  const spec = {
    sampleRate: 44100,
    channels: 2,
    frequency: 440,
    segments: [
      { dbfs: -18, seconds: 3.5 },
      { dbfs: -30, seconds: 1 },
    ],
  };
  const whole = new LoudnessMeter(44100, 2);
  const chunks: Float32Array[] = [];
  for (const block of toneBlocks(spec)) chunks.push(block.slice());
  const all = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  whole.push(all);
  const odd = new LoudnessMeter(44100, 2);
  for (let i = 0; i < all.length;) {
    const frames = 1 + ((i * 7919) % 3001); // uneven block sizes, 1 to 3001 frames
    odd.push(all.subarray(i, Math.min(all.length, i + 2 * frames)));
    i += 2 * frames;
  }
  // Only the order of floating-point additions differs.
  assertNear(odd.momentaryLufs, whole.momentaryLufs, 1e-9, 'momentary');
  assertNear(odd.shortTermLufs, whole.shortTermLufs, 1e-9, 'short-term');
  assertNear(odd.integratedLufs, whole.integratedLufs, 1e-9, 'integrated');
  assertNear(odd.loudnessRangeLu, whole.loudnessRangeLu, 1e-9, 'range');
});

test('reset starts a new segment: earlier audio no longer counts', () => {
  const meter = stereoTone([{ dbfs: -10, seconds: 5 }]);
  meter.reset();
  assert.equal(meter.momentaryLufs, -Infinity);
  assert.equal(meter.integratedLufs, -Infinity);
  pushTone(meter, { sampleRate: 48000, channels: 2, frequency: 1000, segments: [{ dbfs: -30, seconds: 5 }] });
  assertNear(meter.integratedLufs, -30, 0.1, 'integrated after reset');
  assert.equal(meter.loudnessRangeLu < 0.1, true);
});

test('a NaN sample from a faulty decoder does not poison the meter for the rest of the stream', () => {
  const meter = new LoudnessMeter(48000, 2);
  const broken = new Float32Array(2 * 1024);
  broken[100] = Number.NaN;
  meter.push(broken);
  pushTone(meter, { sampleRate: 48000, channels: 2, frequency: 1000, segments: [{ dbfs: -23, seconds: 5 }] });
  assertNear(meter.momentaryLufs, -23, 0.1, 'momentary after the NaN');
  assertNear(meter.shortTermLufs, -23, 0.1, 'short-term after the NaN');
});

test('a bad format is refused with the field, the value and what is allowed', () => {
  assert.throws(() => new LoudnessMeter(0, 2), /sampleRate 0 is not allowed: an integer from 8000 to 768000 Hz/);
  assert.throws(() => new LoudnessMeter(48000, 0), /channels 0 is not allowed: an integer from 1 to 64/);
  assert.throws(() => new LoudnessMeter(48000, 2, [1]), /channelWeights \[1\] is not allowed: 2 numbers from 0 to 10/);
  assert.throws(
    () => new LoudnessMeter(48000, 2).push(new Float32Array(3)),
    /3 samples is not whole frames of 2 channels/,
  );
});
