/**
 * The GPU path, measured on a machine with an NVIDIA GPU. scripts/gpu-check.sh checks for the GPU,
 * installs what is missing and runs this; run alone it still refuses to print a figure it could
 * not measure. In order, each step a gate with its own exit code and message:
 *   1. The CUDA execution provider: the analyzer's ONNX feature graph opened with CUDA alone (no
 *      CPU fallback) and run on one batch.
 *   2. NVDEC: a small clip decoded by Debian's ffmpeg with `-hwaccel cuda`, frames kept on the
 *      GPU and downloaded explicitly, so a silent fallback to software decoding is an error.
 *   3. On the cost benchmark's clips (cost-clip.ts): decode on CPU and with NVDEC, and the analyzer
 *      with its CPU kernel, the ONNX graph on CPU, and the ONNX graph on CUDA. The three analyzer
 *      paths must report the same events (the graph is exact on every provider, onnx-graph.ts).
 * Prints wall time, CPU seconds per media second and GPU utilisation per stream for each path.
 *
 *   node dist/test/bench/gpu-check.js [--sizes 720,1080] [--decode-only] [--json FILE]
 *
 * --decode-only skips the CUDA provider and the analyzer: NVDEC against CPU decoding alone.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { buildFeatureGraph, FEATURE_GRAPH_INPUTS } from '../../analyzer/features/onnx-graph.js';
import { cachedClip, mean, measure, probeClip, type Measured } from './bench-util.js';
import { costClipRecipe, FPS } from './cost-clip.js';
import { CLI_ARGV } from '../analyzer/run-cli.js';

/** Exit codes, one per gate, so a caller can tell what is missing without parsing text. */
const GPU_CHECK_EXIT = { noGpu: 3, nvdec: 4, cudaProvider: 5, eventsDiffer: 6 } as const;

class GpuCheckFailure extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

const ffmpegQuiet = ['ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error'];

/**
 * `-hwaccel_output_format cuda` keeps decoded frames in GPU memory and `hwdownload` accepts only
 * such frames: when NVDEC cannot be used ffmpeg's software fallback hands it system-memory frames
 * and the run fails, instead of quietly measuring the CPU decoder. The download to NV12 is the
 * copy the analyzer would need anyway.
 */
const nvdecDecode = (clip: string): string[] => [
  ...ffmpegQuiet,
  '-hwaccel',
  'cuda',
  '-hwaccel_output_format',
  'cuda',
  '-i',
  clip,
  '-map',
  '0:v:0',
  '-vf',
  'hwdownload,format=nv12',
  '-f',
  'null',
  '-',
];

const cpuDecode = (clip: string): string[] => [...ffmpegQuiet, '-i', clip, '-map', '0:v:0', '-f', 'null', '-'];

/**
 * A tool's error output as one line: colour codes and ffmpeg's "[context @ 0x...]" prefixes
 * dropped, the lines joined, so the first cause (e.g. "Cannot load libcuda.so.1") stays in view.
 */
function reasonOf(text: string): string {
  const ESC = String.fromCharCode(27);
  const lines = text
    .replaceAll(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), '')
    .split('\n')
    .map((l) => l.replace(/^\[[^\]]+ @ 0x[0-9a-f]+\] /, '').trim())
    .filter((l) => l !== '');
  return lines.length > 0 ? lines.join('; ') : '(no output)';
}

function checkNvdec(dir: string): void {
  const probe = join(dir, 'nvdec-probe.mp4');
  const made = spawnSync(
    ffmpegQuiet[0] ?? 'ffmpeg',
    [
      ...ffmpegQuiet.slice(1),
      '-f',
      'lavfi',
      '-i',
      'testsrc2=s=640x360:r=30:d=1',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      '-y',
      probe,
    ],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`cannot make the NVDEC probe clip: ${reasonOf(made.stderr)}`);
  const [command, ...args] = nvdecDecode(probe);
  const decoded = spawnSync(command ?? 'ffmpeg', args, { encoding: 'utf8' });
  if (decoded.status !== 0) {
    throw new GpuCheckFailure(
      GPU_CHECK_EXIT.nvdec,
      `NVDEC decode failed: ffmpeg -hwaccel cuda could not decode an H.264 clip on the GPU (${reasonOf(decoded.stderr)})`,
    );
  }
}

/** onnxruntime-node's CUDA provider library, or null when its install script did not fetch it. */
function cudaProviderLibrary(): string | null {
  const bin = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin');
  for (const napi of readdirSync(bin)) {
    const library = join(bin, napi, 'linux', 'x64', 'libonnxruntime_providers_cuda.so');
    if (existsSync(library)) return library;
  }
  return null;
}

/** Opens the feature graph on CUDA alone and runs one batch: proof that the provider loads and runs. */
async function checkCudaProvider(): Promise<void> {
  const geometry = { width: 480, height: 270, darkThreshold: 32, blockPeriod: 4 };
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(buildFeatureGraph(geometry), {
      executionProviders: ['cuda'],
      logSeverityLevel: 3,
    });
  } catch (err) {
    const reason = reasonOf(err instanceof Error ? err.message : String(err));
    const library = cudaProviderLibrary();
    throw new GpuCheckFailure(
      GPU_CHECK_EXIT.cudaProvider,
      library === null
        ? 'CUDA execution provider not loadable: onnxruntime-node has no libonnxruntime_providers_cuda.so ' +
            '(its install script fetches it from NuGet, package Microsoft.ML.OnnxRuntime.Gpu.Linux; no npm ' +
            `package carries a matching build) (${reason})`
        : `CUDA execution provider not loadable: ${library} is there but does not load; it needs the CUDA 12 ` +
            `runtime and cuDNN 9 on the library path (${reason})`,
    );
  }
  const plane = [1, 1, geometry.height, geometry.width];
  const frames = new ort.Tensor('uint8', new Uint8Array(8 * geometry.width * geometry.height), [8, ...plane.slice(1)]);
  const previous = new ort.Tensor('uint8', new Uint8Array(geometry.width * geometry.height), plane);
  try {
    await session.run({ [FEATURE_GRAPH_INPUTS.frames]: frames, [FEATURE_GRAPH_INPUTS.previous]: previous });
  } catch (err) {
    throw new GpuCheckFailure(
      GPU_CHECK_EXIT.cudaProvider,
      `CUDA execution provider loaded but the feature graph failed on it: ${reasonOf(String(err))}`,
    );
  } finally {
    await session.release();
  }
}

// ---------------------------------------------------------------------------------------------
// one path on one clip

type PathName = 'decode-cpu' | 'decode-nvdec' | 'analyzer-cpu' | 'analyzer-onnx-cpu' | 'analyzer-onnx-cuda';

/** The analyzer's config for each analyzer path (an empty document is all defaults). */
const ANALYZER_CONFIG: Partial<Record<PathName, string>> = {
  'analyzer-cpu': '',
  'analyzer-onnx-cpu': 'analysis:\n  onnx: true\n',
  'analyzer-onnx-cuda': 'analysis:\n  gpu: true\n',
};

interface GpuSample {
  gpuPercent: number;
  decoderPercent: number;
  memoryMiB: number;
}

/** Samples the GPU with nvidia-smi while `work` runs. */
async function withGpuSamples<T>(work: () => Promise<T>): Promise<{ result: T; samples: GpuSample[] }> {
  const sampler = spawn(
    'nvidia-smi',
    [
      '--query-gpu=utilization.gpu,utilization.decoder,memory.used',
      '--format=csv,noheader,nounits',
      '--id=0',
      '-lms',
      '200',
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let text = '';
  sampler.stdout.on('data', (b: Buffer) => (text += b.toString('utf8')));
  sampler.on('error', () => undefined);
  try {
    return { result: await work(), samples: parseGpuSamples(text) };
  } finally {
    sampler.kill('SIGTERM');
  }
}

function parseGpuSamples(text: string): GpuSample[] {
  const samples: GpuSample[] = [];
  for (const line of text.split('\n')) {
    const [gpu, decoder, memory] = line.split(',').map((v) => Number(v.trim()));
    if (gpu !== undefined && decoder !== undefined && memory !== undefined && [gpu, decoder, memory].every(isFinite)) {
      samples.push({ gpuPercent: gpu, decoderPercent: decoder, memoryMiB: memory });
    }
  }
  return samples;
}

interface PathFigures {
  path: PathName;
  wallSeconds: number;
  cpuSecondsPerMediaSecond: number;
  realtimeSpeed: number;
  /** Means and peak over nvidia-smi's samples; null when it gave none (a run shorter than 200 ms). */
  gpuPercentMean: number | null;
  decoderPercentMean: number | null;
  gpuMemoryPeakMiB: number | null;
}

interface ClipEvent {
  type: string;
  start: number;
  end: number | null;
}

function eventsOf(run: Measured): ClipEvent[] {
  return run.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const { type, start, end } = JSON.parse(l) as ClipEvent;
      return { type, start, end };
    });
}

function commandFor(path: PathName, clip: string, configDir: string): string[] {
  if (path === 'decode-cpu') return cpuDecode(clip);
  if (path === 'decode-nvdec') return nvdecDecode(clip);
  const config = join(configDir, `${path}.yaml`);
  writeFileSync(config, ANALYZER_CONFIG[path] ?? '');
  return [process.execPath, ...CLI_ARGV, 'analyze', clip, '--format', 'jsonl', '--config', config];
}

/** The analyzer's fallback warning out of its JSON log lines. */
function fallbackLine(stderr: string): string {
  return stderr.split('\n').find((l) => l.includes('CUDA execution provider unavailable')) ?? reasonOf(stderr);
}

async function runPath(
  path: PathName,
  clip: string,
  mediaSeconds: number,
  configDir: string,
): Promise<{ figures: PathFigures; run: Measured }> {
  // Warnings only on stderr, so the CUDA fallback warning cannot scroll out of the kept tail.
  const env = { ...process.env, STREAMQC_LOG_LEVEL: 'warn' };
  const { result: run, samples } = await withGpuSamples(() =>
    measure(commandFor(path, clip, configDir), { env, keepStdout: true }),
  );
  if (path === 'analyzer-onnx-cuda' && run.stderrTail.includes('CUDA execution provider unavailable')) {
    throw new GpuCheckFailure(
      GPU_CHECK_EXIT.cudaProvider,
      `the analyzer fell back from CUDA to CPU: ${fallbackLine(run.stderrTail)}`,
    );
  }
  const some = samples.length > 0;
  return {
    run,
    figures: {
      path,
      wallSeconds: run.wall,
      cpuSecondsPerMediaSecond: run.cpu / mediaSeconds,
      realtimeSpeed: mediaSeconds / run.wall,
      gpuPercentMean: some ? mean(samples.map((s) => s.gpuPercent)) : null,
      decoderPercentMean: some ? mean(samples.map((s) => s.decoderPercent)) : null,
      gpuMemoryPeakMiB: some ? Math.max(...samples.map((s) => s.memoryMiB)) : null,
    },
  };
}

const PATHS: readonly PathName[] = [
  'decode-cpu',
  'decode-nvdec',
  'analyzer-cpu',
  'analyzer-onnx-cpu',
  'analyzer-onnx-cuda',
];

const DECODE_PATHS: readonly PathName[] = ['decode-cpu', 'decode-nvdec'];

interface ClipFigures {
  clip: string;
  width: number;
  height: number;
  mediaSeconds: number;
  paths: PathFigures[];
  /** The analyzer's events, the same on every analyzer path; null when only decoding ran. */
  events: ClipEvent[] | null;
}

async function checkClip(height: number, configDir: string, paths: readonly PathName[]): Promise<ClipFigures> {
  const width = Math.round((height * 16) / 9);
  const { path: clip } = await cachedClip(`clip-${height}p${FPS}`, costClipRecipe(width, height));
  const facts = probeClip(clip);
  const figures: PathFigures[] = [];
  const events = new Map<PathName, ClipEvent[]>();
  for (const path of paths) {
    const { figures: one, run } = await runPath(path, clip, facts.duration, configDir);
    figures.push(one);
    if (path.startsWith('analyzer-')) events.set(path, eventsOf(run));
  }
  const reference = JSON.stringify(events.get('analyzer-cpu'));
  for (const [path, found] of events) {
    if (JSON.stringify(found) !== reference) {
      throw new GpuCheckFailure(
        GPU_CHECK_EXIT.eventsDiffer,
        `${height}p: ${path} reported other events than the CPU kernel:\n  cpu:  ${reference}\n  ${path}: ${JSON.stringify(found)}`,
      );
    }
  }
  return {
    clip,
    width: facts.width,
    height: facts.height,
    mediaSeconds: facts.duration,
    paths: figures,
    events: events.get('analyzer-cpu') ?? null,
  };
}

const fixed = (v: number | null, digits: number): string => (v === null ? 'n/a' : v.toFixed(digits));

function printClip(c: ClipFigures): void {
  const events = c.events === null ? 'decoding only' : `${c.events.length} events, the same on every analyzer path`;
  console.log(`\n== ${c.width}x${c.height} ${FPS} fps, ${c.mediaSeconds.toFixed(1)} s: ${events} ==`);
  console.log('path                 wall s  CPU s/media s  x realtime  GPU %  NVDEC %  GPU MiB');
  for (const p of c.paths) {
    console.log(
      [
        p.path.padEnd(19),
        p.wallSeconds.toFixed(2).padStart(7),
        p.cpuSecondsPerMediaSecond.toFixed(3).padStart(14),
        p.realtimeSpeed.toFixed(1).padStart(11),
        fixed(p.gpuPercentMean, 0).padStart(6),
        fixed(p.decoderPercentMean, 0).padStart(8),
        fixed(p.gpuMemoryPeakMiB, 0).padStart(8),
      ].join(' '),
    );
  }
}

function gpuName(): string {
  const r = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader', '--id=0'], {
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout.trim() : 'unknown (nvidia-smi failed)';
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '720,1080' },
      json: { type: 'string' },
      // NVDEC against CPU decoding alone, for a GPU machine without the CUDA execution provider.
      'decode-only': { type: 'boolean', default: false },
    },
  });
  const sizes = values.sizes.split(',').map(Number);
  if (sizes.some((h) => !Number.isInteger(h) || h < 144 || h > 2160)) {
    throw new Error(`--sizes: "${values.sizes}" is not a list of picture heights between 144 and 2160`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'streamqc-gpu-check-'));
  try {
    const decodeOnly = values['decode-only'];
    // The CUDA provider first: it is the part least likely to be at hand (see scripts/gpu-check.sh).
    if (!decodeOnly) await checkCudaProvider();
    checkNvdec(dir);
    console.log(
      `GPU: ${gpuName()}; NVDEC decodes${decodeOnly ? '' : '; the CUDA execution provider runs the feature graph'}`,
    );
    console.log(
      'CPU s/media s = user+sys of the process tree per second of media (GNU time); GPU columns = nvidia-smi samples every 200 ms',
    );
    const clips: ClipFigures[] = [];
    for (const height of sizes) {
      const c = await checkClip(height, dir, decodeOnly ? DECODE_PATHS : PATHS);
      printClip(c);
      clips.push(c);
    }
    if (values.json) {
      writeFileSync(
        values.json,
        `${JSON.stringify({ gpu: gpuName(), measuredAt: new Date().toISOString(), clips }, null, 2)}\n`,
      );
      console.log(`figures written to ${values.json}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (err) {
  if (err instanceof GpuCheckFailure) {
    console.error(`gpu-check: ${err.message}`);
    process.exit(err.exitCode);
  }
  throw err;
}
