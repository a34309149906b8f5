/**
 * The accuracy benchmark: every corpus clip through streamqc and through the ffmpeg peer,
 * one after the other (a 2-core machine: running both at once would make live clips, which
 * must keep real time, compete for CPU), scored event by event (score.ts).
 *
 *   node dist/test/bench/accuracy/accuracy.js [--only a,b] [--json FILE]
 *
 * `--only` is passed to the corpus generator (clip name filters); `--json` writes the
 * AccuracyResult. The per-type table and every clip's misses and false positives go to stdout.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { generateCorpus } from './corpus.js';
import { FFMPEG_TYPES, runFfmpegPeer } from './run-ffmpeg.js';
import { runStreamqc, STREAMQC_TYPES } from './run-streamqc.js';
import { accuracyMisses } from '../results.js';
import { matchType, scoreAll, TOLERANCES, type ClipEvents } from './score.js';
import type { AccuracyResult, CorpusClip, DefectEvent, ToolRun, TypeScore } from './types.js';

const TOOLS = { streamqc: STREAMQC_TYPES, ffmpeg: FFMPEG_TYPES } as const;
type Tool = keyof typeof TOOLS;

export async function runAccuracy(
  clips: CorpusClip[],
  log: (line: string) => void = () => undefined,
): Promise<AccuracyResult> {
  const runs: ToolRun[] = [];
  for (const clip of clips) {
    log(`${clip.name} (${clip.mode}, ${clip.duration} s)`);
    for (const run of [await runStreamqc(clip, log), await runFfmpegPeer(clip)]) {
      log(
        `  ${run.tool}: ${run.events.length} events, ${run.wallSeconds.toFixed(1)} s wall, ${run.cpuSeconds.toFixed(1)} s CPU`,
      );
      runs.push(run);
    }
  }
  const truth = truthOf(clips);
  const scores = {
    streamqc: scoreAll(TOOLS.streamqc, truth, eventsOf(runs, 'streamqc')),
    ffmpeg: scoreAll(TOOLS.ffmpeg, truth, eventsOf(runs, 'ffmpeg')),
  };
  return { clips, runs, scores, tolerances: TOLERANCES };
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

export function formatTable(result: AccuracyResult): string {
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
  for (const s of result.scores.streamqc) {
    const peer = result.scores.ffmpeg.find((p) => p.type === s.type);
    const met = accuracyMisses(s.type, s, peer).length === 0;
    lines.push(pad([s.type, String(s.truthEvents), prf(s), prf(peer), onset(s), met ? 'met' : 'MISSED'], widths));
    if (peer) lines.push(pad(['', '', '', '', `ffmpeg ${onset(peer)}`, ''], widths));
  }
  return lines.join('\n');
}

const show = (e: DefectEvent): string => `${e.type} ${e.start.toFixed(2)}..${e.end.toFixed(2)}`;

/** Every clip's misses and false positives per tool, so a person can see why a score is what it is. */
export function formatMistakes(result: AccuracyResult): string {
  const truth = truthOf(result.clips);
  const lines: string[] = [];
  for (const tool of Object.keys(TOOLS) as Tool[]) {
    for (const type of TOOLS[tool]) {
      for (const m of matchType(type, truth, eventsOf(result.runs, tool), result.tolerances[type].onsetSeconds)) {
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
  const { values } = parseArgs({ options: { only: { type: 'string' }, json: { type: 'string' } } });
  const only = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const log = (line: string): void => console.error(line);
  const started = Date.now();
  const clips = await generateCorpus({ only, log });
  const result = await runAccuracy(clips, log);
  console.log(formatTable(result));
  console.log('');
  console.log(formatMistakes(result));
  const wall = (tool: Tool): number =>
    result.runs.filter((r) => r.tool === tool).reduce((a, r) => a + r.wallSeconds, 0);
  const cpu = (tool: Tool): number => result.runs.filter((r) => r.tool === tool).reduce((a, r) => a + r.cpuSeconds, 0);
  console.log(
    `\n${clips.length} clips; streamqc ${wall('streamqc').toFixed(0)} s wall / ${cpu('streamqc').toFixed(0)} s CPU, ` +
      `ffmpeg ${wall('ffmpeg').toFixed(0)} s wall / ${cpu('ffmpeg').toFixed(0)} s CPU; bench ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack : String(err));
    process.exit(1);
  });
}
