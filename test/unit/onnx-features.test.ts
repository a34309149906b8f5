/**
 * The ONNX feature graph against the CPU kernel on real decoded frames: ffmpeg renders and
 * encodes short lavfi clips (sharp, fractal, dark, blurred, heavily quantized), decodes
 * them decimated to the analysis plane as the analyzer does, and both backends must report
 * the same features for every frame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuFeatureExtractor } from '../../analyzer/features/cpu.js';
import { OnnxFeatureExtractor } from '../../analyzer/features/onnx.js';
import type { FeatureGeometry, LumaFrame, VideoFeatures } from '../../analyzer/features/types.js';

const FRAMES = 10;
const DARK_THRESHOLD = 32;

function run(args: readonly string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-v', 'error', '-nostdin', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(Buffer.concat(out))
        : reject(new Error(`ffmpeg ${args.join(' ')}: ${Buffer.concat(err).toString()}`)),
    );
  });
}

/** Decodes a file to luma planes decimated by nearest neighbour, the analyzer's own decimation. */
async function decodeLuma(path: string, width: number, height: number): Promise<LumaFrame[]> {
  const raw = await run([
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
  for (let off = 0; off + size <= raw.length; off += size) {
    frames.push({ width, height, data: new Uint8Array(raw.subarray(off, off + size)) });
  }
  return frames;
}

interface Clip {
  name: string;
  source: (size: string) => string;
  codec: readonly string[];
}

const clips: Clip[] = [
  { name: 'testsrc2', source: (s) => `testsrc2=size=${s}:rate=25`, codec: ['-c:v', 'libx264', '-crf', '18'] },
  {
    name: 'mandelbrot',
    source: (s) => `mandelbrot=size=${s}:rate=25:maxiter=256`,
    codec: ['-c:v', 'libx264', '-crf', '18'],
  },
  {
    name: 'dark',
    source: (s) => `testsrc2=size=${s}:rate=25,lutyuv=y=val/10`,
    codec: ['-c:v', 'libx264', '-crf', '18'],
  },
  {
    name: 'blurred',
    source: (s) => `testsrc2=size=${s}:rate=25,gblur=sigma=8`,
    codec: ['-c:v', 'libx264', '-crf', '18'],
  },
  {
    name: 'blocky-mpeg2',
    source: (s) => `mandelbrot=size=${s}:rate=25:maxiter=256`,
    codec: ['-c:v', 'mpeg2video', '-q:v', '31', '-qmin', '31'],
  },
  { name: 'blocky-h264', source: (s) => `testsrc2=size=${s}:rate=25`, codec: ['-c:v', 'libx264', '-qp', '51'] },
  {
    // Bars on all four sides, on the coding grid at the sides and off it at the top and bottom.
    name: 'boxed',
    source: (s) => `testsrc2=size=${s}:rate=25,scale=iw*3/4:ih*3/4,pad=iw*4/3:ih*4/3:(ow-iw)/2:(oh-ih)/2`,
    codec: ['-c:v', 'libx264', '-crf', '30'],
  },
];

/** Source size, analysis plane (1/4 or 1/2 of it) and where the 8x8 grid lands after decimation. */
const layouts = [
  { source: '1280x720', geometry: { width: 320, height: 180, darkThreshold: DARK_THRESHOLD, blockPeriod: 2 } },
  { source: '1920x1080', geometry: { width: 480, height: 270, darkThreshold: DARK_THRESHOLD, blockPeriod: 2 } },
  { source: '1280x720', geometry: { width: 640, height: 360, darkThreshold: DARK_THRESHOLD, blockPeriod: 4 } },
] as const satisfies readonly { source: string; geometry: FeatureGeometry }[];

const FIELDS = ['meanLuma', 'darkRatio', 'diff', 'detail', 'blockiness', 'gradient'] as const;
/** Relative to max(1, |cpu|): the graph is exact by construction, so only rounding noise is allowed. */
const TOLERANCE = 1e-9;

const quietLog = { warn: (): void => undefined };

async function cpuFeatures(geometry: FeatureGeometry, frames: readonly LumaFrame[]): Promise<VideoFeatures[]> {
  return new CpuFeatureExtractor(geometry).extract(frames);
}

function assertAgree(onnx: readonly VideoFeatures[], cpu: readonly VideoFeatures[], label: string): number {
  assert.equal(onnx.length, cpu.length, `${label}: frame count`);
  let worst = 0;
  for (let i = 0; i < cpu.length; i++) {
    for (const field of FIELDS) {
      const a = onnx[i]![field] ?? Number.NaN;
      const b = cpu[i]![field] ?? Number.NaN;
      if (Number.isNaN(b)) {
        assert.ok(Number.isNaN(a), `${label} frame ${i} ${field}: onnx ${a}, cpu NaN`);
        continue;
      }
      const err = Math.abs(a - b) / Math.max(1, Math.abs(b));
      worst = Math.max(worst, err);
      assert.ok(err <= TOLERANCE, `${label} frame ${i} ${field}: onnx ${a}, cpu ${b}`);
    }
  }
  return worst;
}

const dir = await mkdtemp(join(tmpdir(), 'streamqc-onnx-'));
/** Decoded planes per layout and clip, rendered once for all tests. */
const decoded = new Map<string, LumaFrame[]>();
const key = (source: string, geometry: FeatureGeometry, clip: string): string =>
  `${source}/${geometry.width}x${geometry.height}/${clip}`;

test.before(async () => {
  const sources = [...new Set(layouts.map((l) => l.source))];
  await Promise.all(
    sources.flatMap((source) =>
      clips.map(async (clip) => {
        const file = join(dir, `${clip.name}-${source}.mkv`);
        await run([
          '-f',
          'lavfi',
          '-i',
          clip.source(source),
          '-frames:v',
          String(FRAMES),
          '-pix_fmt',
          'yuv420p',
          ...clip.codec,
          '-y',
          file,
        ]);
        for (const layout of layouts.filter((l) => l.source === source)) {
          const { width, height } = layout.geometry;
          decoded.set(key(source, layout.geometry, clip.name), await decodeLuma(file, width, height));
        }
      }),
    ),
  );
});

test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

for (const { source, geometry } of layouts) {
  for (const batchSize of [1, 8]) {
    const name = `ONNX and CPU features agree on every frame of real clips (${source} -> ${geometry.width}x${geometry.height}, block period ${geometry.blockPeriod}, batch ${batchSize})`;
    test(name, async (t) => {
      const onnx = await OnnxFeatureExtractor.create(geometry, {
        executionProvider: 'cpu',
        threads: 2,
        batchSize,
        log: quietLog,
      });
      try {
        for (const clip of clips) {
          const frames = decoded.get(key(source, geometry, clip.name));
          assert.ok(frames?.length === FRAMES, `${clip.name}: ${frames?.length} frames decoded`);
          const expected = await cpuFeatures(geometry, frames);
          // Two calls, so the frame before a call's first frame must be carried over.
          onnx.reset();
          const got = [...(await onnx.extract(frames.slice(0, 3))), ...(await onnx.extract(frames.slice(3)))];
          const worst = assertAgree(got, expected, clip.name);
          assert.ok(Number.isNaN(got[0]!.diff), `${clip.name}: the first frame has no difference`);
          t.diagnostic(`${clip.name}: worst relative difference ${worst.toExponential(2)}`);
        }
      } finally {
        await onnx.close();
      }
    });
  }
}

test('the clips cover the regimes the detectors care about (dark, blurred, blocky)', async () => {
  const { source, geometry } = layouts[0];
  const mean = async (clip: string, field: (typeof FIELDS)[number]): Promise<number> => {
    const features = await cpuFeatures(geometry, decoded.get(key(source, geometry, clip)) ?? []);
    return features.reduce((a, f) => a + (f[field] ?? Number.NaN), 0) / features.length;
  };
  assert.ok((await mean('dark', 'darkRatio')) > 0.9);
  assert.ok((await mean('testsrc2', 'darkRatio')) < 0.5);
  assert.ok((await mean('blurred', 'detail')) < (await mean('testsrc2', 'detail')) / 2);
  // Blur softens edges: detail falls further than the gradient (sharpness, blur.ts).
  const sharpness = async (clip: string): Promise<number> =>
    (await mean(clip, 'detail')) / (await mean(clip, 'gradient'));
  assert.ok((await sharpness('blurred')) < 0.9 * (await sharpness('testsrc2')));
  assert.ok((await mean('blocky-mpeg2', 'blockiness')) > (await mean('mandelbrot', 'blockiness')));
});

test('a batch split across calls, awaited or overlapping, equals one call, and reset() starts a new segment', async () => {
  const { source, geometry } = layouts[2];
  const frames = decoded.get(key(source, geometry, 'testsrc2')) ?? [];
  const onnx = await OnnxFeatureExtractor.create(geometry, {
    executionProvider: 'cpu',
    threads: 1,
    batchSize: 4,
    log: quietLog,
  });
  try {
    const whole = await onnx.extract(frames);
    onnx.reset();
    const parts = [...(await onnx.extract(frames.slice(0, 5))), ...(await onnx.extract(frames.slice(5)))];
    assert.deepEqual(parts, whole);
    onnx.reset();
    const overlapping = await Promise.all([onnx.extract(frames.slice(0, 5)), onnx.extract(frames.slice(5))]);
    assert.deepEqual(overlapping.flat(), whole);
    onnx.reset();
    const again = await onnx.extract(frames.slice(5, 6));
    assert.ok(Number.isNaN(again[0]!.diff));
    assert.equal(again[0]!.meanLuma, whole[5]!.meanLuma);
  } finally {
    await onnx.close();
  }
});

test('tiny and odd geometries agree too, including a picture with no block grid inside (blockiness 1)', async () => {
  const geometries: FeatureGeometry[] = [
    { width: 3, height: 3, darkThreshold: 0, blockPeriod: 2 }, // no interior grid line
    { width: 5, height: 4, darkThreshold: 255, blockPeriod: 3 },
    { width: 17, height: 9, darkThreshold: 100, blockPeriod: 5 },
  ];
  let seed = 12345;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255;
  for (const geometry of geometries) {
    const frames: LumaFrame[] = Array.from({ length: 5 }, () => ({
      width: geometry.width,
      height: geometry.height,
      data: Uint8Array.from({ length: geometry.width * geometry.height }, random),
    }));
    const onnx = await OnnxFeatureExtractor.create(geometry, {
      executionProvider: 'cpu',
      threads: 1,
      batchSize: 2,
      log: quietLog,
    });
    try {
      const got = await onnx.extract(frames);
      assertAgree(got, await cpuFeatures(geometry, frames), `${geometry.width}x${geometry.height}`);
      if (geometry.width === 3) assert.ok(got.every((f) => f.blockiness === 1));
    } finally {
      await onnx.close();
    }
  }
});

test('a geometry the graph cannot represent is refused naming the field', async () => {
  const options = { executionProvider: 'cpu', threads: 1, batchSize: 1, log: quietLog } as const;
  await assert.rejects(
    OnnxFeatureExtractor.create({ width: 2, height: 8, darkThreshold: 32, blockPeriod: 2 }, options),
    {
      message: 'geometry.width: 2 is not an integer from 3 to 16384',
    },
  );
  await assert.rejects(
    OnnxFeatureExtractor.create({ width: 8, height: 8, darkThreshold: 32, blockPeriod: 1 }, options),
    {
      message: 'geometry.blockPeriod: 1 is not an integer >= 2',
    },
  );
});

test('a frame of another size is refused with its size and the expected one', async () => {
  const geometry = layouts[0].geometry;
  const onnx = await OnnxFeatureExtractor.create(geometry, {
    executionProvider: 'cpu',
    threads: 1,
    batchSize: 2,
    log: quietLog,
  });
  try {
    const wrong: LumaFrame = { width: 64, height: 36, data: new Uint8Array(64 * 36) };
    await assert.rejects(
      onnx.extract([wrong]),
      /frame 0: 64x36 \(2304 bytes\) does not match the feature geometry 320x180/,
    );
  } finally {
    await onnx.close();
  }
});

test('CUDA requested without a usable GPU runs on CPU, warns once and reports cpu', async () => {
  const warnings: string[] = [];
  const geometry = layouts[0].geometry;
  const onnx = await OnnxFeatureExtractor.create(geometry, {
    executionProvider: 'cuda',
    threads: 1,
    batchSize: 8,
    log: { warn: (message: string) => warnings.push(message) },
  });
  try {
    assert.equal(onnx.executionProvider, 'cpu');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /feature graph: CUDA execution provider unavailable, running on CPU/);
    const frames = decoded.get(key(layouts[0].source, geometry, 'testsrc2')) ?? [];
    assertAgree(await onnx.extract(frames), await cpuFeatures(geometry, frames), 'after fallback');
  } finally {
    await onnx.close();
  }
});
