/**
 * The accuracy benchmark: every corpus clip through streamqc and through the ffmpeg peer,
 * one after the other (a 2-core machine: running both at once would make live clips, which
 * must keep real time, compete for CPU), scored event by event (score.ts).
 *
 *   node dist/test/bench/accuracy/accuracy.js [--only a,b] [--part synthetic|real|all] [--tools streamqc,ffmpeg] [--keep FILE] [--json FILE]
 *   node dist/test/bench/accuracy/accuracy.js --merge A.json,B.json,... [--json FILE]
 *
 * Two corpora: the synthetic one (corpus.ts) and real footage (real-corpus.ts), scored apart:
 * synthetic; real, tuned sources; real, held-out source; and false alarms per hour on clean
 * real programmes. `--part` (or STREAMQC_BENCH_ONLY=synthetic|real, which `npm run bench`
 * passes through) runs one corpus only. `--only` is passed to the corpus generators (clip name
 * filters); `--json` writes the AccuracyResult. `--keep FILE`, with one corpus run, takes the
 * other corpus's clips and tool runs from an earlier result; `--merge` runs nothing and
 * combines results (a clip from the last file that has it). Either way every score is
 * recomputed, and `measured` says which run each corpus comes from. `--tools streamqc` leaves
 * the ffmpeg peer out (its scores are then absent, n/a, on those clips): on a machine too busy
 * for its full-resolution blockdetect and blurdetect. The per-type tables and
 * every clip's misses and false positives go to stdout.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { corpusRecipes, generateCorpus } from './corpus.js';
import { cleanProgrammes, defectProgrammes, generateRealCorpus } from './real-corpus.js';
import { FFMPEG_TYPES, runFfmpegPeer } from './run-ffmpeg.js';
import { runStreamqc, STREAMQC_TYPES } from './run-streamqc.js';
import { accuracyMisses } from '../results.js';
import { matchType, mergeFragments, scoreAll, TOLERANCES, type ClipEvents } from './score.js';
import type {
  AccuracyResult,
  CorpusClip,
  DefectEvent,
  DefectType,
  FalseAlarms,
  RealFootageScores,
  ToolRun,
  ToolScores,
  TypeScore,
} from './types.js';

const TOOLS = { streamqc: STREAMQC_TYPES, ffmpeg: FFMPEG_TYPES } as const;
type Tool = keyof typeof TOOLS;

export async function runAccuracy(
  clips: CorpusClip[],
  log: (line: string) => void = () => undefined,
  tools: readonly Tool[] = ['streamqc', 'ffmpeg'],
): Promise<AccuracyResult> {
  const runs: ToolRun[] = [];
  for (const clip of clips) {
    log(`${clip.name} (${clip.mode}, ${clip.duration} s)`);
    for (const tool of tools) {
      const run = tool === 'streamqc' ? await runStreamqc(clip, log) : await runFfmpegPeer(clip);
      log(
        `  ${run.tool}: ${run.events.length} events, ${run.wallSeconds.toFixed(1)} s wall, ${run.cpuSeconds.toFixed(1)} s CPU`,
      );
      runs.push(run);
    }
  }
  return accuracyResultOf(clips, runs);
}

/** The corpus a clip belongs to. */
export const corpusOf = (clip: CorpusClip): Corpus => (clip.real ? 'real' : 'synthetic');
export type Corpus = 'synthetic' | 'real';

/** A result from clips and their tool runs, every score computed by today's scoring. */
export function accuracyResultOf(
  clips: CorpusClip[],
  runs: ToolRun[],
  measured: AccuracyResult['measured'] = {},
): AccuracyResult {
  const synthetic = clips.filter((c) => corpusOf(c) === 'synthetic');
  const real = clips.filter((c) => corpusOf(c) === 'real');
  return {
    clips,
    runs,
    parts: { synthetic: synthetic.length > 0, real: real.length > 0 },
    ...(Object.keys(measured).length ? { measured } : {}),
    scores: scoresOn(synthetic, runs),
    ...(real.length ? { real: realScores(real, runs) } : {}),
    tolerances: TOLERANCES,
  };
}

/** What an older result that recorded no `measured` says of its runs. */
export const UNRECORDED_RUN = 'an earlier run (not recorded)';

/**
 * Results combined into one, scored afresh: each clip with its tool runs from the last result
 * that has it; each corpus's `measured` names every run its clips come from.
 */
export function mergeResults(results: readonly AccuracyResult[]): AccuracyResult {
  const clips = new Map<string, { clip: CorpusClip; runs: ToolRun[]; measured: string }>();
  for (const r of results) {
    for (const clip of r.clips) {
      const measured = r.measured?.[corpusOf(clip)] ?? UNRECORDED_RUN;
      clips.set(clip.name, { clip, runs: r.runs.filter((run) => run.clip === clip.name), measured });
    }
  }
  const all = [...clips.values()];
  const measured: NonNullable<AccuracyResult['measured']> = {};
  for (const corpus of ['synthetic', 'real'] as const) {
    const from = [...new Set(all.filter((e) => corpusOf(e.clip) === corpus).map((e) => e.measured))];
    if (from.length) measured[corpus] = from.join('; ');
  }
  return accuracyResultOf(
    all.map((e) => e.clip),
    all.flatMap((e) => e.runs),
    measured,
  );
}

/** `streamqc <version>, commit <sha>[, with uncommitted changes], <ISO time>` of this tree, now. */
export function thisRun(): string {
  const root = fileURLToPath(new URL('../../../../', import.meta.url));
  const git = (...args: string[]): string | null => {
    try {
      return execFileSync('git', ['-C', root, ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return null;
    }
  };
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const commit = git('rev-parse', '--short', 'HEAD');
  const dirty = git('status', '--porcelain', '--', '.', ':!docs') ? ', with uncommitted changes' : '';
  return `streamqc ${version}${commit ? `, commit ${commit}${dirty}` : ''}, ${new Date().toISOString()}`;
}

function readResult(file: string): AccuracyResult {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as Partial<AccuracyResult>;
  if (!Array.isArray(doc.clips) || !Array.isArray(doc.runs)) {
    throw new Error(`${file}: not an accuracy result (no clips and runs)`);
  }
  return doc as AccuracyResult;
}

/** The clips `tool` ran on. */
function ranOn(tool: Tool, clips: readonly CorpusClip[], runs: readonly ToolRun[]): CorpusClip[] {
  return clips.filter((c) => runs.some((r) => r.tool === tool && r.clip === c.name));
}

/** Both tools' scores per type over the clips each ran on (on none of them: no scores, shown as n/a). */
export function scoresOn(clips: readonly CorpusClip[], runs: readonly ToolRun[]): ToolScores {
  const names = new Set(clips.map((c) => c.name));
  const on = runs.filter((r) => names.has(r.clip));
  const scores = (tool: Tool): TypeScore[] => {
    const ran = ranOn(tool, clips, on);
    return clips.length > 0 && ran.length === 0 ? [] : scoreAll(TOOLS[tool], truthOf(ran), eventsOf(on, tool));
  };
  return { streamqc: scores('streamqc'), ffmpeg: scores('ffmpeg') };
}

/**
 * False alarms per hour of clean content, per type and tool: every event (fragments merged as
 * scoring merges them) reported on a programme with no defects.
 */
export function falseAlarmsOn(clean: readonly CorpusClip[], runs: readonly ToolRun[]): FalseAlarms {
  const cleanSeconds = clean.reduce((sum, c) => sum + c.duration, 0);
  const names = new Set(clean.map((c) => c.name));
  const rates = (tool: Tool): FalseAlarms['streamqc'] =>
    clean.length > 0 && ranOn(tool, clean, runs).length === 0
      ? []
      : TOOLS[tool].map((type: DefectType) => {
          const events = runs
            .filter((r) => r.tool === tool && names.has(r.clip))
            .reduce((n, r) => n + mergeFragments(r.events.filter((e) => e.type === type)).length, 0);
          return { type, events, perHour: cleanSeconds > 0 ? (events * 3600) / cleanSeconds : NaN };
        });
  return { cleanSeconds, clips: clean.length, streamqc: rates('streamqc'), ffmpeg: rates('ffmpeg') };
}

/** Real footage scored by split: defects on tuned sources, on the held-out source, and clean programmes. */
export function realScores(clips: readonly CorpusClip[], runs: readonly ToolRun[]): RealFootageScores {
  const of = (split: 'tuned' | 'held-out', clean: boolean): CorpusClip[] =>
    clips.filter((c) => c.real?.split === split && c.real.clean === clean);
  return {
    tuned: scoresOn(of('tuned', false), runs),
    heldOut: scoresOn(of('held-out', false), runs),
    falseAlarms: { tuned: falseAlarmsOn(of('tuned', true), runs), heldOut: falseAlarmsOn(of('held-out', true), runs) },
  };
}

/** Which corpora a run covers: `--part`, else STREAMQC_BENCH_ONLY, else both. */
export type BenchPart = 'synthetic' | 'real' | 'all';

export function benchPart(flag: string | undefined, env = process.env.STREAMQC_BENCH_ONLY): BenchPart {
  const value = flag ?? env ?? 'all';
  if (value === 'synthetic' || value === 'real' || value === 'all') return value;
  throw new Error(`--part / STREAMQC_BENCH_ONLY: expected synthetic, real or all, not '${value}'`);
}

/** Around each outage edge of a live clip, where the sender's stop and restart tear the stream. */
export const OUTAGE_EDGE_SECONDS = { before: 0.5, after: 2 } as const;

/**
 * A stopped sender cuts a TS packet and its restart begins mid-GOP, so decode errors (and the
 * damaged pictures they conceal) may follow each edge of an outage, or may not: the corpus
 * cannot know, so detections of those types there count neither way (score.ts, dontCare).
 */
export function outageDontCare(clip: CorpusClip): DefectEvent[] {
  const edges = clip.outages.flatMap((o) => [o.start, o.end]);
  return edges.flatMap((t) =>
    (['decode_error', 'blockiness'] as const).map((type) => ({
      type,
      start: t - OUTAGE_EDGE_SECONDS.before,
      end: t + OUTAGE_EDGE_SECONDS.after,
    })),
  );
}

function truthOf(clips: readonly CorpusClip[]): ClipEvents[] {
  return clips.map((c) => ({ clip: c.name, events: c.truth, dontCare: outageDontCare(c) }));
}

function eventsOf(runs: readonly ToolRun[], tool: Tool): ClipEvents[] {
  return runs.filter((r) => r.tool === tool).map((r) => ({ clip: r.clip, events: r.events }));
}

const fixed = (v: number, digits = 2): string => (Number.isFinite(v) ? v.toFixed(digits) : '-');

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' ');
}

export function formatTable(result: AccuracyResult, scores: ToolScores = result.scores): string {
  const widths = [14, 7, 22, 22, 30, 6];
  const lines = [
    pad(['type', 'truth', 'streamqc P/R/F1', 'ffmpeg P/R/F1', 'onset err s (mean/med/p95/max)', 'target'], widths),
  ];
  const prf = (s: TypeScore | undefined): string =>
    s === undefined
      ? 'n/a'
      : `${fixed(s.precision)}/${fixed(s.recall)}/${fixed(s.f1)} (${s.truePositives}/${s.detectedEvents})`;
  const onset = (s: TypeScore | undefined): string =>
    s === undefined
      ? ''
      : `${fixed(s.onsetErrorMean)}/${fixed(s.onsetErrorMedian)}/${fixed(s.onsetErrorP95)}/${fixed(s.onsetErrorMaxAbs)}`;
  for (const s of scores.streamqc) {
    const peer = scores.ffmpeg.find((p) => p.type === s.type);
    const met = accuracyMisses(s.type, s, peer).length === 0;
    lines.push(pad([s.type, String(s.truthEvents), prf(s), prf(peer), onset(s), met ? 'met' : 'MISSED'], widths));
    if (peer) lines.push(pad(['', '', '', '', `ffmpeg ${onset(peer)}`, ''], widths));
  }
  return lines.join('\n');
}

/** False alarms per hour per type, streamqc beside ffmpeg. */
export function formatFalseAlarms(alarms: FalseAlarms): string {
  const widths = [14, 22, 22];
  const lines = [
    `${alarms.clips} clean programmes, ${(alarms.cleanSeconds / 60).toFixed(1)} min`,
    pad(['type', 'streamqc events (/h)', 'ffmpeg events (/h)'], widths),
  ];
  const cell = (r: FalseAlarms['streamqc'][number] | undefined): string =>
    r ? `${r.events} (${fixed(r.perHour, 1)})` : 'n/a';
  for (const s of alarms.streamqc) {
    lines.push(pad([s.type, cell(s), cell(alarms.ffmpeg.find((f) => f.type === s.type))], widths));
  }
  return lines.join('\n');
}

const show = (e: DefectEvent): string => `${e.type} ${e.start.toFixed(2)}..${e.end.toFixed(2)}`;

/** Every clip's misses and false positives per tool, so a person can see why a score is what it is. */
export function formatMistakes(result: AccuracyResult): string {
  const lines: string[] = [];
  for (const tool of Object.keys(TOOLS) as Tool[]) {
    // Only the clips this tool ran on (--tools may have left it out).
    const truth = truthOf(ranOn(tool, result.clips, result.runs));
    for (const type of TOOLS[tool]) {
      // A result read from an older run's JSON may predate a type: today's tolerance serves.
      const tolerance = (result.tolerances as Partial<typeof result.tolerances>)[type] ?? TOLERANCES[type];
      for (const m of matchType(type, truth, eventsOf(result.runs, tool), tolerance.onsetSeconds)) {
        for (const e of m.misses) {
          const seen =
            result.runs.find((r) => r.tool === tool && r.clip === m.clip)?.events.filter((d) => d.type === type) ?? [];
          lines.push(
            `${tool.padEnd(8)} ${m.clip}: MISS ${show(e)}${seen.length ? ` (reported: ${seen.map(show).join(', ')})` : ''}`,
          );
        }
        for (const e of m.falsePositives) lines.push(`${tool.padEnd(8)} ${m.clip}: FALSE ${show(e)}`);
        for (const e of m.ignored) lines.push(`${tool.padEnd(8)} ${m.clip}: not counted (outage edge) ${show(e)}`);
      }
    }
  }
  return lines.length ? lines.join('\n') : 'no misses, no false positives';
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      json: { type: 'string' },
      part: { type: 'string' },
      keep: { type: 'string' },
      merge: { type: 'string' },
      tools: { type: 'string' },
    },
  });
  const list = (v: string | undefined): string[] | undefined =>
    v
      ?.split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  const only = list(values.only);
  const log = (line: string): void => console.error(line);
  const started = Date.now();
  let result: AccuracyResult;
  const merge = list(values.merge);
  if (merge) {
    result = mergeResults(merge.map(readResult));
  } else {
    const part = benchPart(values.part);
    const clips = [
      ...(part === 'real' ? [] : await generateCorpus({ only: onlyAmong(only, corpusRecipes()), log })),
      ...(part === 'synthetic'
        ? []
        : await generateRealCorpus({ only: onlyAmong(only, [...cleanProgrammes(), ...defectProgrammes()]), log })),
    ];
    const tools = (list(values.tools) ?? ['streamqc', 'ffmpeg']).map((t): Tool => {
      if (t !== 'streamqc' && t !== 'ffmpeg') throw new Error(`--tools: expected streamqc and/or ffmpeg, not '${t}'`);
      return t;
    });
    const ran = await runAccuracy(clips, log, tools);
    const measured = thisRun();
    result = accuracyResultOf(ran.clips, ran.runs, {
      ...(ran.parts?.synthetic ? { synthetic: measured } : {}),
      ...(ran.parts?.real ? { real: measured } : {}),
    });
    // One corpus run: the other's clips and runs come from an earlier result, said in `measured`.
    if (values.keep && part !== 'all') {
      const kept = readResult(values.keep);
      const other = kept.clips.filter((c) => corpusOf(c) !== part);
      const names = new Set(other.map((c) => c.name));
      result = mergeResults([{ ...kept, clips: other, runs: kept.runs.filter((r) => names.has(r.clip)) }, result]);
    }
  }
  for (const [corpus, from] of Object.entries(result.measured ?? {})) console.log(`${corpus}: ${from}`);
  if (result.parts?.synthetic) console.log(`synthetic corpus\n${formatTable(result)}\n`);
  if (result.real) {
    console.log(`real footage, tuned sources\n${formatTable(result, result.real.tuned)}\n`);
    console.log(`real footage, held-out source\n${formatTable(result, result.real.heldOut)}\n`);
    console.log(
      `false alarms on clean real footage, tuned sources\n${formatFalseAlarms(result.real.falseAlarms.tuned)}\n`,
    );
    console.log(
      `false alarms on clean real footage, held-out source\n${formatFalseAlarms(result.real.falseAlarms.heldOut)}\n`,
    );
  }
  console.log(formatMistakes(result));
  const wall = (tool: Tool): number =>
    result.runs.filter((r) => r.tool === tool).reduce((a, r) => a + r.wallSeconds, 0);
  const cpu = (tool: Tool): number => result.runs.filter((r) => r.tool === tool).reduce((a, r) => a + r.cpuSeconds, 0);
  console.log(
    `\n${result.clips.length} clips; streamqc ${wall('streamqc').toFixed(0)} s wall / ${cpu('streamqc').toFixed(0)} s CPU, ` +
      `ffmpeg ${wall('ffmpeg').toFixed(0)} s wall / ${cpu('ffmpeg').toFixed(0)} s CPU; bench ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
}

/**
 * `--only` names clips of either corpus: each generator gets the names that are its own, or
 * an empty list (build nothing) when the filter names none of its clips.
 */
function onlyAmong(only: string[] | undefined, recipes: readonly { name: string }[]): string[] | undefined {
  return only?.filter((n) => recipes.some((r) => r.name === n));
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack : String(err));
    process.exit(1);
  });
}
