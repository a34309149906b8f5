/**
 * Test helper: test signals generated in JS, delivered the way the analyzer delivers decoded
 * audio (interleaved f32 blocks of 1024 frames, the last one shorter).
 */

export interface ToneSegment {
  /** Peak level of the sine, dBFS (-Infinity for silence). */
  dbfs: number;
  seconds: number;
}

export interface ToneSpec {
  sampleRate: number;
  channels: number;
  /** Sine frequency, Hz. */
  frequency: number;
  /** Consecutive levels; the phase runs on across them. */
  segments: ToneSegment[];
  /** Channel indexes that carry the tone; the others are silent. Default: all. */
  activeChannels?: number[];
  /** Frames per block, default 1024. */
  blockFrames?: number;
}

export function dbfsToAmplitude(dbfs: number): number {
  return Math.pow(10, dbfs / 20);
}

/**
 * Yields a sine tone as interleaved blocks. The same buffer is reused for every block, so
 * consume each block before asking for the next.
 */
export function* toneBlocks(spec: ToneSpec): Generator<Float32Array> {
  const { sampleRate, channels, frequency } = spec;
  const blockFrames = spec.blockFrames ?? 1024;
  const active = spec.activeChannels ?? Array.from({ length: channels }, (_, c) => c);
  const block = new Float32Array(blockFrames * channels);
  const omega = (2 * Math.PI * frequency) / sampleRate;
  let n = 0;
  let fill = 0;
  for (const { dbfs, seconds } of spec.segments) {
    const amplitude = dbfsToAmplitude(dbfs);
    const frames = Math.round(seconds * sampleRate);
    for (let f = 0; f < frames; f++, n++) {
      const v = amplitude * Math.sin(omega * n);
      const base = fill * channels;
      for (const c of active) block[base + c] = v;
      if (++fill === blockFrames) {
        yield block;
        fill = 0;
      }
    }
  }
  if (fill > 0) yield block.subarray(0, fill * channels);
}

/** Anything with a push of interleaved blocks: the meters under test. */
export interface PcmSink {
  push(interleaved: Float32Array): unknown;
}

export function pushTone<T extends PcmSink>(sink: T, spec: ToneSpec): T {
  for (const block of toneBlocks(spec)) sink.push(block);
  return sink;
}
