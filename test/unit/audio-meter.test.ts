/**
 * The combined AudioMeter as the analyzer uses it: 1024-frame blocks, segment resets, memory
 * that stays flat over an hour of audio, and its cost per sample at 48 kHz stereo.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AudioMeter } from '../../analyzer/audio/meter.js';
import { dbfsToAmplitude, pushTone, toneBlocks } from './audio-signals.js';

/** A full collection before each heap reading, so that only retained memory is compared. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
}

function retainedMemory(): number {
  collectGarbage();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

test('every block reports levels, true peak and loudness as of its end; a short last block is fine', () => {
  const meter = new AudioMeter(48000, 2);
  const measures = [];
  // 3.01 s is 141 blocks of 1024 frames and a last one of 96.
  const tone = toneBlocks({
    sampleRate: 48000,
    channels: 2,
    frequency: 1000,
    segments: [{ dbfs: -23, seconds: 3.01 }],
  });
  for (const block of tone) measures.push(meter.push(block));
  const last = measures.at(-1);
  assert.ok(last, 'a measure per block');
  assert.equal(last.peakDbfs.length, 2);
  assert.equal(last.rmsDbfs.length, 2);
  assert.ok(Math.abs(last.peakDbfs[0]! - -23) < 0.01);
  assert.ok(Math.abs(last.truePeakDbtp - -23) < 0.05);
  assert.ok(Math.abs(last.momentaryLufs - -23) < 0.1);
  assert.ok(Math.abs(last.shortTermLufs - -23) < 0.1);
  assert.equal(measures[0]!.momentaryLufs, -Infinity);
  assert.ok(Math.abs(meter.integratedLufs - -23) < 0.1);
  assert.ok(meter.loudnessRangeLu < 0.1);
});

test('reset starts a new segment: loudness, range and the true-peak maximum forget the old one', () => {
  const meter = new AudioMeter(48000, 2);
  pushTone(meter, { sampleRate: 48000, channels: 2, frequency: 1000, segments: [{ dbfs: -3, seconds: 4 }] });
  meter.reset();
  assert.equal(meter.integratedLufs, -Infinity);
  assert.equal(meter.truePeakMaxDbtp, -Infinity);
  const m = meter.push(new Float32Array(2048));
  assert.equal(m.momentaryLufs, -Infinity);
  pushTone(meter, { sampleRate: 48000, channels: 2, frequency: 1000, segments: [{ dbfs: -30, seconds: 4 }] });
  assert.ok(Math.abs(meter.integratedLufs - -30) < 0.1, `${meter.integratedLufs}`);
  assert.ok(Math.abs(meter.truePeakMaxDbtp - -30) < 0.05, `${meter.truePeakMaxDbtp}`);
});

/**
 * A stereo 1 kHz tone whose level walks through a 10-minute pattern (-50..-10 dBFS), so the
 * loudness histograms fill many bins. Blocks are precomputed per level (960 frames is 20 whole
 * periods at 48 kHz), so generating an hour costs nothing next to measuring it.
 */
class TenMinutePattern {
  static readonly blockFrames = 960;
  static readonly blocksPerSecond = 48000 / TenMinutePattern.blockFrames;
  private readonly blocks: Float32Array[] = [];

  constructor() {
    for (let level = 0; level <= 40; level++) {
      const amplitude = dbfsToAmplitude(-50 + level);
      const block = new Float32Array(2 * TenMinutePattern.blockFrames);
      for (let i = 0; i < TenMinutePattern.blockFrames; i++) {
        const v = amplitude * Math.sin((2 * Math.PI * i) / 48);
        block[2 * i] = v;
        block[2 * i + 1] = v;
      }
      this.blocks.push(block);
    }
  }

  /** Pushes seconds [from, to) of the pattern. */
  push(meter: AudioMeter, fromSecond: number, toSecond: number): void {
    for (let s = fromSecond; s < toSecond; s++) {
      // A level per second: a triangle over 10 minutes with a faster wobble on top.
      const phase = (s % 600) / 600;
      const triangle = phase < 0.5 ? 2 * phase : 2 - 2 * phase;
      const level = Math.round(32 * triangle + 8 * ((s * 7) % 5 === 0 ? 1 : 0));
      const block = this.blocks[Math.min(40, level)]!;
      for (let b = 0; b < TenMinutePattern.blocksPerSecond; b++) meter.push(block);
    }
  }
}

test('an hour of audio keeps the meter bounded: arrays fixed, heap flat, and the hour reads like its repeating 10 minutes', (t) => {
  const pattern = new TenMinutePattern();
  const tenMinutes = new AudioMeter(48000, 2);
  pattern.push(tenMinutes, 0, 600);

  const hour = new AudioMeter(48000, 2);
  pattern.push(hour, 0, 60);
  const bytesAtOneMinute = hour.retainedBytes;
  const memoryAtOneMinute = retainedMemory();
  pattern.push(hour, 60, 3600);
  const growth = retainedMemory() - memoryAtOneMinute;
  t.diagnostic(
    `retained arrays ${hour.retainedBytes} bytes; heap + array buffers grew ${growth} bytes over 59 minutes`,
  );

  assert.equal(hour.retainedBytes, bytesAtOneMinute);
  // 59 minutes are 35400 gating blocks and as many short-term values: keeping them in a list
  // would retain at least 566 KB. The heap may move a little for unrelated reasons.
  assert.ok(growth < 256 * 1024, `memory grew by ${growth} bytes`);
  // Six repeats of the same 10 minutes: the same gated mean and the same distribution.
  assert.ok(
    Math.abs(hour.integratedLufs - tenMinutes.integratedLufs) < 0.05,
    `${hour.integratedLufs} vs ${tenMinutes.integratedLufs}`,
  );
  assert.ok(
    Math.abs(hour.loudnessRangeLu - tenMinutes.loudnessRangeLu) < 0.2,
    `${hour.loudnessRangeLu} vs ${tenMinutes.loudnessRangeLu}`,
  );
  assert.ok(hour.loudnessRangeLu > 10, `the pattern spans more than 10 LU: ${hour.loudnessRangeLu}`);
});

test('48 kHz stereo costs well under 2% of one core', (t) => {
  const sampleRate = 48000;
  const blockFrames = 1024;
  // Noise-like content so that no branch is predictable; a few distinct blocks to defeat caching.
  const blocks: Float32Array[] = [];
  let seed = 12345;
  for (let b = 0; b < 16; b++) {
    const block = new Float32Array(2 * blockFrames);
    for (let i = 0; i < block.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      block[i] = (seed / 2 ** 32 - 0.5) * 0.5;
    }
    blocks.push(block);
  }
  const meter = new AudioMeter(sampleRate, 2);
  for (let i = 0; i < 1000; i++) meter.push(blocks[i % 16]!); // warm up the JIT

  const seconds = 60;
  const pushes = Math.ceil((seconds * sampleRate) / blockFrames);
  const start = process.hrtime.bigint();
  for (let i = 0; i < pushes; i++) meter.push(blocks[i % 16]!);
  const elapsedNs = Number(process.hrtime.bigint() - start);
  const frames = pushes * blockFrames;
  const nsPerFrame = elapsedNs / frames;
  const shareOfCore = (nsPerFrame * sampleRate) / 1e9;
  t.diagnostic(
    `${(nsPerFrame / 2).toFixed(1)} ns per sample, ${nsPerFrame.toFixed(1)} ns per stereo frame, ` +
      `${(shareOfCore * 100).toFixed(2)}% of one core at 48 kHz stereo`,
  );
  assert.ok(shareOfCore < 0.02, `${(shareOfCore * 100).toFixed(2)}% of one core`);
});
