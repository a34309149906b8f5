/**
 * The accuracy benchmark's corpus: clips made by ffmpeg's own generators with defects
 * injected on a known schedule, each with its ground truth (a CorpusClip) beside it.
 *
 * A recipe says what to inject in seconds; the builder turns seconds into frame numbers
 * (and audio into 160-sample blocks, which divide every frame duration used here), so the
 * truth is exact to the frame: `start` is the first defective frame, `end` the first good one.
 *
 * Run directly: `node dist/test/bench/accuracy/corpus.js [--only name,...]`.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../../media/fixtures.js';
import { shiftAudioTimestamps } from '../../media/ts-pts.js';
import { pictureGraph, soundGraph, SAMPLE_RATE, type PictureSource, type SoundSource } from './corpus-sources.js';
import type { CorpusClip, DefectEvent, DefectType, Outage, RealFootageInfo } from './types.js';

/**
 * What can be injected. Most map one to one onto a truth type; `corrupt` is damaged video
 * packets (truth: blockiness and decode_error), `quiet`/`loud` are gain steps (truth:
 * loudness), `hush` is a near miss with no truth: a -45 dBFS passage too short to be a
 * loudness fault and far above silence.
 */
/*
 * A new kind: add it here and to TRUTH_OF (what truth it writes), then apply it where it acts:
 * a picture filter (videoGraph), a sound filter (audioGraph), a bitstream filter on the coded
 * packets (corruptArgs), or a step on the finished file (as applyAvOffset is in buildClip).
 * Real footage (real-corpus.ts) goes through the same builder, so a new kind works on both.
 */
export type InjectionType =
  'black' | 'freeze' | 'blur' | 'corrupt' | 'silence' | 'quiet' | 'loud' | 'clipping' | 'hush';

export interface Injection {
  type: InjectionType;
  /** Seconds from the first frame; rounded to frames. */
  start: number;
  end: number;
}

/** Audio timestamps shifted by `seconds` (positive: audio late) from `start` to `end`. */
export interface AvOffset {
  start: number;
  /** Seconds; the clip's duration for "to the end". */
  end: number;
  seconds: number;
}

/** The picture changes size at `at`: the clip is two encodes joined with continuous timestamps. */
export interface ResolutionChange {
  at: number;
  width: number;
  height: number;
}

export type VideoCodec = 'h264' | 'hevc' | 'mpeg2video';

/**
 * A picture or a sound read from files instead of made by a generator: a filter-graph fragment
 * that reads the recipe's `inputs` by index (`[0:v]`, `[1:a]`) and ends in `[picture]` or
 * `[sound]` like the generators' graphs (corpus-sources.ts), long enough for the clip.
 */
export interface GraphSource {
  graph: string;
}

export interface CorpusRecipe {
  name: string;
  content: string;
  picture: PictureSource | GraphSource;
  sound: SoundSource | GraphSource;
  /** ffmpeg input arguments (`-i FILE`, with their options) that GraphSource pictures and sounds read. */
  inputs?: string[];
  /** Real footage only: its split and where it came from (real-corpus.ts). */
  real?: RealFootageInfo;
  /** Code the picture as interlaced (H.264 only): for pictures woven from fields. */
  interlaced?: boolean;
  /**
   * Corrupt windows damage about one byte in this many of each packet (default 2000). Sparse
   * pictures coded in a few hundred bytes a frame need more to be damaged at all.
   */
  corruptionRate?: number;
  width: number;
  height: number;
  fps: number;
  /** Whole seconds. */
  duration: number;
  codec: VideoCodec;
  container: CorpusClip['container'];
  mode: CorpusClip['mode'];
  /** Seconds between keyframes (fixed: scene-cut keyframes are off, so damage ends where truth says). */
  gopSeconds: number;
  injections: Injection[];
  avOffset?: AvOffset;
  resolutionChange?: ResolutionChange;
  outages: Outage[];
}

const SAMPLES_PER_BLOCK = 160; // divides 48000/25, 48000/30 and 48000/50: frame times fall on block edges

const CORPUS_VERSION = 'corpus-v1';

export function corpusCacheDir(): string {
  const root = process.env.STREAMQC_MEDIA_CACHE ?? join(homedir(), '.cache', 'streamqc');
  return join(root, CORPUS_VERSION);
}

type Base = Pick<CorpusRecipe, 'name' | 'content' | 'picture' | 'sound' | 'width' | 'height' | 'duration'> &
  Partial<CorpusRecipe>;

function recipe(r: Base): CorpusRecipe {
  return {
    fps: 25,
    codec: 'h264',
    container: 'mpegts',
    mode: 'file',
    gopSeconds: 1,
    injections: [],
    outages: [],
    ...r,
  };
}

const R720 = { width: 1280, height: 720 };
const R1080 = { width: 1920, height: 1080 };
const R540 = { width: 960, height: 540 };
const R480 = { width: 854, height: 480 };

function inj(type: InjectionType, start: number, end: number): Injection {
  return { type, start, end };
}

/** Every clip of the corpus: a pure description, no I/O. */
export function corpusRecipes(): CorpusRecipe[] {
  return [
    recipe({
      name: 'testsrc2-720p-h264-ts-black-freeze-silence',
      content: 'testsrc2, 440 Hz tone',
      picture: 'testsrc2',
      sound: 'tone',
      ...R720,
      duration: 32,
      injections: [inj('black', 6, 9), inj('freeze', 14, 17), inj('silence', 22, 25)],
    }),
    recipe({
      name: 'mandel-540p-h264-mp4-blur-clipping-black',
      content: 'mandelbrot zoom, chords over pink noise',
      picture: 'mandelbrot',
      sound: 'music',
      ...R540,
      duration: 33,
      container: 'mp4',
      injections: [inj('blur', 8, 11.6), inj('clipping', 18, 19), inj('black', 25, 28)],
    }),
    recipe({
      name: 'cellauto-720p-h264-ts-corrupt-freeze-silence',
      content: 'cellular automaton (rule 110), pink noise',
      picture: 'cellauto',
      sound: 'pink',
      ...R720,
      duration: 32,
      injections: [inj('corrupt', 8, 9), inj('freeze', 15, 18), inj('silence', 24, 27)],
    }),
    recipe({
      name: 'bars-1080p-h264-ts-clean',
      content: 'SMPTE HD bars with a moving inset, tone (clean)',
      picture: 'bars',
      sound: 'tone',
      ...R1080,
      duration: 30,
    }),
    recipe({
      name: 'gradients-1080p-h264-hls-black-silence-freeze',
      content: 'soft moving gradients, speech-like noise with pauses',
      picture: 'gradients',
      sound: 'speech',
      ...R1080,
      duration: 34,
      container: 'hls',
      injections: [inj('black', 7, 10), inj('silence', 16, 19), inj('freeze', 25, 28)],
    }),
    recipe({
      name: 'testsrc2-1080p-h264-mp4-quiet-clipping-blur',
      content: 'testsrc2, chords over pink noise',
      picture: 'testsrc2',
      sound: 'music',
      ...R1080,
      duration: 36,
      container: 'mp4',
      injections: [inj('quiet', 6, 19), inj('clipping', 25, 26), inj('blur', 31, 34)],
    }),
    recipe({
      name: 'dark-720p-h264-ts-freeze-black',
      content: 'dim testsrc2 (dark, not black), speech-like noise',
      picture: 'dark',
      sound: 'speech',
      ...R720,
      duration: 30,
      injections: [inj('freeze', 10, 13), inj('black', 20, 23)],
    }),
    recipe({
      name: 'darkgrain-540p-mpeg2-ts-clean-hush',
      content: 'dark grainy night scene, tone with a -45 dBFS passage (clean)',
      picture: 'dark-grain',
      sound: 'tone',
      ...R540,
      duration: 30,
      codec: 'mpeg2video',
      injections: [inj('hush', 12, 17)],
    }),
    recipe({
      name: 'rotbars-720p-h264-mp4-silence-blur',
      content: 'bars turning 1 degree/s (slow, not frozen), chords',
      picture: 'rotating-bars',
      sound: 'music',
      ...R720,
      duration: 30,
      container: 'mp4',
      injections: [inj('silence', 12, 15), inj('blur', 22, 25)],
    }),
    recipe({
      name: 'mandel-540p-hevc-mp4-clean',
      content: 'slow mandelbrot zoom, speech-like noise with pauses (clean)',
      picture: 'mandelbrot',
      sound: 'speech',
      ...R540,
      duration: 30,
      codec: 'hevc',
      container: 'mp4',
    }),
    recipe({
      name: 'testsrc2-540p-hevc-ts-corrupt-black-loud',
      content: 'testsrc2, tone',
      picture: 'testsrc2',
      sound: 'tone',
      ...R540,
      duration: 36,
      codec: 'hevc',
      injections: [inj('corrupt', 6, 7), inj('black', 12, 15), inj('loud', 20, 32)],
    }),
    recipe({
      name: 'cellauto-540p-mpeg2-ts-corrupt-freeze-silence-clipping',
      content: 'cellular automaton, chords',
      picture: 'cellauto',
      sound: 'music',
      ...R540,
      duration: 34,
      codec: 'mpeg2video',
      injections: [inj('corrupt', 7, 8), inj('freeze', 13, 16), inj('silence', 21, 24), inj('clipping', 29, 30)],
    }),
    recipe({
      name: 'bars-720p-h264-ts-avsync-black',
      content: 'bars with a moving inset, tone',
      picture: 'bars',
      sound: 'tone',
      ...R720,
      duration: 32,
      avOffset: { start: 8, end: 19.84, seconds: 0.5 },
      injections: [inj('black', 25, 28)],
    }),
    recipe({
      name: 'testsrc2-540p-h264-ts-loud-avsync',
      content: 'testsrc2 at 30 fps, chords',
      picture: 'testsrc2',
      sound: 'music',
      ...R540,
      fps: 30,
      duration: 36,
      injections: [inj('loud', 5, 17)],
      avOffset: { start: 22.4, end: 36, seconds: 0.4 },
    }),
    recipe({
      name: 'grain-720p-h264-ts-avsync-blur',
      content: 'slow zoom under heavy grain, pink noise',
      picture: 'grain',
      sound: 'pink',
      ...R720,
      duration: 32,
      avOffset: { start: 8, end: 17.92, seconds: -0.5 },
      injections: [inj('blur', 24, 27)],
    }),
    recipe({
      name: 'bars-540p-mpeg2-ts-avsync-clipping',
      content: 'bars with a moving inset, chords',
      picture: 'bars',
      sound: 'music',
      ...R540,
      duration: 30,
      codec: 'mpeg2video',
      avOffset: { start: 6.08, end: 16, seconds: -0.25 },
      injections: [inj('clipping', 22, 23)],
    }),
    recipe({
      name: 'testsrc2-720p-h264-ts-black-resize',
      content: 'testsrc2 720p then 540p, tone',
      picture: 'testsrc2',
      sound: 'tone',
      ...R720,
      duration: 30,
      injections: [inj('black', 6, 9), inj('black', 21, 24)],
      resolutionChange: { at: 15, ...R540 },
    }),
    recipe({
      name: 'mandel-540p-h264-ts-resize-silence',
      content: 'mandelbrot 540p then 360p, speech-like noise',
      picture: 'mandelbrot',
      sound: 'speech',
      ...R540,
      duration: 30,
      resolutionChange: { at: 12, width: 640, height: 360 },
      injections: [inj('silence', 20, 23)],
    }),
    recipe({
      name: 'cellauto-480p-mpeg2-ts-freeze-resize-clipping',
      content: 'cellular automaton 480p then 720p, tone',
      picture: 'cellauto',
      sound: 'tone',
      ...R480,
      duration: 30,
      codec: 'mpeg2video',
      injections: [inj('freeze', 6, 9), inj('clipping', 22, 23)],
      resolutionChange: { at: 14, ...R720 },
    }),
    recipe({
      name: 'gradients-720p-h264-ts-resize-quiet',
      content: 'soft gradients 720p then 480p, chords',
      picture: 'gradients',
      sound: 'music',
      ...R720,
      duration: 34,
      resolutionChange: { at: 10, ...R480 },
      injections: [inj('quiet', 16, 28)],
    }),
    recipe({
      name: 'live-testsrc2-540p-h264-ts-2outages-black',
      content: 'testsrc2 sent live, tone; sender down twice',
      picture: 'testsrc2',
      sound: 'tone',
      ...R540,
      duration: 38,
      mode: 'live',
      outages: [
        { start: 8, end: 14 },
        { start: 20, end: 26 },
      ],
      injections: [inj('black', 31, 34)],
    }),
    recipe({
      name: 'live-bars-720p-h264-ts-outage-freeze',
      content: 'bars with a moving inset sent live, chords; sender down once',
      picture: 'bars',
      sound: 'music',
      ...R720,
      duration: 30,
      mode: 'live',
      outages: [{ start: 10, end: 16 }],
      injections: [inj('freeze', 21, 24)],
    }),
    recipe({
      name: 'live-mandel-480p-h264-ts-2outages',
      content: 'mandelbrot sent live, speech-like noise; sender down twice',
      picture: 'mandelbrot',
      sound: 'speech',
      ...R480,
      duration: 32,
      mode: 'live',
      outages: [
        { start: 7, end: 13 },
        { start: 19, end: 25 },
      ],
    }),
    recipe({
      name: 'testsrc2-720p-h264-ts-longgop-freeze-blur',
      content: 'testsrc2 with 10 s GOP (freezes span keyframes), tone',
      picture: 'testsrc2',
      sound: 'tone',
      ...R720,
      duration: 34,
      gopSeconds: 10,
      injections: [inj('freeze', 8, 13), inj('freeze', 18, 21), inj('blur', 26, 30)],
    }),
    recipe({
      name: 'testsrc2-480p-h264-hls-corrupt-silence-clipping',
      content: 'testsrc2, tone',
      picture: 'testsrc2',
      sound: 'tone',
      ...R480,
      duration: 32,
      container: 'hls',
      injections: [inj('corrupt', 9, 10), inj('silence', 16, 19), inj('clipping', 25, 26)],
    }),
    recipe({
      name: 'slowbars-540p-h264-hls-freeze-quiet',
      content: 'near-static bars with a creeping inset, speech-like noise',
      picture: 'bars-slow',
      sound: 'speech',
      ...R540,
      duration: 34,
      container: 'hls',
      injections: [inj('freeze', 8, 11), inj('quiet', 17, 29)],
    }),
  ];
}

/** The same recipe at another size and/or shorter (injections past the end dropped), for quick tests. */
export function reducedRecipe(
  r: CorpusRecipe,
  size: { width: number; height: number },
  duration = r.duration,
): CorpusRecipe {
  const scale = size.height / r.height;
  const change = r.resolutionChange;
  return {
    ...r,
    name: `${r.name}-reduced-${size.width}x${size.height}-${duration}s`,
    ...size,
    duration,
    injections: r.injections.filter((i) => i.end <= duration),
    outages: r.outages.filter((o) => o.end <= duration),
    avOffset:
      r.avOffset && r.avOffset.start < duration
        ? { ...r.avOffset, end: Math.min(r.avOffset.end, duration) }
        : undefined,
    resolutionChange:
      change && change.at < duration
        ? {
            at: change.at,
            width: 2 * Math.round((change.width * scale) / 2),
            height: 2 * Math.round((change.height * scale) / 2),
          }
        : undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// Frames and truth

/** Frame numbers [first, end) of a window given in seconds. */
function framesOf(w: { start: number; end: number }, fps: number): { first: number; end: number } {
  return { first: Math.round(w.start * fps), end: Math.round(w.end * fps) };
}

const TRUTH_OF: Record<InjectionType, DefectType[]> = {
  black: ['black'],
  freeze: ['freeze'],
  blur: ['blur'],
  // Damaged packets: the decoder reports errors on them and the picture stays damaged until
  // the next keyframe; corrupt windows are whole GOPs, so both end at that keyframe.
  corrupt: ['blockiness', 'decode_error'],
  silence: ['silence'],
  quiet: ['loudness'],
  loud: ['loudness'],
  clipping: ['clipping'],
  hush: [],
};

/** The ground truth of a recipe, exact to the frame. */
export function truthOf(r: CorpusRecipe): DefectEvent[] {
  const at = (frame: number): number => frame / r.fps;
  const events: DefectEvent[] = [];
  for (const i of r.injections) {
    const { first, end } = framesOf(i, r.fps);
    for (const type of TRUTH_OF[i.type]) events.push({ type, start: at(first), end: at(end) });
  }
  if (r.avOffset) {
    const { first, end } = framesOf(r.avOffset, r.fps);
    events.push({ type: 'av_sync', start: at(first), end: at(end) });
  }
  if (r.resolutionChange) {
    const first = framesOf({ start: r.resolutionChange.at, end: r.resolutionChange.at }, r.fps).first;
    events.push({ type: 'format_change', start: at(first), end: at(first + 1) });
  }
  for (const o of r.outages) {
    const { first, end } = framesOf(o, r.fps);
    events.push({ type: 'stall', start: at(first), end: at(end) });
  }
  return events.sort((a, b) => a.start - b.start || a.type.localeCompare(b.type));
}

/** Problems with a recipe that would make its truth ambiguous or impossible to inject. */
export function recipeProblems(r: CorpusRecipe): string[] {
  const problems: string[] = [];
  const windows = [
    ...r.injections.map((i) => ({ what: i.type, start: i.start, end: i.end })),
    ...r.outages.map((o) => ({ what: 'outage', start: o.start, end: o.end })),
    ...(r.avOffset ? [{ what: 'avOffset', start: r.avOffset.start, end: r.avOffset.end }] : []),
    ...(r.resolutionChange
      ? [{ what: 'resolutionChange', start: r.resolutionChange.at, end: r.resolutionChange.at }]
      : []),
  ].sort((a, b) => a.start - b.start);
  windows.forEach((w, k) => {
    if (w.start < 5) problems.push(`${r.name}: ${w.what} starts at ${w.start} s, before 5 s`);
    if (w.end > r.duration) problems.push(`${r.name}: ${w.what} ends at ${w.end} s, after the clip's ${r.duration} s`);
    const next = windows[k + 1];
    if (next && next.start - w.end < 5) problems.push(`${r.name}: ${w.what} and ${next.what} are less than 5 s apart`);
  });
  for (const i of r.injections) {
    if (i.type === 'corrupt') {
      const gop = r.gopSeconds * r.fps;
      const { first, end } = framesOf(i, r.fps);
      if (first % gop !== 0 || end % gop !== 0)
        problems.push(`${r.name}: corrupt ${i.start}-${i.end} s is not whole GOPs`);
    }
  }
  if (r.avOffset) {
    // The offset switches at an audio packet: its edges must be on both the frame and the AAC frame grid.
    const aacFrames = (t: number): number => (t * SAMPLE_RATE) / 1024;
    for (const t of [r.avOffset.start, r.avOffset.end]) {
      const onGrid =
        Math.abs(aacFrames(t) - Math.round(aacFrames(t))) < 1e-6 && Math.abs(t * r.fps - Math.round(t * r.fps)) < 1e-6;
      if (!onGrid && t < r.duration)
        problems.push(`${r.name}: A/V offset edge ${t} s is not on both the frame and the AAC frame grid`);
    }
  }
  for (const o of r.outages) if (o.end - o.start < 5) problems.push(`${r.name}: outage shorter than 5 s`);
  if ((r.mode === 'live' || r.avOffset || r.resolutionChange) && r.container !== 'mpegts') {
    problems.push(`${r.name}: live clips, A/V offsets and resolution changes need MPEG-TS`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// ffmpeg arguments

function between(frames: { first: number; end: number }, variable = 'n'): string {
  return `between(${variable},${frames.first},${frames.end - 1})`;
}

/** `enable` expression on audio: block start times, with a margin against float rounding. */
function duringAudio(windows: Injection[], fps: number): string {
  return windows
    .map((w) => framesOf(w, fps))
    .map(({ first, end }) => `gte(t,${(first / fps - 1e-4).toFixed(6)})*lt(t,${(end / fps - 1e-4).toFixed(6)})`)
    .join('+');
}

function videoGraph(r: CorpusRecipe): string {
  const chains = [typeof r.picture === 'string' ? pictureGraph(r.picture, r) : r.picture.graph];
  let label = 'picture';
  const frames = r.duration * r.fps;
  chains.push(`[${label}]trim=end_frame=${frames},format=yuv420p[v0]`);
  label = 'v0';
  r.injections
    .filter((i) => i.type === 'freeze')
    .forEach((w, k) => {
      // Frames first+1 .. end-1 repeat frame `first`: the still picture shows from `first` on.
      const { first, end } = framesOf(w, r.fps);
      chains.push(`[${label}]split[fa${k}][fb${k}]`);
      chains.push(`[fa${k}][fb${k}]freezeframes=first=${first + 1}:last=${end - 1}:replace=${first}[vf${k}]`);
      label = `vf${k}`;
    });
  const filters: string[] = [];
  const of = (type: InjectionType): string =>
    r.injections
      .filter((i) => i.type === type)
      .map((w) => between(framesOf(w, r.fps)))
      .join('+');
  const black = of('black');
  if (black) filters.push(`drawbox=c=black:t=fill:enable='${black}'`);
  // Sigma in proportion to the picture so every size loses the same share of its detail.
  const blur = of('blur');
  if (blur) filters.push(`gblur=sigma=${Math.max(4, Math.round(r.height / 30))}:steps=2:enable='${blur}'`);
  chains.push(`[${label}]${filters.length ? filters.join(',') : 'null'}[video]`);
  return chains.join(';');
}

function audioGraph(r: CorpusRecipe): string {
  const chain = [`atrim=end_sample=${r.duration * SAMPLE_RATE}`, `asetnsamples=n=${SAMPLES_PER_BLOCK}`];
  const of = (type: InjectionType): Injection[] => r.injections.filter((i) => i.type === type);
  const gains: [InjectionType, string][] = [
    ['silence', '0'],
    ['quiet', '-20dB'],
    ['loud', '9dB'],
    ['hush', '-23dB'],
  ];
  for (const [type, gain] of gains) {
    const windows = of(type);
    if (windows.length) chain.push(`volume=${gain}:enable='${duringAudio(windows, r.fps)}'`);
  }
  const clipping = of('clipping');
  // Overdrive in the PCM domain, as a real chain does: s16 saturates at full scale.
  if (clipping.length) chain.push(`volume=30dB:enable='${duringAudio(clipping, r.fps)}'`, 'aformat=sample_fmts=s16');
  const sound = typeof r.sound === 'string' ? soundGraph(r.sound) : r.sound.graph;
  return `${sound};[sound]${chain.join(',')}[audio]`;
}

function encoderArgs(r: CorpusRecipe): string[] {
  const gop = r.gopSeconds * r.fps;
  switch (r.codec) {
    case 'h264':
      // No B-frames: packet order is frame order, so damaged packet n is frame n.
      return [
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-crf',
        '23',
        '-g',
        String(gop),
        '-keyint_min',
        String(gop),
        '-sc_threshold',
        '0',
        '-bf',
        '0',
        '-pix_fmt',
        'yuv420p',
        ...(r.interlaced ? ['-flags', '+ildct+ilme'] : []),
      ];
    case 'hevc':
      return [
        '-c:v',
        'libx265',
        '-preset',
        'ultrafast',
        '-crf',
        '26',
        '-pix_fmt',
        'yuv420p',
        '-x265-params',
        `keyint=${gop}:min-keyint=${gop}:scenecut=0:bframes=0:log-level=error`,
        ...(r.container === 'mp4' ? ['-tag:v', 'hvc1'] : []),
      ];
    case 'mpeg2video':
      return [
        '-c:v',
        'mpeg2video',
        '-q:v',
        '4',
        '-g',
        String(gop),
        '-bf',
        '0',
        '-sc_threshold',
        '1000000000',
        '-pix_fmt',
        'yuv420p',
      ];
  }
}

function corruptArgs(r: CorpusRecipe): string[] {
  const windows = r.injections.filter((i) => i.type === 'corrupt');
  if (windows.length === 0) return [];
  // The noise bitstream filter damages about one byte in 2000 (corruptionRate) of each packet in the window.
  const expr = windows.map((w) => between(framesOf(w, r.fps))).join('+');
  return ['-bsf:v', `noise=amount='if(${expr},${r.corruptionRate ?? 2000},0)'`];
}

function containerArgs(container: CorpusClip['container'], out: string, onePacketPerPes = false): string[] {
  switch (container) {
    case 'mpegts':
      // One AAC frame per PES packet lets an A/V offset start at any AAC frame, not every eighth.
      return ['-f', 'mpegts', ...(onePacketPerPes ? ['-pes_payload_size', '0'] : []), '-y', out];
    case 'mp4':
      return ['-f', 'mp4', '-movflags', '+faststart', '-y', out];
    case 'hls':
      return [
        '-f',
        'hls',
        '-hls_time',
        '4',
        '-hls_playlist_type',
        'vod',
        '-hls_segment_filename',
        join(out, 'segment%03d.ts'),
        '-y',
        join(out, 'index.m3u8'),
      ];
  }
}

const AUDIO_CODEC = ['-c:a', 'aac', '-b:a', '128k', '-ar', String(SAMPLE_RATE)];

/**
 * The ffmpeg invocations that make a clip, with `out` standing for the output (a file, or a
 * directory for HLS). A resolution change is two outputs of one run, joined afterwards.
 */
export function ffmpegArgs(r: CorpusRecipe, out: string): string[][] {
  const head = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
  const change = r.resolutionChange;
  if (!change) {
    const graph = `${videoGraph(r)};${audioGraph(r)}`;
    return [
      [
        ...head,
        ...(r.inputs ?? []),
        '-filter_complex',
        graph,
        '-map',
        '[video]',
        ...encoderArgs(r),
        ...corruptArgs(r),
        '-map',
        '[audio]',
        ...AUDIO_CODEC,
        ...containerArgs(r.container, out, r.avOffset !== undefined),
      ],
    ];
  }
  // Segment two keeps its timestamps (trim does not reset them), so the joined video's clock
  // runs on across the join; its first frame is a new sequence header with the new size.
  // Audio is encoded whole and muxed in afterwards: two AAC encodes would overlap at the join
  // by their encoder delay. Negative timestamps are kept (not shifted) on the audio so that,
  // with -copyts, its first programme sample lands on the first video frame as in other clips.
  const at = framesOf({ start: change.at, end: change.at }, r.fps).first;
  const graph = [
    videoGraph(r),
    audioGraph(r),
    '[video]split[va][vb]',
    `[va]trim=end_frame=${at}[video1]`,
    `[vb]trim=start_frame=${at},scale=${change.width}:${change.height}[video2]`,
  ].join(';');
  const video = (k: 1 | 2): string[] => [
    '-map',
    `[video${k}]`,
    ...encoderArgs(r),
    '-f',
    'mpegts',
    '-y',
    `${out}.part${k}`,
  ];
  return [
    [
      ...head,
      ...(r.inputs ?? []),
      '-filter_complex',
      graph,
      ...video(1),
      ...video(2),
      '-map',
      '[audio]',
      ...AUDIO_CODEC,
      '-avoid_negative_ts',
      'disabled',
      '-f',
      'mpegts',
      '-y',
      `${out}.audio`,
    ],
    [
      ...head,
      '-copyts',
      '-i',
      `${out}.video`,
      '-i',
      `${out}.audio`,
      '-map',
      '0:v',
      '-map',
      '1:a',
      '-c',
      'copy',
      ...containerArgs('mpegts', out),
    ],
  ];
}

// ---------------------------------------------------------------------------------------------
// Building

/** First presentation time of the first video and the first audio stream (seconds). */
export async function streamStartTimes(path: string): Promise<{ video: number; audio: number }> {
  const r = await runCommand(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'stream=codec_type,start_time', '-of', 'json', path],
    { what: `reading ${path}` },
  );
  const streams = (JSON.parse(r.stdout.toString()) as { streams: { codec_type: string; start_time?: string }[] })
    .streams;
  const start = (type: string): number => {
    const s = streams.find((x) => x.codec_type === type);
    if (!s?.start_time) throw new Error(`${path} has no ${type} stream with a start time`);
    return Number(s.start_time);
  };
  return { video: start('video'), audio: start('audio') };
}

function extensionOf(container: CorpusClip['container']): string {
  return container === 'mpegts' ? 'ts' : container === 'mp4' ? 'mp4' : 'hls';
}

function clipOf(r: CorpusRecipe, path: string): CorpusClip {
  return {
    name: r.name,
    path,
    mode: r.mode,
    outages: r.outages.map((o) => ({ ...o })),
    container: r.container,
    videoCodec: r.codec,
    width: r.width,
    height: r.height,
    fps: r.fps,
    duration: r.duration,
    content: r.content,
    truth: truthOf(r),
    ...(r.real ? { real: r.real } : {}),
  };
}

/** Build one clip (once per recipe and machine) and write its truth beside it. */
export async function buildClip(r: CorpusRecipe, cacheDir = corpusCacheDir()): Promise<CorpusClip> {
  const problems = recipeProblems(r);
  if (problems.length) throw new Error(`recipe ${r.name} is not usable: ${problems.join('; ')}`);
  mkdirSync(cacheDir, { recursive: true });
  const key = JSON.stringify({ args: ffmpegArgs(r, 'OUT'), av: r.avOffset ?? null });
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 12);
  const base = join(cacheDir, `${r.name}-${hash}`);
  const ext = extensionOf(r.container);
  const target = `${base}.${ext}`;
  const path = r.container === 'hls' ? join(target, 'index.m3u8') : target;
  if (!existsSync(path)) {
    // Build under a temporary name and rename at the end: an interrupted run leaves no clip.
    const tmp = `${base}.partial-${process.pid}.${ext}`;
    rmSync(tmp, { recursive: true, force: true });
    if (r.container === 'hls') mkdirSync(tmp);
    try {
      for (const args of ffmpegArgs(r, tmp)) {
        if (args.includes(`${tmp}.video`)) {
          // MPEG-TS is a byte stream: the two video parts joined play as one stream.
          writeFileSync(`${tmp}.video`, Buffer.concat([readFileSync(`${tmp}.part1`), readFileSync(`${tmp}.part2`)]));
        }
        await runCommand('ffmpeg', args, { timeoutMs: 600_000, what: `making ${r.name}` });
      }
      if (r.avOffset) await applyAvOffset(tmp, r);
      renameSync(tmp, target);
    } finally {
      for (const part of ['part1', 'part2', 'video', 'audio']) rmSync(`${tmp}.${part}`, { force: true });
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const clip = clipOf(r, path);
  const truthPath = `${base}.truth.json`;
  writeFileSync(`${truthPath}.partial-${process.pid}`, `${JSON.stringify(clip, null, 2)}\n`);
  renameSync(`${truthPath}.partial-${process.pid}`, truthPath);
  return clip;
}

/** Where a clip's truth lies: beside the clip (for HLS: beside its directory). */
export function truthPathOf(clip: CorpusClip): string {
  const media = clip.container === 'hls' ? join(clip.path, '..') : clip.path;
  return media.replace(/\.(ts|mp4|hls)$/, '.truth.json');
}

async function applyAvOffset(path: string, r: CorpusRecipe): Promise<void> {
  const offset = r.avOffset;
  if (!offset) return;
  // shiftAudioTimestamps counts from the first audio PTS; the truth counts from the first
  // video frame, and AAC's encoder delay starts audio a little earlier than video.
  const starts = await streamStartTimes(path);
  const lead = starts.video - starts.audio;
  const from = framesOf(offset, r.fps).first / r.fps + lead;
  const until = framesOf(offset, r.fps).end / r.fps + lead;
  let ts: Uint8Array = readFileSync(path);
  ts = shiftAudioTimestamps(ts, from, offset.seconds);
  // Shifting back from the (already shifted) end selects exactly the audio originally at or after it.
  if (until < r.duration - 1e-9) ts = shiftAudioTimestamps(ts, until + offset.seconds, -offset.seconds);
  writeFileSync(path, ts);
}

function sizeOf(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

/** Build every clip (or those named in `only`), one after the other. */
export async function generateCorpus(
  options: { only?: string[]; log?: (line: string) => void } = {},
): Promise<CorpusClip[]> {
  return buildRecipes(corpusRecipes(), options);
}

/** Build the given recipes (or those named in `only`) one after the other, logging each clip. */
export async function buildRecipes(
  all: readonly CorpusRecipe[],
  options: { only?: string[]; log?: (line: string) => void } = {},
): Promise<CorpusClip[]> {
  const log = options.log ?? (() => undefined);
  const recipes = all.filter((r) => !options.only || options.only.includes(r.name));
  if (options.only) {
    const unknown = options.only.filter((n) => !recipes.some((r) => r.name === n));
    if (unknown.length) throw new Error(`--only: no clip named ${unknown.join(', ')}`);
  }
  const clips: CorpusClip[] = [];
  for (const r of recipes) {
    const started = Date.now();
    const clip = await buildClip(r);
    clips.push(clip);
    const media = clip.container === 'hls' ? join(clip.path, '..') : clip.path;
    const truth = clip.truth.map((e) => `${e.type}@${e.start.toFixed(2)}-${e.end.toFixed(2)}`).join(' ') || 'clean';
    log(
      `${clip.name}  ${(sizeOf(media) / 1e6).toFixed(1)} MB  ${clip.duration} s  ${clip.width}x${clip.height} ${clip.videoCodec} ${clip.container} ${clip.mode}  ` +
        `(${((Date.now() - started) / 1000).toFixed(1)} s)  ${truth}`,
    );
  }
  return clips;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf('--only');
  const only = at >= 0 ? (process.argv[at + 1] ?? '').split(',').filter(Boolean) : undefined;
  const started = Date.now();
  generateCorpus({ only, log: (line) => console.log(line) })
    .then((clips) =>
      console.error(
        `${clips.length} clips in ${((Date.now() - started) / 1000).toFixed(1)} s under ${corpusCacheDir()}`,
      ),
    )
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    });
}
