/**
 * The corruption model's data: which baked clips are made (sources, damage rates, codecs,
 * bitrates, negatives), a cache of made clips, and per-cell samples (the graph's measures,
 * computed by onnxruntime with the very graph the model ships in, plus labels).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  CORRUPTION_CELL,
  CORRUPTION_GRAPH_INPUTS,
  CORRUPTION_OUTPUT,
  type CorruptionWeights,
  FEATURES_OUTPUT,
  FEATURE_COUNT,
  buildCorruptionGraph,
} from '../../../analyzer/features/corruption-graph.js';
import type { RealFile, RealSource } from '../../bench/accuracy/real-footage.js';
import { makeBakedClip, type BakedClip, type BakedClipSpec, type Codec, type Encode } from './baked.js';
import { seededRandom } from './mlp.js';

/** A cell whose concealed decode differs from the clean one by at least this much (mean |diff|) is corrupted. */
export const CORRUPTED_CELL_DIFF = 12;
/** At most this much is clean; cells in between are neither (too faint to call either way) and are not scored. */
export const CLEAN_CELL_DIFF = 3;

export type ClipKind = 'baked' | 'clean' | 'generation-loss' | 'starved' | 'blurred' | 'grainy' | 'hazy';

export interface LabelledSpec extends BakedClipSpec {
  kind: ClipKind;
}

const CODECS: readonly Codec[] = ['h264', 'hevc', 'mpeg2'];
/** noise bitstream filter amounts: about one damaged byte per this many; 1.5 Mbit/s feeds carry ~7.5 kB a frame. */
export const DAMAGE_AMOUNTS = [30_000, 100_000, 300_000] as const;
const BITRATES = ['400k', '1000k', '2500k'] as const;
const STARVED: readonly Encode[] = [
  { codec: 'h264', bitrate: '60k' },
  { codec: 'mpeg2', bitrate: '150k' },
  { codec: 'hevc', bitrate: '40k' },
];

export type Origin = BakedClipSpec['origin'];

function pick<T>(list: readonly T[], random: () => number): T {
  const v = list[Math.floor(random() * list.length)];
  if (v === undefined) throw new Error('pick from an empty list');
  return v;
}

/** One negative of each basic kind: a clean re-encode, a generation-loss chain and a starved encode. */
function basicNegatives(
  size: Pick<LabelledSpec, 'width' | 'height' | 'seconds'>,
  origin: Origin,
  random: () => number,
  clean: () => Encode,
  generations: { count: number; bitrate: string },
  starved: Encode | undefined,
): LabelledSpec[] {
  // Keys in this order: a spec's JSON is its cache key.
  const cleanChain = [clean()];
  const chain = Array.from({ length: generations.count }, () => ({
    codec: pick(CODECS, random),
    bitrate: generations.bitrate,
  }));
  return [
    { ...size, kind: 'clean', origin, damage: null, chain: cleanChain },
    { ...size, kind: 'generation-loss', origin, damage: null, chain },
    { ...size, kind: 'starved', origin, damage: null, chain: [starved ?? { codec: 'h264', bitrate: '60k' }] },
  ];
}

/**
 * For each origin: `baked` damaged clips (damage codec, rate, re-encode codec and bitrate
 * drawn from the seeded generator) and one negative of each kind.
 */
export function clipSpecs(origins: readonly Origin[], seed: number, baked = 3, seconds = 4): LabelledSpec[] {
  const random = seededRandom(seed);
  const specs: LabelledSpec[] = [];
  const size = { width: 640, height: 360, seconds };
  for (const [i, origin] of origins.entries()) {
    for (let k = 0; k < baked; k++) {
      specs.push({
        ...size,
        kind: 'baked',
        origin,
        damage: { codec: CODECS[(i + k) % CODECS.length] ?? 'h264', amount: pick(DAMAGE_AMOUNTS, random) },
        chain: [{ codec: pick(CODECS, random), bitrate: pick(BITRATES, random) }],
      });
    }
    const clean = (): Encode => ({ codec: pick(CODECS, random), bitrate: pick(BITRATES, random) });
    const generations = { count: 4, bitrate: '700k' };
    specs.push(...basicNegatives(size, origin, random, clean, generations, STARVED[i % STARVED.length]));
  }
  // Soft pictures (out of focus, blurred) are not corruption either. Drawn without the
  // generator, after the others, so adding them left the clips above (and their cache) as they were.
  for (const [i, origin] of origins.entries()) {
    const codec = CODECS[i % CODECS.length] ?? 'h264';
    const bitrate = BITRATES[i % BITRATES.length] ?? '1000k';
    const sigma = [2, 4, 8][i % 3] ?? 4;
    const chain = [{ codec, bitrate }];
    specs.push({ ...size, kind: 'blurred', origin, filter: `gblur=sigma=${sigma}`, damage: null, chain });
  }
  return specs;
}

/**
 * Pictures unlike the clean, sharp footage where a model that learned "texture is damage" would
 * fire: film grain (temporal noise) and low-contrast, hazy pictures (underwater, fog, night).
 */
export const HARDER_FILTERS = {
  grainy: 'noise=alls=16:allf=t',
  hazy: 'eq=contrast=0.45:brightness=-0.05,gblur=sigma=1',
} as const;

/**
 * More and more varied clips per origin (issue 13, second round): damage that starts and stops
 * inside the clip (sudden onset, gone at the next keyframe), lighter and heavier damage, a second
 * re-encode after the concealment, higher delivery bitrates, and negatives the first set lacked:
 * high-bitrate and long generation-loss chains, starvation in every codec, film grain, hazy low
 * contrast and fades. `origins` are best other stretches of the same sources than clipSpecs' ones.
 */
export const EXTRA_DAMAGE_AMOUNTS = [10_000, 30_000, 100_000, 300_000] as const;
const EXTRA_BITRATES = ['400k', '1000k', '2500k', '6000k'] as const;
/** Packets of a 25 fps feed damaged in windowed clips: 1.0 s to 2.4 s, so clean frames come before and after. */
export const DAMAGE_WINDOW = [25, 60] as const;

export function extraSpecs(origins: readonly Origin[], seed: number, seconds = 4): LabelledSpec[] {
  const random = seededRandom(seed);
  const size = { width: 640, height: 360, seconds };
  const specs: LabelledSpec[] = [];
  const encode = (): Encode => ({ codec: pick(CODECS, random), bitrate: pick(EXTRA_BITRATES, random) });
  for (const [i, origin] of origins.entries()) {
    for (let k = 0; k < 2; k++) {
      const damage = {
        codec: CODECS[(i + k + 1) % CODECS.length] ?? 'h264',
        amount: pick(EXTRA_DAMAGE_AMOUNTS, random),
        packets: DAMAGE_WINDOW,
      };
      specs.push({ ...size, kind: 'baked', origin, damage, chain: [encode()] });
    }
    const twice = { codec: CODECS[(i + 2) % CODECS.length] ?? 'h264', amount: pick(EXTRA_DAMAGE_AMOUNTS, random) };
    specs.push({ ...size, kind: 'baked', origin, damage: twice, chain: [encode(), encode()] });
    const clean = (): Encode => ({ codec: pick(CODECS, random), bitrate: '6000k' });
    const generations = { count: 6, bitrate: '400k' };
    specs.push(...basicNegatives(size, origin, random, clean, generations, STARVED[(i + 1) % STARVED.length]));
    for (const kind of ['grainy', 'hazy'] as const) {
      specs.push({ ...size, kind, origin, filter: HARDER_FILTERS[kind], damage: null, chain: [encode()] });
    }
    specs.push({ ...size, kind: 'clean', origin, filter: 'fade=t=in:st=0:d=3', damage: null, chain: [encode()] });
  }
  return specs;
}

const CACHE = join(process.env.STREAMQC_MEDIA_CACHE ?? join(homedir(), '.cache', 'streamqc'), 'baked-corruption-v2');

/** Makes a clip, or reads it from the cache (keyed by its spec). */
export async function cachedBakedClip(spec: LabelledSpec): Promise<BakedClip<LabelledSpec>> {
  mkdirSync(CACHE, { recursive: true });
  const key = createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
  const file = join(CACHE, `${key}.bin`);
  if (existsSync(file)) return readClip(file, spec);
  const clip = await makeBakedClip(spec);
  const header = Buffer.from(
    JSON.stringify({
      width: clip.width,
      height: clip.height,
      frames: clip.frames.length,
      decodeErrors: clip.decodeErrors,
    }),
  );
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  const floats = (d: Float32Array): Uint8Array => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  const parts = [length, header, ...clip.frames, ...clip.damage.map(floats), floats(clip.blockdetect)];
  writeFileSync(`${file}.${process.pid}`, Buffer.concat(parts));
  renameSync(`${file}.${process.pid}`, file);
  return clip;
}

function readClip(file: string, spec: LabelledSpec): BakedClip<LabelledSpec> {
  const bytes = readFileSync(file);
  const headerLength = bytes.readUInt32LE(0);
  const header = JSON.parse(bytes.subarray(4, 4 + headerLength).toString('utf8')) as {
    width: number;
    height: number;
    frames: number;
    decodeErrors: number;
  };
  let at = 4 + headerLength;
  const size = header.width * header.height;
  const frames: Uint8Array[] = [];
  for (let i = 0; i < header.frames; i++, at += size) frames.push(new Uint8Array(bytes.subarray(at, at + size)));
  const cells = Math.floor(header.width / CORRUPTION_CELL) * Math.floor(header.height / CORRUPTION_CELL);
  const damage: Float32Array[] = [];
  for (let i = 0; i < header.frames; i++, at += cells * 4) {
    damage.push(new Float32Array(bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + cells * 4)));
  }
  const blockdetect = new Float32Array(
    bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + header.frames * 4),
  );
  return {
    spec,
    width: header.width,
    height: header.height,
    frames,
    damage,
    decodeErrors: header.decodeErrors,
    blockdetect,
  };
}

/** Runs the measures-only graph; keep one per process. */
export async function openMeasureSession(): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(buildCorruptionGraph(), { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

/** Per frame of `indices`: the graph output `output`, [channels][rows][cols] as the graph gives it. */
export async function runOnFrames(
  session: ort.InferenceSession,
  clip: BakedClip,
  indices: readonly number[],
  output: string,
): Promise<Float32Array[]> {
  const { width, height } = clip;
  const size = width * height;
  const out: Float32Array[] = [];
  for (let start = 0; start < indices.length; start += 16) {
    const batch = indices.slice(start, start + 16);
    const frames = new Uint8Array(batch.length * size);
    const previous = new Uint8Array(batch.length * size);
    batch.forEach((f, b) => {
      const frame = clip.frames[f] ?? new Uint8Array(size);
      frames.set(frame, b * size);
      previous.set(clip.frames[f - 1] ?? frame, b * size);
    });
    const dims = [batch.length, 1, height, width];
    const result = await session.run({
      [CORRUPTION_GRAPH_INPUTS.frames]: new ort.Tensor('uint8', frames, dims),
      [CORRUPTION_GRAPH_INPUTS.previous]: new ort.Tensor('uint8', previous, dims),
    });
    const t = result[output];
    if (!t) throw new Error(`corruption graph returned no ${output}`);
    const data = t.data as Float32Array;
    const per = data.length / batch.length;
    for (let b = 0; b < batch.length; b++) out.push(data.slice(b * per, (b + 1) * per));
  }
  return out;
}

/** Per frame of `indices`: cell measures, [cells][FEATURE_COUNT] row-major. */
export async function cellMeasures(
  session: ort.InferenceSession,
  clip: BakedClip,
  indices: readonly number[],
): Promise<Float32Array[]> {
  const planes = await runOnFrames(session, clip, indices, FEATURES_OUTPUT);
  return planes.map((data) => {
    const cells = data.length / FEATURE_COUNT;
    const rows = new Float32Array(data.length);
    for (let f = 0; f < FEATURE_COUNT; f++) {
      for (let c = 0; c < cells; c++) rows[c * FEATURE_COUNT + f] = data[f * cells + c] ?? 0;
    }
    return rows;
  });
}

/** The model's probability maps, [rows][cols] per frame of `indices`. */
export async function corruptionMaps(
  session: ort.InferenceSession,
  clip: BakedClip,
  indices: readonly number[],
): Promise<Float32Array[]> {
  return runOnFrames(session, clip, indices, CORRUPTION_OUTPUT);
}

/** Opens the model (measures + MLP) from its weights. */
export async function openModelSession(weights: CorruptionWeights): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(buildCorruptionGraph(weights), { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

/** Where in a real clip its stretch starts: a third of the way in for long clips (past intros and fades). */
function stretchStart(source: RealSource, seconds: number): number {
  return source.durationSeconds > 2 * seconds ? Math.floor(source.durationSeconds / 3) : 0;
}

/** The real clips with a picture, as origins of `seconds`-long stretches. */
export function realOrigins(files: readonly RealFile[], seconds: number): Origin[] {
  return files
    .filter((f) => f.source.video !== undefined)
    .map((f) => ({ kind: 'file', file: f.file, start: stretchStart(f.source, seconds), label: f.source.id }));
}

/** Other stretches of the same clips (two thirds of the way in where there is room, else the start): more pictures per origin. */
export function laterOrigins(files: readonly RealFile[], seconds: number): Origin[] {
  return files
    .filter((f) => f.source.video !== undefined)
    .map((f) => {
      const late = Math.floor((2 * f.source.durationSeconds) / 3);
      const start = late + seconds <= f.source.durationSeconds ? late : 0;
      return { kind: 'file', file: f.file, start, label: f.source.id };
    });
}

/** Other synthetic pictures for the extra clips (same labels as SYNTHETIC_ORIGINS: the same origins for folds). */
export const LATER_SYNTHETIC_ORIGINS: readonly Origin[] = [
  { kind: 'lavfi', graph: 'testsrc2=s=640x360:r=25,hue=H=2*PI*t/4', label: 'testsrc2' },
  { kind: 'lavfi', graph: 'mandelbrot=s=640x360:r=25:start_scale=1.5', label: 'mandelbrot' },
];

/** Synthetic pictures with motion and detail everywhere (a static picture conceals perfectly). */
export const SYNTHETIC_ORIGINS: readonly Origin[] = [
  { kind: 'lavfi', graph: 'testsrc2=s=640x360:r=25', label: 'testsrc2' },
  { kind: 'lavfi', graph: 'mandelbrot=s=640x360:r=25', label: 'mandelbrot' },
];
