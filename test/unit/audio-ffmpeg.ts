/**
 * Test helper: ffmpeg as the reference. Generates audio with ffmpeg's own lavfi sources, decodes
 * it to interleaved f32, and measures the very same samples with ffmpeg's `ebur128` filter.
 * Only a local ffmpeg is spawned; nothing is downloaded.
 */
import { runCommand } from '../media/fixtures.js';

/** Runs ffmpeg with `args`, optionally writing `stdin`; rejects on failure. */
function runFfmpeg(args: string[], stdin?: Uint8Array): Promise<{ stdout: Buffer; stderr: string }> {
  return runCommand('ffmpeg', ['-hide_banner', '-nostdin', '-nostats', ...args], {
    input: stdin,
    what: `ffmpeg ${args.join(' ')}`,
  });
}

export interface PcmFormat {
  sampleRate: number;
  channels: number;
  /** ffmpeg channel layout name, e.g. "stereo" or "5.1". */
  layout: string;
}

/**
 * Renders an ffmpeg filtergraph with no inputs (lavfi sources, its single output unlabelled or
 * labelled) to interleaved f32 in the given format.
 */
export async function renderLavfi(graph: string, format: PcmFormat): Promise<Float32Array> {
  const { stdout } = await runFfmpeg([
    '-filter_complex',
    graph,
    '-ar',
    String(format.sampleRate),
    '-ch_layout',
    format.layout,
    '-f',
    'f32le',
    'pipe:1',
  ]);
  // Copy into a fresh, aligned buffer: a Float32Array view needs 4-byte alignment.
  const bytes = new Uint8Array(stdout.byteLength);
  bytes.set(stdout);
  return new Float32Array(bytes.buffer);
}

/** One line of ebur128's frame log: the readings at timeline `t`, every 100 ms. */
export interface Ebur128Reading {
  t: number;
  momentaryLufs: number;
  shortTermLufs: number;
  integratedLufs: number;
  loudnessRangeLu: number;
}

export interface Ebur128Report {
  readings: Ebur128Reading[];
  integratedLufs: number;
  loudnessRangeLu: number;
  /** The summary's true peak (max over channels); ffmpeg labels it dBFS. */
  truePeakDbtp: number;
}

function parseLevel(text: string): number {
  if (/^-inf/i.test(text)) return -Infinity;
  if (/^inf/i.test(text)) return Infinity;
  return Number.parseFloat(text);
}

const FRAME_LINE =
  /t:\s*([0-9.]+)\s+TARGET:\S+\s+LUFS\s+M:\s*(\S+)\s+S:\s*(\S+)\s+I:\s*(\S+)\s+LUFS\s+LRA:\s*(\S+)\s+LU/;

/** Measures interleaved f32 samples with `ebur128=peak=true:framelog=verbose`. */
export async function ffmpegEbur128(pcm: Float32Array, format: PcmFormat): Promise<Ebur128Report> {
  const { stderr } = await runFfmpeg(
    [
      '-v',
      'verbose',
      '-f',
      'f32le',
      '-ar',
      String(format.sampleRate),
      '-ch_layout',
      format.layout,
      '-i',
      'pipe:0',
      '-af',
      'ebur128=peak=true:framelog=verbose',
      '-f',
      'null',
      '-',
    ],
    new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength),
  );
  const readings: Ebur128Reading[] = [];
  for (const line of stderr.split('\n')) {
    const m = FRAME_LINE.exec(line);
    if (!m) continue;
    readings.push({
      t: Number.parseFloat(m[1]!),
      momentaryLufs: parseLevel(m[2]!),
      shortTermLufs: parseLevel(m[3]!),
      integratedLufs: parseLevel(m[4]!),
      loudnessRangeLu: parseLevel(m[5]!),
    });
  }
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  const field = (re: RegExp): number => {
    const m = re.exec(summary);
    if (!m) throw new Error(`ebur128 summary lacks ${re}:\n${summary}`);
    return parseLevel(m[1]!);
  };
  return {
    readings,
    integratedLufs: field(/I:\s+(\S+) LUFS/),
    loudnessRangeLu: field(/LRA:\s+(\S+) LU/),
    truePeakDbtp: field(/Peak:\s+(\S+) dBFS/),
  };
}

/**
 * ffmpeg prints an empty window as M/S -120.7 (its 1e-12 energy floor) and an empty integrated
 * value as -70; our meter says -Infinity. Treat both as "no reading" before comparing.
 */
export function loudnessDifference(ours: number, ffmpeg: number): number {
  if (ours === -Infinity) return ffmpeg <= -70 ? 0 : Infinity;
  return Math.abs(ours - ffmpeg);
}
