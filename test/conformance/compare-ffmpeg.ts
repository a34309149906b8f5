/**
 * The EBU conformance signals through streamqc and through ffmpeg's `ebur128` filter, side by side.
 * Not a test: a report for a person. Writes each case as a float WAV, measures it with
 * `ffmpeg -i case.wav -af ebur128=peak=true:framelog=verbose -f null -` and with AudioStage, and
 * prints one markdown row per check: expected, streamqc, ffmpeg, pass or fail.
 *
 *   node dist/test/conformance/compare-ffmpeg.js [--json PATH] [case-id-prefix ...]
 *
 * --json PATH also writes the rows as {"rows": [...]}: the conformance section of the bench report.
 *
 * "streamqc" is what the stage publishes (/status and the metrics). ffmpeg shows no running
 * maximum: its max M / max S are the highest of its per-100 ms values, as a person reading its
 * frame log would take them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ebuCases, writeCaseWav, type EbuCase } from './ebu-signals.js';
import {
  checksFor,
  passes,
  runningMax,
  runThroughStage,
  stageReadings,
  type Check,
  type MeterReadings,
  type TimedValue,
} from './ebu-measure.js';

function level(text: string): number {
  return /^-?inf/i.test(text) ? -Infinity : Number.parseFloat(text);
}

/** ffmpeg's ebur128 readings of a WAV. Its empty windows read -120.7 (its energy floor): dropped. */
export function ffmpegReadings(wav: string): MeterReadings {
  const run = spawnSync(
    'ffmpeg',
    [
      '-hide_banner',
      '-nostats',
      '-v',
      'verbose',
      '-i',
      wav,
      '-af',
      'ebur128=peak=true:framelog=verbose',
      '-f',
      'null',
      '-',
    ],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  if (run.status !== 0) throw new Error(`ffmpeg failed on ${wav}: ${run.stderr.slice(-2000)}`);
  const momentary: TimedValue[] = [];
  const shortTerm: TimedValue[] = [];
  for (const line of run.stderr.split('\n')) {
    const m = /t:\s*([0-9.]+)\s+TARGET:\S+\s+LUFS\s+M:\s*(\S+)\s+S:\s*(\S+)/.exec(line);
    if (!m) continue;
    const endSeconds = Number.parseFloat(m[1] ?? '');
    const mv = level(m[2] ?? '');
    const sv = level(m[3] ?? '');
    if (mv > -120) momentary.push({ endSeconds, value: mv });
    if (sv > -120) shortTerm.push({ endSeconds, value: sv });
  }
  const summary = run.stderr.slice(run.stderr.lastIndexOf('Summary:'));
  const field = (re: RegExp): number | null => {
    const m = re.exec(summary);
    return m ? level(m[1] ?? '') : null;
  };
  const integrated = field(/I:\s+(\S+) LUFS/);
  return {
    momentary,
    shortTerm,
    maxMomentary: runningMax(momentary),
    maxShortTerm: runningMax(shortTerm),
    integratedLufs: integrated !== null && integrated > -70 ? integrated : null,
    loudnessRangeLu: field(/LRA:\s+(\S+) LU/),
    maxTruePeakDbtp: field(/Peak:\s+(\S+) dBFS/),
  };
}

function cell(check: Check): string {
  return check.actual === null ? 'n/a' : `${check.actual.toFixed(2)} ${passes(check) ? 'pass' : 'FAIL'}`;
}

function tolerance(check: Check): string {
  return check.below === check.above ? `±${check.above}` : `+${check.above}/-${check.below}`;
}

/** One row per table check: the case, the reading, what the table wants, streamqc's and ffmpeg's readings. */
export interface ConformanceRow {
  caseId: string;
  reading: string;
  expected: string;
  streamqc: string;
  ffmpeg: string;
  streamqcPasses: boolean;
  ffmpegPasses: boolean;
}

/** Every check of the given cases, through streamqc and through ffmpeg's ebur128 (WAV files in a scratch folder). */
export function conformanceRows(cases: readonly EbuCase[]): ConformanceRow[] {
  const dir = mkdtempSync(join(tmpdir(), 'ebu-conformance-'));
  try {
    return cases.flatMap((c) => {
      const ours = checksFor(c, stageReadings(runThroughStage(c)));
      const theirs = checksFor(c, ffmpegReadings(writeCaseWav(join(dir, `${c.id}.wav`), c)));
      return ours.map((check, i) => {
        const peer = theirs[i];
        return {
          caseId: c.id,
          reading: check.reading,
          expected: `${check.expected.toFixed(1)} ${tolerance(check)}`,
          streamqc: cell(check),
          ffmpeg: peer ? cell(peer) : 'n/a',
          streamqcPasses: passes(check),
          ffmpegPasses: peer !== undefined && passes(peer),
        };
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const { values, positionals: only } = parseArgs({ options: { json: { type: 'string' } }, allowPositionals: true });
  const cases = ebuCases().filter((c) => only.length === 0 || only.some((p) => c.id.startsWith(p)));
  const rows = conformanceRows(cases);
  console.log('| case | reading | expected | streamqc | ffmpeg ebur128 |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const row of rows) {
    console.log(`| ${row.caseId} | ${row.reading} | ${row.expected} | ${row.streamqc} | ${row.ffmpeg} |`);
  }
  if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify({ rows }, null, 2)}\n`);
}

// Run when executed directly (the bench report imports conformanceRows).
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) main();
