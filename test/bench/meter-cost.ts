/**
 * CPU cost of the audio meters: 30 s of 48 kHz stereo and 5.1 pushed in the decoder's
 * 1024-frame blocks, several runs, the median reported. Not a test: a figure for a person.
 *
 *   node dist/test/bench/meter-cost.js [runs]
 */
import { AudioMeter } from '../../analyzer/audio/meter.js';
import { LoudnessMeter } from '../../analyzer/audio/loudness.js';

const RATE = 48000;
const SECONDS = 30;
const BLOCK = 1024;

function programme(channels: number): Float32Array {
  const frames = RATE * SECONDS;
  const pcm = new Float32Array(frames * channels);
  let seed = 1;
  for (let n = 0; n < frames; n++) {
    // A tone that changes level every 2 s plus a little noise: every window sees changing energy.
    const level = 0.05 + 0.2 * ((Math.floor(n / (2 * RATE)) % 5) / 4);
    for (let c = 0; c < channels; c++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      pcm[n * channels + c] =
        level * Math.sin((2 * Math.PI * (440 + 110 * c) * n) / RATE) + 0.01 * (seed / 2147483648 - 0.5);
    }
  }
  return pcm;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function time(pcm: Float32Array, channels: number, make: () => { push(block: Float32Array): unknown }): number {
  const meter = make();
  const started = process.hrtime.bigint();
  for (let i = 0; i < pcm.length; i += BLOCK * channels) meter.push(pcm.subarray(i, i + BLOCK * channels));
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const runs = Number(process.argv[2] ?? 9);
for (const channels of [2, 6]) {
  const pcm = programme(channels);
  for (const [name, make] of [
    ['LoudnessMeter', () => new LoudnessMeter(RATE, channels)],
    ['AudioMeter', () => new AudioMeter(RATE, channels)],
  ] as const) {
    time(pcm, channels, make); // warm-up: JIT
    const ms = Array.from({ length: runs }, () => time(pcm, channels, make));
    const m = median(ms);
    console.log(
      `${name} ${channels === 2 ? 'stereo' : '5.1'}: median ${m.toFixed(1)} ms, best ${Math.min(...ms).toFixed(1)} ms per ${SECONDS} s (${((SECONDS * 1000) / m).toFixed(0)}x real time), runs ${ms.map((x) => x.toFixed(1)).join(' ')}`,
    );
  }
}
