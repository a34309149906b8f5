/**
 * Micro-benchmark of the frame feature backends on real decoded frames: the CPU kernel
 * against the ONNX graph on onnxruntime's CPU provider (1 and 2 threads; batches of 1, 8
 * and 16) at three analysis sizes. Prints wall ms/frame (best pass), CPU ms/frame (all
 * threads) and each as a ratio to the CPU kernel.
 *
 *   node dist/test/bench/features.js [seconds per measurement, default 1.5]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuFeatureExtractor } from '../../analyzer/features/cpu.js';
import { OnnxFeatureExtractor } from '../../analyzer/features/onnx.js';
import type { FeatureExtractor, FeatureGeometry, LumaFrame } from '../../analyzer/features/types.js';
import { runCommand } from '../media/fixtures.js';

const SECONDS = Number(process.argv[2] ?? 1.5);
const CLIP_FRAMES = 48;
const SIZES: FeatureGeometry[] = [
  { width: 480, height: 270, darkThreshold: 32, blockPeriod: 2 },
  { width: 640, height: 360, darkThreshold: 32, blockPeriod: 4 },
  { width: 960, height: 540, darkThreshold: 32, blockPeriod: 4 },
];

async function ffmpeg(args: readonly string[]): Promise<Buffer> {
  return (
    await runCommand('ffmpeg', ['-hide_banner', '-v', 'error', '-nostdin', ...args], {
      timeoutMs: 10 * 60_000,
      what: 'decoding frames',
    })
  ).stdout;
}

/** Decimated luma planes, decoded the way the analyzer decodes them. */
async function decodeLuma(path: string, width: number, height: number): Promise<LumaFrame[]> {
  const raw = await ffmpeg([
    '-i',
    path,
    '-vf',
    `scale=${width}:${height}:flags=neighbor,format=gray`,
    '-f',
    'rawvideo',
    '-',
  ]);
  const size = width * height;
  const frames: LumaFrame[] = [];
  for (let off = 0; off + size <= raw.length; off += size)
    frames.push({ width, height, data: new Uint8Array(raw.subarray(off, off + size)) });
  return frames;
}

interface Timing {
  /** Wall ms per frame of the best whole pass: the least disturbed by other processes. */
  wall: number;
  /** Process CPU ms per frame over all passes (every thread): what a pod's CPU limit pays. */
  cpu: number;
}

/** Whole passes over the clip, in calls of `callSize` frames, for SECONDS. */
async function measure(extractor: FeatureExtractor, frames: readonly LumaFrame[], callSize: number): Promise<Timing> {
  const pass = async (): Promise<number> => {
    const t0 = performance.now();
    extractor.reset();
    for (let i = 0; i < frames.length; i += callSize) await extractor.extract(frames.slice(i, i + callSize));
    return (performance.now() - t0) / frames.length;
  };
  await pass(); // warm-up: first-run allocations, ORT's shape-specific planning
  let wall = Number.POSITIVE_INFINITY;
  let done = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    wall = Math.min(wall, await pass());
    done += frames.length;
  }
  const used = process.cpuUsage(cpu0);
  return { wall, cpu: (used.user + used.system) / 1000 / done };
}

const dir = await mkdtemp(join(tmpdir(), 'streamqc-bench-'));
try {
  const clip = join(dir, 'clip.mkv');
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=1920x1080:rate=25`,
    '-f',
    'lavfi',
    '-i',
    `mandelbrot=size=1920x1080:rate=25:maxiter=256`,
    '-filter_complex',
    '[0][1]blend=all_mode=average',
    '-frames:v',
    String(CLIP_FRAMES),
    '-c:v',
    'libx264',
    '-crf',
    '23',
    '-pix_fmt',
    'yuv420p',
    '-y',
    clip,
  ]);
  const log = { warn: (m: string): void => console.error(m) };
  console.log(`features benchmark: ${CLIP_FRAMES} real frames per pass, >= ${SECONDS} s per measurement`);
  console.log('size      backend    threads  batch  wall ms/frame  vs cpu  cpu ms/frame  vs cpu');
  const row = (size: string, backend: string, threads: string, batch: string, t: Timing, base: Timing): void =>
    console.log(
      [
        size.padEnd(9),
        backend.padEnd(10),
        threads.padStart(7),
        batch.padStart(5),
        t.wall.toFixed(3).padStart(13),
        (t.wall / base.wall).toFixed(2).padStart(6),
        t.cpu.toFixed(3).padStart(12),
        (t.cpu / base.cpu).toFixed(2).padStart(6),
      ].join('  '),
    );
  for (const geometry of SIZES) {
    const frames = await decodeLuma(clip, geometry.width, geometry.height);
    const size = `${geometry.width}x${geometry.height}`;
    const cpu = await measure(new CpuFeatureExtractor(geometry), frames, 16);
    row(size, 'cpu', '-', '-', cpu, cpu);
    for (const threads of [1, 2]) {
      for (const batchSize of [1, 8, 16]) {
        const onnx = await OnnxFeatureExtractor.create(geometry, { executionProvider: 'cpu', threads, batchSize, log });
        const t = await measure(onnx, frames, batchSize);
        await onnx.close();
        row(size, `onnx-${onnx.executionProvider}`, String(threads), String(batchSize), t, cpu);
      }
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
