/**
 * The peer: ffmpeg's own detectors over the same clip, in ONE ffmpeg invocation, turned into
 * DefectEvents on the clip's timeline so they are scored exactly as streamqc's are.
 *
 * Video: blackdetect, freezedetect, blockdetect, blurdetect, then `metadata=mode=print` of the
 * per-frame lavfi.block / lavfi.blur values to fd 3. Audio: silencedetect and ebur128
 * (metadata=1) with a print of the per-frame short-term loudness to fd 4, and a 4x
 * oversampled branch whose per-frame peak (astats) is the true peak, printed to fd 5.
 * Prints go to pipes, not files: ffmpeg re-creates its filter graph when the picture format
 * changes mid-clip, and a file would be truncated by the re-created print filter.
 *
 * Rules (defaults are ffmpeg's own except the minimum durations, set to streamqc's 2 s
 * defaults so both tools are asked the same question; ffmpeg's defaults are 2 s for all
 * three anyway):
 * - black: blackdetect d=2 (pic_th 0.98, pix_th 0.10). freeze: freezedetect d=2 (n -60 dB).
 *   silence: silencedetect d=2 (n -60 dB, all channels together).
 * - loudness: ebur128 short-term loudness outside -23 +/- 5 LUFS for >= 10 s. Blocks under
 *   BS.1770's absolute gate (-70 LUFS: silence, and ebur128's first 3 s before its window
 *   fills) are not programme and end a run, as the standard's gate and streamqc do.
 * - clipping: ffmpeg 5.1's ebur128 only exports the running maximum of the true peak, not a
 *   per-frame value, so the per-frame true peak is measured as BS.1770 defines it: the sample
 *   peak of the signal oversampled 4x (aresample=192000, astats Peak_level, reset each
 *   frame). A frame over -1 dBTP is clipped; clipped frames closer than 0.1 s (streamqc's
 *   clipping window) form one event; no minimum duration (streamqc's default is 0).
 * - blockiness / blur: blockdetect and blurdetect give a per-frame number with no threshold.
 *   The rule mirrors streamqc's stream baseline: the clip's own median over its first 5 s is
 *   the reference (a median, so a defect inside those 5 s barely moves it); a frame is blocky
 *   above 1.2 x reference (streamqc's blockiness ratio) and blurred above 2.5 x reference
 *   (blurdetect measures edge width, which grows as detail falls: the inverse of streamqc's
 *   detail ratio 0.4). Runs of such frames last >= 0.5 s (blockiness) / >= 2 s (blur), the
 *   minimum durations of streamqc's defaults. Frames with no value (NaN: black) end a run.
 * - Types ffmpeg has no detector for (stall, av_sync, format_change, decode_error) are not
 *   reported, so they are absent from its scores.
 * Live clips are analysed as files: ffmpeg's detectors cannot see a stall anyway.
 *
 * Timeline: ffmpeg's times start at the container's start; they are shifted so that 0 is the
 * first video frame (the first audio frame when there is no video), the clip's t = 0.
 */
import { runCommand } from '../../media/fixtures.js';
import { startMeasured } from './measured-process.js';
import type { CorpusClip, DefectEvent, DefectType, ToolRun } from './types.js';

/** The types the peer reports, in the defect table's order. */
export const FFMPEG_TYPES: readonly DefectType[] = [
  'black',
  'freeze',
  'silence',
  'loudness',
  'clipping',
  'blockiness',
  'blur',
];

/** Minimum durations: streamqc's defaults (DESIGN.md's defect table). */
const BLACK_MIN_SECONDS = 2;
const FREEZE_MIN_SECONDS = 2;
const SILENCE_MIN_SECONDS = 2;
const LOUDNESS_MIN_SECONDS = 10;
const BLOCKINESS_MIN_SECONDS = 0.5;
const BLUR_MIN_SECONDS = 2;

const LOUDNESS_TARGET_LUFS = -23;
const LOUDNESS_TOLERANCE_LU = 5;
const ABSOLUTE_GATE_LUFS = -70;
const TRUE_PEAK_LIMIT_DBTP = -1;
const CLIPPING_WINDOW_SECONDS = 0.1;

/** The reference window of blockdetect / blurdetect values, seconds from the start. */
export const REFERENCE_SECONDS = 5;
export const BLOCKINESS_RATIO = 1.2;
export const BLUR_RATIO = 1 / 0.4;

/** One frame of a `metadata=mode=print` log: its time and its key=value pairs. */
export interface PrintedFrame {
  t: number;
  values: Map<string, number>;
}

/** Parses a metadata/ametadata print log (`frame:N pts:P pts_time:T` then `key=value` lines). */
export function parseMetadataPrint(text: string): PrintedFrame[] {
  const frames: PrintedFrame[] = [];
  let current: PrintedFrame | null = null;
  for (const line of text.split('\n')) {
    const head = /^frame:\d+\s+pts:\S+\s+pts_time:(\S+)/.exec(line);
    if (head) {
      current = { t: Number.parseFloat(head[1]!), values: new Map() };
      frames.push(current);
      continue;
    }
    const kv = /^([^=\s]+)=(.*)$/.exec(line.trim());
    // "-nan" and "nan" parse to NaN: a frame with no value.
    if (kv && current) current.values.set(kv[1]!, Number.parseFloat(kv[2]!));
  }
  return frames.filter((f) => Number.isFinite(f.t));
}

/**
 * Runs of frames for which `flagged` holds, lasting at least `minSeconds` (a frame lasts until
 * the next frame; the last one `lastDuration`). `bridge`: flagged frames closer than this are
 * one run (0: strictly consecutive frames).
 */
export function flaggedRuns(
  frames: readonly PrintedFrame[],
  flagged: (f: PrintedFrame) => boolean,
  type: DefectType,
  minSeconds: number,
  lastDuration: number,
  bridge = 0,
): DefectEvent[] {
  const events: DefectEvent[] = [];
  let run: DefectEvent | null = null;
  const close = (): void => {
    if (run && run.end - run.start >= minSeconds - 1e-9) events.push(run);
    run = null;
  };
  frames.forEach((f, i) => {
    if (!flagged(f)) return;
    const end = frames[i + 1]?.t ?? f.t + lastDuration;
    // An unflagged frame in between leaves a gap (the run ended at its time): the run is over.
    if (run && f.t - run.end > bridge + 1e-9) close();
    if (run) run.end = end;
    else run = { type, start: f.t, end };
  });
  close();
  return events;
}

/** Median of the finite values of `key` over frames before `seconds` (NaN when none). */
export function referenceValue(frames: readonly PrintedFrame[], key: string, seconds: number): number {
  const values = frames
    .filter((f) => f.t < (frames[0]?.t ?? 0) + seconds)
    .map((f) => f.values.get(key))
    .filter((v): v is number => v !== undefined && Number.isFinite(v))
    .sort((a, b) => a - b);
  if (values.length === 0) return Number.NaN;
  const mid = values.length >> 1;
  return values.length % 2 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}

/**
 * Black, freeze and silence intervals from ffmpeg's log. A run still open at the end of the
 * input (freezedetect never logs its end then) ends at `endOfInput`.
 */
export function parseDetectorLog(log: string, endOfInput: number): DefectEvent[] {
  const events: DefectEvent[] = [];
  for (const m of log.matchAll(/black_start:\s*(\S+)\s+black_end:\s*(\S+)/g)) {
    events.push({ type: 'black', start: Number.parseFloat(m[1]!), end: Number.parseFloat(m[2]!) });
  }
  const pairs = (type: DefectType, startRe: RegExp, endRe: RegExp): void => {
    const marks: { at: number; start: boolean }[] = [];
    for (const m of log.matchAll(startRe)) marks.push({ at: m.index, start: true });
    for (const m of log.matchAll(endRe)) marks.push({ at: m.index, start: false });
    marks.sort((a, b) => a.at - b.at);
    let open: number | null = null;
    for (const mark of marks) {
      const value = Number.parseFloat(/:\s*(-?[\d.]+)/.exec(log.slice(mark.at))?.[1] ?? 'NaN');
      if (mark.start) open = value;
      else if (open !== null) {
        events.push({ type, start: open, end: value });
        open = null;
      }
    }
    if (open !== null) events.push({ type, start: open, end: Math.max(open, endOfInput) });
  };
  pairs('freeze', /freeze_start:/g, /freeze_end:/g);
  pairs('silence', /silence_start:/g, /silence_end:/g);
  return events.filter((e) => Number.isFinite(e.start) && Number.isFinite(e.end));
}

async function streamKinds(path: string): Promise<{ video: boolean; audio: boolean }> {
  const stdout = (
    await runCommand('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', path], {
      what: `probing ${path}`,
    })
  ).stdout.toString();
  // Some streams print a trailing field ("video,"): split on both separators.
  const kinds = stdout.split(/[\n,]/).map((s) => s.trim());
  return { video: kinds.includes('video'), audio: kinds.includes('audio') };
}

/** `pipe\:N` inside a filter graph: both the graph and the option parser unescape once. */
const printTo = (fd: number): string => `file=pipe\\\\:${fd}`;

/** The one ffmpeg command line for a clip (without `ffmpeg` itself). */
export function peerArgs(path: string, kinds: { video: boolean; audio: boolean }): string[] {
  const chains: string[] = [];
  const maps: string[] = [];
  if (kinds.video) {
    chains.push(
      `[0:v:0]blackdetect=d=${BLACK_MIN_SECONDS},freezedetect=d=${FREEZE_MIN_SECONDS},blockdetect,blurdetect,` +
        `metadata=mode=print:${printTo(3)}[vout]`,
    );
    maps.push('-map', '[vout]');
  }
  if (kinds.audio) {
    chains.push(
      '[0:a:0]asplit=2[loud][peak]',
      `[loud]silencedetect=n=-60dB:d=${SILENCE_MIN_SECONDS},ebur128=metadata=1,ametadata=mode=print:${printTo(4)}[aout]`,
      `[peak]aresample=192000,astats=metadata=1:reset=1:measure_perchannel=none:measure_overall=Peak_level,` +
        `ametadata=mode=print:${printTo(5)}[pout]`,
    );
    maps.push('-map', '[aout]', '-map', '[pout]');
  }
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'info',
    '-i',
    path,
    '-filter_complex',
    chains.join(';'),
    ...maps,
    '-f',
    'null',
    '-',
  ];
}

/** DefectEvents from the peer's outputs (times as ffmpeg printed them, before alignment). */
export function peerEvents(
  log: string,
  video: PrintedFrame[],
  loudness: PrintedFrame[],
  peaks: PrintedFrame[],
): DefectEvent[] {
  const frameStep = video.length > 1 ? (video[video.length - 1]!.t - video[0]!.t) / (video.length - 1) : 0.04;
  const endOfInput = Math.max((video[video.length - 1]?.t ?? 0) + frameStep, loudness[loudness.length - 1]?.t ?? 0);
  const events = parseDetectorLog(log, endOfInput);

  const blockRef = referenceValue(video, 'lavfi.block', REFERENCE_SECONDS);
  events.push(
    ...flaggedRuns(
      video,
      (f) => (f.values.get('lavfi.block') ?? Number.NaN) > blockRef * BLOCKINESS_RATIO,
      'blockiness',
      BLOCKINESS_MIN_SECONDS,
      frameStep,
    ),
  );
  const blurRef = referenceValue(video, 'lavfi.blur', REFERENCE_SECONDS);
  events.push(
    ...flaggedRuns(
      video,
      (f) => (f.values.get('lavfi.blur') ?? Number.NaN) > blurRef * BLUR_RATIO,
      'blur',
      BLUR_MIN_SECONDS,
      frameStep,
    ),
  );

  // ebur128 prints every 100 ms; a gated block is neither in nor out of range, and ends a run.
  let current: PrintedFrame[] = [];
  const loudRuns = [current];
  for (const f of loudness) {
    const s = f.values.get('lavfi.r128.S') ?? Number.NaN;
    if (s >= ABSOLUTE_GATE_LUFS) current.push(f);
    else if (current.length > 0) {
      current = [];
      loudRuns.push(current);
    }
  }
  for (const run of loudRuns) {
    events.push(
      ...flaggedRuns(
        run,
        (f) => Math.abs((f.values.get('lavfi.r128.S') ?? Number.NaN) - LOUDNESS_TARGET_LUFS) > LOUDNESS_TOLERANCE_LU,
        'loudness',
        LOUDNESS_MIN_SECONDS,
        0.1,
      ),
    );
  }

  const peakStep = peaks.length > 1 ? (peaks[peaks.length - 1]!.t - peaks[0]!.t) / (peaks.length - 1) : 0.02;
  events.push(
    ...flaggedRuns(
      peaks,
      (f) => (f.values.get('lavfi.astats.Overall.Peak_level') ?? Number.NaN) > TRUE_PEAK_LIMIT_DBTP,
      'clipping',
      0,
      peakStep,
      CLIPPING_WINDOW_SECONDS,
    ),
  );
  return events;
}

export async function runFfmpegPeer(clip: CorpusClip): Promise<ToolRun> {
  const kinds = await streamKinds(clip.path);
  const r = await startMeasured('ffmpeg', peerArgs(clip.path, kinds), {
    extraPipes: 3,
    timeoutMs: Math.max(120_000, clip.duration * 10_000),
  }).done;
  if (r.code !== 0)
    throw new Error(`ffmpeg peer on ${clip.name} exited with ${r.code ?? r.signal}: ${r.stderr.slice(-2000)}`);
  const video = parseMetadataPrint(r.pipes[0]!);
  const loudness = parseMetadataPrint(r.pipes[1]!);
  const peaks = parseMetadataPrint(r.pipes[2]!);
  const zero = video[0]?.t ?? loudness[0]?.t ?? 0;
  const events = peerEvents(r.stderr, video, loudness, peaks).map((e) => ({
    ...e,
    start: e.start - zero,
    end: e.end - zero,
  }));
  return { tool: 'ffmpeg', clip: clip.name, events, wallSeconds: r.wallSeconds, cpuSeconds: r.cpuSeconds };
}
