/**
 * The accuracy corpus on real footage (issue 13): programmes cut together from the real clips
 * of real-footage.ts, built by corpus.ts's own builder, so defects are injected and truth is
 * written exactly as on the synthetic corpus.
 *
 * A programme is a list of shots (a stretch of one real clip, looped when the clip is shorter,
 * scaled into the frame with bars, joined to the one before by a hard cut or a one-second
 * fade) and a list of passages of real sound (music, speech, a clip's own track), each brought
 * to -23 LUFS with the loudness real-footage.ts measured for it, repeated to the programme's
 * length. The picture and the sound become a GraphSource with its inputs, and the rest is an
 * ordinary CorpusRecipe: injections, codec, container, GOP.
 *
 * Two kinds of programme:
 * - clean (no injections): at least ten minutes of tuned sources with cuts, fades, dark
 *   scenes, a low-rate webcam, screen content, film grain, upscaled and interlaced pictures.
 *   Every event a tool reports on them is a false alarm.
 * - with defects: black, freeze across keyframes on detailed content, blur on soft content,
 *   silence in music and in speech, loudness steps both ways, damaged packets.
 * Each clip carries its split (`real.split`): `held-out` when it is made of the held-out
 * source alone, `tuned` when it uses none; a programme mixing the two is refused.
 *
 * Run directly: `node dist/test/bench/accuracy/real-corpus.js [--only name,...]` (fetches the
 * real clips first).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRecipes, type CorpusRecipe, type Injection, type InjectionType, type VideoCodec } from './corpus.js';
import { cachedName, fetchRealFootage, realFootageCacheDir, REAL_SOURCES, type RealSource } from './real-footage.js';
import type { CorpusClip, RealFootageInfo } from './types.js';

/** Loudness every passage is brought to (EBU R128's target), as the synthetic sounds are. */
export const PROGRAMME_LUFS = -23;

/** How long a fade between two shots lasts, seconds. */
export const FADE_SECONDS = 1;

/** What is done to a shot's picture beyond fitting it into the frame. */
export type Look = 'as-shot' | 'grain';

export interface Shot {
  source: string;
  /** Seconds into the source (default 0). */
  from?: number;
  /** Seconds of it (default: the rest of the source); longer than the source loops it, a real cut at each loop. */
  seconds?: number;
  /** How it follows the shot before (default 'cut'); ignored on the first shot. */
  join?: 'cut' | 'fade';
  look?: Look;
}

export interface Passage {
  source: string;
  from?: number;
  seconds?: number;
}

export interface RealProgramme {
  name: string;
  content: string;
  shots: Shot[];
  /** Played in order and repeated until the programme ends. */
  sound: Passage[];
  width: number;
  height: number;
  /** Whole seconds; at most the shots' total length. */
  duration: number;
  codec?: VideoCodec;
  container?: CorpusRecipe['container'];
  gopSeconds?: number;
  /** Woven from fields: shots at twice the frame rate, interleaved top field first, coded interlaced. */
  interlaced?: boolean;
  corruptionRate?: number;
  injections?: Injection[];
}

const FPS = 25;

function sourceNamed(id: string): RealSource {
  const source = REAL_SOURCES.find((s) => s.id === id);
  if (!source) throw new Error(`real-corpus: no real source named ${id}`);
  return source;
}

/** Seconds a shot or passage lasts: what is asked, or the rest of the source. */
function lengthOf(part: { source: string; from?: number; seconds?: number }): number {
  return part.seconds ?? Math.floor((sourceNamed(part.source).durationSeconds - (part.from ?? 0)) * 10) / 10;
}

/** The shots' total length once fades have overlapped them, seconds. */
export function programmeLength(p: Pick<RealProgramme, 'shots'>): number {
  return p.shots.reduce((sum, s, k) => sum + lengthOf(s) - (k > 0 && s.join === 'fade' ? FADE_SECONDS : 0), 0);
}

const LOOKS: Record<Look, string> = {
  'as-shot': '',
  // Film grain that changes every frame, as on a telecine transfer.
  grain: ',noise=alls=12:allf=t+u',
};

/** One shot's chain: its own clock from 0, the programme's rate, fitted into the frame with bars. */
function shotChain(shot: Shot, input: number, label: string, size: { width: number; height: number; rate: number }) {
  const { width: w, height: h, rate } = size;
  const first = Math.round((shot.from ?? 0) * rate);
  const end = first + Math.round(lengthOf(shot) * rate);
  return (
    `[${input}:v]setpts=PTS-STARTPTS,fps=${rate},trim=start_frame=${first}:end_frame=${end},setpts=PTS-STARTPTS,` +
    `scale=w=${w}:h=${h}:force_original_aspect_ratio=decrease:force_divisible_by=2:flags=bicubic,` +
    `pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p${LOOKS[shot.look ?? 'as-shot']}[${label}]`
  );
}

/** The input arguments of one looped file: every shot and passage reads its own copy. */
function loopedInput(file: string): string[] {
  return ['-stream_loop', '-1', '-i', file];
}

function pictureOf(p: RealProgramme, file: (id: string) => string, inputs: string[][]): string {
  const rate = p.interlaced ? 2 * FPS : FPS;
  const chains: string[] = [];
  let current = '';
  let length = 0;
  p.shots.forEach((shot, k) => {
    const input = inputs.push(loopedInput(file(shot.source))) - 1;
    chains.push(shotChain(shot, input, `shot${k}`, { width: p.width, height: p.height, rate }));
    if (k === 0) {
      current = 'shot0';
      length = lengthOf(shot);
      return;
    }
    const joined = `joined${k}`;
    if (shot.join === 'fade') {
      chains.push(
        `[${current}][shot${k}]xfade=transition=fade:duration=${FADE_SECONDS}:offset=${(length - FADE_SECONDS).toFixed(3)}[${joined}]`,
      );
      length += lengthOf(shot) - FADE_SECONDS;
    } else {
      // concat's output clock is microseconds; xfade wants both inputs on the shots' 1/rate clock.
      chains.push(`[${current}][shot${k}]concat=n=2:v=1:a=0,settb=1/${rate}[${joined}]`);
      length += lengthOf(shot);
    }
    current = joined;
  });
  // Two fields per frame from consecutive pictures: motion combs, as on interlaced broadcast.
  const weave = p.interlaced ? 'tinterlace=mode=interleave_top,setfield=tff' : 'null';
  chains.push(`[${current}]${weave}[picture]`);
  return chains.join(';');
}

function soundOf(p: RealProgramme, file: (id: string) => string, inputs: string[][]): string {
  const chains: string[] = [];
  const labels: string[] = [];
  let length = 0;
  for (let k = 0; length < p.duration + 1; k++) {
    const passage = p.sound[k % p.sound.length];
    if (!passage) throw new Error(`real-corpus: ${p.name} has no sound`);
    const source = sourceNamed(passage.source);
    if (!source.audio) throw new Error(`real-corpus: ${p.name}: ${source.id} has no sound`);
    const input = inputs.push(loopedInput(file(source.id))) - 1;
    const seconds = lengthOf(passage);
    const gain = PROGRAMME_LUFS - source.audio.lufs;
    chains.push(
      `[${input}:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,` +
        `atrim=start=${passage.from ?? 0}:duration=${seconds},asetpts=PTS-STARTPTS,volume=${gain.toFixed(1)}dB[passage${k}]`,
    );
    labels.push(`[passage${k}]`);
    length += seconds;
  }
  chains.push(`${labels.join('')}concat=n=${labels.length}:v=0:a=1[sound]`);
  return chains.join(';');
}

/** Each shot's place on the programme's timeline: a fade starts the next shot FADE_SECONDS early. */
export function shotTimes(p: Pick<RealProgramme, 'shots'>): NonNullable<RealFootageInfo['shots']> {
  let end = 0;
  return p.shots.map((shot, k) => {
    const join = k === 0 ? 'first' : (shot.join ?? 'cut');
    const start = join === 'fade' ? end - FADE_SECONDS : end;
    end = start + lengthOf(shot);
    return { source: shot.source, start: round(start), end: round(end), join };
  });
}

const round = (t: number): number => Math.round(t * 1000) / 1000;

/** Which split a programme is in: held-out only when made of held-out sources alone. */
export function realFootageInfo(p: RealProgramme): RealFootageInfo {
  const ids = [...new Set([...p.shots, ...p.sound].map((part) => part.source))];
  const heldOut = ids.map((id) => sourceNamed(id).heldOut);
  if (heldOut.some(Boolean) && !heldOut.every(Boolean)) {
    throw new Error(`real-corpus: ${p.name} mixes the held-out source with tuned ones`);
  }
  return {
    split: heldOut.every(Boolean) ? 'held-out' : 'tuned',
    clean: (p.injections ?? []).length === 0,
    sources: ids,
    shots: shotTimes(p),
  };
}

/** The CorpusRecipe of a programme, reading the real clips from `cacheDir`. Pure: no I/O. */
export function programmeRecipe(p: RealProgramme, cacheDir: string = realFootageCacheDir()): CorpusRecipe {
  if (programmeLength(p) < p.duration) {
    throw new Error(`real-corpus: ${p.name}: shots last ${programmeLength(p).toFixed(1)} s, less than ${p.duration} s`);
  }
  const file = (id: string): string => join(cacheDir, cachedName(sourceNamed(id)));
  const inputs: string[][] = [];
  const picture = { graph: pictureOf(p, file, inputs) };
  const sound = { graph: soundOf(p, file, inputs) };
  return {
    name: p.name,
    content: p.content,
    picture,
    sound,
    inputs: inputs.flat(),
    real: realFootageInfo(p),
    width: p.width,
    height: p.height,
    fps: FPS,
    duration: p.duration,
    codec: p.codec ?? 'h264',
    container: p.container ?? 'mpegts',
    mode: 'file',
    gopSeconds: p.gopSeconds ?? 1,
    interlaced: p.interlaced,
    corruptionRate: p.corruptionRate,
    injections: p.injections ?? [],
    outages: [],
  };
}

function inj(type: InjectionType, start: number, end: number): Injection {
  return { type, start, end };
}

const R720 = { width: 1280, height: 720 };
const R540 = { width: 960, height: 540 };
const R480 = { width: 854, height: 480 };
const R360 = { width: 640, height: 360 };

const MUSIC: Passage[] = [{ source: 'music-mr-bones' }, { source: 'music-menu' }];
const SPEECH: Passage[] = ['0870', '0880', '0890', '0920', '0930'].map((n) => ({ source: `speech-librivox-${n}` }));
const SPEECH_AND_VOICE: Passage[] = [...SPEECH, { source: 'voice-lena' }];

/**
 * The clean programmes: no defects, at least ten minutes of tuned sources in all, plus a
 * held-out one. Every kind of real picture the analyzer may meet is in at least one.
 */
export function cleanProgrammes(): RealProgramme[] {
  return [
    {
      name: 'real-clean-film-camera-720p-h264-ts',
      content:
        'CG film, night city, handheld bird, rocket launch, dark room, phone clip, pedestrians; cuts and fades; music',
      ...R720,
      duration: 150,
      shots: [
        { source: 'megamind-trailer' },
        { source: 'city-night', join: 'cut' },
        { source: 'cockatoo-handheld', join: 'fade' },
        { source: 'rocket-launch', join: 'cut' },
        { source: 'ball-throw', join: 'cut' },
        { source: 'dog-phone', join: 'fade' },
        { source: 'megamind-trailer', join: 'cut' },
        { source: 'vtest-pedestrians', seconds: 40, join: 'fade' },
        { source: 'city-night', join: 'cut' },
        { source: 'cockatoo-handheld', join: 'cut' },
        { source: 'rocket-launch', join: 'cut' },
        { source: 'ball-throw', join: 'fade' },
        { source: 'megamind-trailer', join: 'cut' },
      ],
      sound: MUSIC,
    },
    {
      name: 'real-clean-screen-webcam-540p-h264-ts',
      content: 'screen recordings, slides, a 15 fps webcam, a 10 fps surveillance camera; read speech and a voice',
      ...R540,
      duration: 150,
      shots: [
        { source: 'gnome-dual-monitors' },
        { source: 'hello-screencast', join: 'cut' },
        { source: 'tree-webcam', join: 'cut' },
        { source: 'ebu-channel-id', join: 'fade' },
        { source: 'vtest-pedestrians', seconds: 32, join: 'cut' },
      ],
      sound: SPEECH_AND_VOICE,
    },
    {
      name: 'real-clean-archival-upscaled-720p-h264-mp4',
      content: '1906 film (160p upscaled), 240p webcam upscaled, 352p animation, CG film under grain; music',
      ...R720,
      duration: 120,
      container: 'mp4',
      shots: [
        { source: 'calais-1906' },
        { source: 'tree-webcam', join: 'fade' },
        { source: 'cc-wanna-work-together', seconds: 50, join: 'cut' },
        { source: 'megamind-trailer', look: 'grain', join: 'fade' },
        { source: 'calais-1906', join: 'cut' },
      ],
      sound: [{ source: 'music-menu' }, { source: 'music-mr-bones' }],
    },
    {
      name: 'real-clean-interlaced-540p-h264-ts',
      content: 'animation, rocket launch, night city, handheld bird woven into interlaced frames; music and speech',
      ...R540,
      duration: 118,
      interlaced: true,
      shots: [
        { source: 'cc-wanna-work-together', from: 60, seconds: 60 },
        { source: 'rocket-launch', join: 'cut' },
        { source: 'city-night', join: 'cut' },
        { source: 'cockatoo-handheld', join: 'fade' },
        { source: 'cc-wanna-work-together', from: 120, seconds: 31, join: 'cut' },
      ],
      sound: [{ source: 'music-mr-bones', seconds: 40 }, ...SPEECH],
    },
    {
      name: 'real-clean-dark-540p-mpeg2-ts',
      content: 'dim CG restaurant, dark room, night city, with cuts and fades; film dialogue and speech',
      ...R540,
      duration: 88,
      codec: 'mpeg2video',
      shots: [
        { source: 'megamind-trailer' },
        { source: 'ball-throw', join: 'cut' },
        { source: 'city-night', join: 'fade' },
        { source: 'megamind-trailer', join: 'cut' },
        { source: 'ball-throw', join: 'fade' },
        { source: 'megamind-trailer', join: 'cut' },
        { source: 'city-night', join: 'cut' },
        { source: 'ball-throw', join: 'cut' },
        { source: 'megamind-trailer', join: 'cut' },
      ],
      sound: [{ source: 'megamind-trailer' }, ...SPEECH],
    },
    {
      name: 'real-heldout-clean-diver-540p-h264-ts',
      content: 'held-out: handheld dive into the sea, looped (a cut at each loop) with one fade; its own sound',
      ...R540,
      duration: 54,
      shots: [
        { source: 'diver-underwater' },
        { source: 'diver-underwater', join: 'cut' },
        { source: 'diver-underwater', join: 'fade' },
        { source: 'diver-underwater', join: 'cut' },
      ],
      sound: [{ source: 'diver-underwater' }],
    },
  ];
}

/** Real footage with defects injected at known frames, tuned sources first, then the held-out one. */
export function defectProgrammes(): RealProgramme[] {
  return [
    {
      name: 'real-citynight-vtest-540p-h264-ts-freeze-black-silence',
      content: 'night city towers (detailed) cut to pedestrians; music',
      ...R540,
      duration: 30,
      shots: [{ source: 'city-night' }, { source: 'vtest-pedestrians', from: 10, seconds: 24, join: 'cut' }],
      sound: MUSIC,
      injections: [inj('freeze', 5, 8), inj('black', 13, 16), inj('silence', 21, 24)],
    },
    {
      name: 'real-vtest-720p-h264-ts-longgop-freeze-quiet',
      content: 'static camera on pedestrians (10 fps, detailed), 4 s GOP; read speech',
      ...R720,
      duration: 36,
      gopSeconds: 4,
      shots: [{ source: 'vtest-pedestrians', seconds: 36 }],
      sound: SPEECH,
      injections: [inj('freeze', 9, 13), inj('quiet', 18, 30)],
    },
    {
      name: 'real-ball-megamind-540p-h264-mp4-blur-silence',
      content: 'dark room, dim CG restaurant with pillarbox bars (soft content); read speech',
      ...R540,
      duration: 31,
      container: 'mp4',
      shots: [{ source: 'ball-throw' }, { source: 'megamind-trailer', join: 'cut' }, { source: 'ball-throw' }],
      sound: SPEECH,
      injections: [inj('blur', 6, 9), inj('blur', 14, 17), inj('silence', 22, 25)],
    },
    {
      name: 'real-cockatoo-rocket-540p-mpeg2-ts-corrupt-loud',
      content: 'handheld bird, rocket launch; music',
      ...R540,
      duration: 30,
      codec: 'mpeg2video',
      shots: [
        { source: 'cockatoo-handheld' },
        { source: 'rocket-launch', join: 'cut' },
        { source: 'cockatoo-handheld', join: 'cut' },
      ],
      sound: [{ source: 'music-menu' }],
      injections: [inj('corrupt', 6, 7), inj('loud', 12, 24)],
    },
    {
      name: 'real-ccwanna-480p-hevc-ts-corrupt-quiet-black',
      content: '2D animation with its own music',
      ...R480,
      duration: 36,
      codec: 'hevc',
      // Flat colours at 480p: P-frames of 100-300 bytes, so one byte in 2000 damages almost none
      // of them and the decoder reports nothing; one in 300 damages what a broken feed would.
      corruptionRate: 300,
      shots: [{ source: 'cc-wanna-work-together', from: 20, seconds: 40 }],
      sound: [{ source: 'cc-wanna-work-together', from: 20, seconds: 40 }],
      injections: [inj('corrupt', 6, 7), inj('quiet', 12, 24), inj('black', 29, 32)],
    },
    {
      name: 'real-screens-720p-h264-ts-black-silence-loud',
      content: 'screen recordings (settings dialog, terminal with webcam inset); read speech and a voice',
      ...R720,
      duration: 36,
      shots: [
        { source: 'gnome-dual-monitors', from: 5, seconds: 24 },
        { source: 'hello-screencast', join: 'cut' },
        { source: 'gnome-dual-monitors', join: 'fade' },
      ],
      sound: SPEECH_AND_VOICE,
      injections: [inj('black', 6, 9), inj('silence', 14, 17), inj('loud', 22, 34)],
    },
    {
      name: 'real-heldout-diver-540p-h264-ts-black-freeze-blur-silence',
      content: 'held-out: handheld dive into the sea, its own sound',
      ...R540,
      duration: 36,
      shots: [{ source: 'diver-underwater' }, { source: 'diver-underwater' }, { source: 'diver-underwater' }],
      sound: [{ source: 'diver-underwater' }],
      injections: [inj('black', 5, 8), inj('freeze', 13, 16), inj('blur', 21, 24), inj('silence', 29, 32)],
    },
    {
      name: 'real-heldout-diver-360p-mpeg2-ts-corrupt-quiet',
      content: 'held-out: handheld dive into the sea, its own sound',
      ...R360,
      duration: 28,
      codec: 'mpeg2video',
      shots: [
        { source: 'diver-underwater' },
        { source: 'diver-underwater', join: 'fade' },
        { source: 'diver-underwater' },
      ],
      sound: [{ source: 'diver-underwater' }],
      injections: [inj('corrupt', 6, 7), inj('quiet', 12, 24)],
    },
  ];
}

/** Every real-footage recipe: the clean programmes, then those with defects. */
export function realCorpusRecipes(cacheDir: string = realFootageCacheDir()): CorpusRecipe[] {
  return [...cleanProgrammes(), ...defectProgrammes()].map((p) => programmeRecipe(p, cacheDir));
}

/** Fetch the real clips the chosen programmes need, then build them (cached like the synthetic corpus). */
export async function generateRealCorpus(
  options: { only?: string[]; log?: (line: string) => void; programmes?: readonly RealProgramme[] } = {},
): Promise<CorpusClip[]> {
  const programmes = (options.programmes ?? [...cleanProgrammes(), ...defectProgrammes()]).filter(
    (p) => !options.only || options.only.includes(p.name),
  );
  const ids = new Set(programmes.flatMap((p) => [...p.shots, ...p.sound].map((part) => part.source)));
  await fetchRealFootage(
    realFootageCacheDir(),
    REAL_SOURCES.filter((s) => ids.has(s.id)),
  );
  return buildRecipes(
    programmes.map((p) => programmeRecipe(p)),
    options,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf('--only');
  const only = at >= 0 ? (process.argv[at + 1] ?? '').split(',').filter(Boolean) : undefined;
  const started = Date.now();
  generateRealCorpus({ only, log: (line) => console.log(line) })
    .then((clips) => {
      const clean = clips.filter((c) => c.real?.clean).reduce((sum, c) => sum + c.duration, 0);
      console.error(`${clips.length} real clips (${clean} s clean) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    });
}
