/**
 * Baked corruption, made the way it happens upstream of a transcoder: a clean contribution
 * encode (H.264, HEVC or MPEG-2 in MPEG-TS) has packets damaged (ffmpeg's `noise` bitstream
 * filter), is decoded WITH error concealment, and the concealed pictures are re-encoded cleanly
 * (x264, x265 or mpeg2video at some bitrate), so the stream the analyzer gets decodes without a
 * single error. Labels come from the same frame decoded twice: concealed minus clean, per
 * CELL x CELL block of the analysis plane.
 *
 * Negatives are made by the same code with no damage: clean footage, generation loss (several
 * re-encodes in a row) and bitrate starvation (a very low bitrate encode).
 *
 * Every picture is seen as the analyzer sees it: scaled to the analysis size with the
 * nearest-neighbour scaler of analyzer/ingest/decode-session.ts, luma only.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CORRUPTION_CELL } from '../../../analyzer/features/corruption-graph.js';
import { analysisGeometry } from '../../../analyzer/features/stage.js';
import { runFfmpeg } from '../../media/fixtures.js';

export type Codec = 'h264' | 'hevc' | 'mpeg2';

export interface Encode {
  codec: Codec;
  /** ffmpeg bitrate, e.g. '800k'. */
  bitrate: string;
}

/** Where the pictures come from: a stretch of a real clip, or a lavfi graph ending in `[picture]`-less output. */
export type PictureOrigin =
  { kind: 'file'; file: string; start: number; label: string } | { kind: 'lavfi'; graph: string; label: string };

export interface BakedClipSpec {
  origin: PictureOrigin;
  /** The contribution feed's codec and what is done to its packets; null: an undamaged feed. */
  damage: { codec: Codec; amount: number; packets?: readonly [number, number] } | null;
  /** The clean re-encodes after the (concealed) decode, in order: one, or several for generation loss. */
  chain: readonly Encode[];
  /** An ffmpeg filter applied to the picture before the feed is encoded (e.g. a blur), if any. */
  filter?: string;
  /** Coded picture size (the analysis plane is a power-of-two decimation of it). */
  width: number;
  height: number;
  seconds: number;
}

export interface BakedClip<S extends BakedClipSpec = BakedClipSpec> {
  spec: S;
  /** Analysis plane size. */
  width: number;
  height: number;
  /** Luma of the delivered stream at analysis size, one plane per frame. */
  frames: Uint8Array[];
  /**
   * Per frame, per cell (row-major over floor(height / CELL) x floor(width / CELL)): mean
   * absolute difference between the concealed and the clean decode; all zero without damage.
   */
  damage: Float32Array[];
  /** Lines of decoder complaints while concealing (0 without damage): the feed really was hit. */
  decodeErrors: number;
  /** ffmpeg's blockdetect on the delivered stream at its coded size, one value per frame. */
  blockdetect: Float32Array;
}

const FPS = 25;
/** Contribution feeds: a GOP of 2 s, so concealment errors propagate up to 2 s, as in practice. */
const GOP = 2 * FPS;
const FEED_BITRATE = '1500k';

function encoderArgs({ codec, bitrate }: Encode): string[] {
  switch (codec) {
    case 'h264':
      return ['-c:v', 'libx264', '-preset', 'veryfast', '-b:v', bitrate, '-g', `${GOP}`];
    case 'hevc':
      return [
        '-c:v',
        'libx265',
        '-preset',
        'ultrafast',
        '-b:v',
        bitrate,
        '-g',
        `${GOP}`,
        '-x265-params',
        'log-level=0',
      ];
    case 'mpeg2':
      return ['-c:v', 'mpeg2video', '-b:v', bitrate, '-g', `${GOP}`];
  }
}

/** The noise bitstream filter: about one byte in `amount` overwritten, in every packet or only in packets first..last. */
function noiseFilter(damage: NonNullable<BakedClipSpec['damage']>): string {
  if (!damage.packets) return `noise=amount=${damage.amount}`;
  const [first, last] = damage.packets;
  return `noise=amount=if(between(n\\,${first}\\,${last})\\,${damage.amount}\\,0)`;
}

function originArgs(origin: PictureOrigin, seconds: number): string[] {
  if (origin.kind === 'lavfi') return ['-f', 'lavfi', '-t', `${seconds}`, '-i', origin.graph];
  return ['-ss', `${origin.start}`, '-t', `${seconds}`, '-i', origin.file];
}

/** Frames of a raw gray file, one plane each. */
function readPlanes(file: string, width: number, height: number): Uint8Array[] {
  const bytes = readFileSync(file);
  const size = width * height;
  const planes: Uint8Array[] = [];
  for (let at = 0; at + size <= bytes.length; at += size) planes.push(new Uint8Array(bytes.subarray(at, at + size)));
  return planes;
}

/** Mean |a - b| per CELL x CELL block. */
export function cellDamage(a: Uint8Array, b: Uint8Array, width: number, height: number): Float32Array {
  const cols = Math.floor(width / CORRUPTION_CELL);
  const rows = Math.floor(height / CORRUPTION_CELL);
  const out = new Float32Array(cols * rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let sum = 0;
      for (let y = 0; y < CORRUPTION_CELL; y++) {
        const row = (r * CORRUPTION_CELL + y) * width + c * CORRUPTION_CELL;
        for (let x = 0; x < CORRUPTION_CELL; x++) sum += Math.abs((a[row + x] ?? 0) - (b[row + x] ?? 0));
      }
      out[r * cols + c] = sum / (CORRUPTION_CELL * CORRUPTION_CELL);
    }
  }
  return out;
}

/**
 * Builds one clip in a temporary folder (removed afterwards); throws when ffmpeg fails.
 * `deliveredTo`: also keep the delivered stream (MPEG-TS) there, for the analyzer itself.
 */
export async function makeBakedClip<S extends BakedClipSpec>(spec: S, deliveredTo?: string): Promise<BakedClip<S>> {
  const dir = mkdtempSync(join(tmpdir(), 'streamqc-baked-'));
  try {
    const clip = await makeIn(dir, spec);
    if (deliveredTo !== undefined) copyFileSync(join(dir, `encode${spec.chain.length - 1}.ts`), deliveredTo);
    return clip;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function makeIn<S extends BakedClipSpec>(dir: string, spec: S): Promise<BakedClip<S>> {
  const { width: aw, height: ah } = analysisGeometry(spec.width, spec.height, 320, 32);
  const toAnalysis = ['-vf', `scale=${aw}:${ah}:flags=neighbor,format=gray`, '-f', 'rawvideo'];
  const ff = (what: string, args: string[]): Promise<unknown> =>
    runFfmpeg(['-v', 'error', '-y', ...args], {
      what: `baked corruption (${spec.origin.label}): ${what}`,
      timeoutMs: 600_000,
    });
  const picture = [`scale=${spec.width}:${spec.height}`, spec.filter, `fps=${FPS}`, 'format=yuv420p']
    .filter((f) => f !== undefined)
    .join(',');
  const feedCodec = spec.damage?.codec ?? spec.chain[0]?.codec ?? 'h264';
  const feed = join(dir, 'feed.ts');
  await ff('contribution encode', [
    ...originArgs(spec.origin, spec.seconds),
    '-an',
    '-vf',
    picture,
    ...encoderArgs({ codec: feedCodec, bitrate: FEED_BITRATE }),
    '-f',
    'mpegts',
    feed,
  ]);
  let decodeErrors = 0;
  let current = feed;
  let cleanPlanes: Uint8Array[] | null = null;
  let concealedPlanes: Uint8Array[] | null = null;
  if (spec.damage) {
    const damaged = join(dir, 'damaged.ts');
    await ff('damaging packets', [
      '-i',
      feed,
      '-c',
      'copy',
      '-bsf:v',
      noiseFilter(spec.damage),
      '-f',
      'mpegts',
      damaged,
    ]);
    await ff('clean decode', ['-i', feed, ...toAnalysis, join(dir, 'clean.gray')]);
    // Constant frame rate: a picture the decoder could not output repeats the one before, as a
    // transcoder's output would, so frame i of both decodes is the same instant.
    const concealed = await runFfmpeg(
      [
        '-v',
        'error',
        '-y',
        '-i',
        damaged,
        '-fps_mode',
        'cfr',
        '-r',
        `${FPS}`,
        '-frames:v',
        `${Math.round(spec.seconds * FPS)}`,
        ...toAnalysis,
        join(dir, 'conc.gray'),
      ],
      { timeoutMs: 600_000 },
    );
    decodeErrors = concealed.stderr.split('\n').filter((l) => l.trim() !== '').length;
    cleanPlanes = readPlanes(join(dir, 'clean.gray'), aw, ah);
    concealedPlanes = readPlanes(join(dir, 'conc.gray'), aw, ah);
    current = damaged;
  }
  // Each re-encode decodes the previous stream (concealing any damage) and encodes it cleanly.
  for (const [i, encode] of spec.chain.entries()) {
    const out = join(dir, `encode${i}.ts`);
    await ff(`re-encode ${i + 1}`, [
      '-i',
      current,
      '-fps_mode',
      'cfr',
      '-r',
      `${FPS}`,
      '-pix_fmt',
      'yuv420p',
      // A damaged timestamp must not make the constant-rate output fill a long gap with copies.
      '-frames:v',
      `${Math.round(spec.seconds * FPS)}`,
      ...encoderArgs(encode),
      '-f',
      'mpegts',
      out,
    ]);
    current = out;
  }
  // The analyzer's view and ffmpeg's blockdetect (as a user would run it, at the coded size) in one decode.
  const blockPrint = join(dir, 'block.txt');
  await ff('delivered decode', [
    '-i',
    current,
    '-filter_complex',
    `[0:v]split[a][b];[a]scale=${aw}:${ah}:flags=neighbor,format=gray[gray];[b]blockdetect,metadata=mode=print:file=${blockPrint}[block]`,
    '-map',
    '[gray]',
    '-f',
    'rawvideo',
    join(dir, 'delivered.gray'),
    '-map',
    '[block]',
    '-f',
    'null',
    '-',
  ]);
  const blockValues = [...readFileSync(blockPrint, 'utf8').matchAll(/lavfi\.block=([0-9.eE+-]+)/g)].map((m) =>
    Number(m[1]),
  );
  let frames = readPlanes(join(dir, 'delivered.gray'), aw, ah);
  const cells = Math.floor(aw / CORRUPTION_CELL) * Math.floor(ah / CORRUPTION_CELL);
  let damage: Float32Array[] = frames.map(() => new Float32Array(cells));
  if (cleanPlanes && concealedPlanes) {
    const n = Math.min(frames.length, cleanPlanes.length, concealedPlanes.length);
    frames = frames.slice(0, n);
    damage = [];
    for (let i = 0; i < n; i++) {
      damage.push(cellDamage(concealedPlanes[i] ?? new Uint8Array(0), cleanPlanes[i] ?? new Uint8Array(0), aw, ah));
    }
  }
  const blockdetect = Float32Array.from(frames.map((_, i) => blockValues[i] ?? Number.NaN));
  return { spec, width: aw, height: ah, frames, damage, decodeErrors, blockdetect };
}
