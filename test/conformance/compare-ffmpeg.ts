/**
 * The EBU conformance signals through streamqc and through ffmpeg's `ebur128` filter, side by side.
 * Not a test: a report for a person. Writes each case as a float WAV, measures it with
 * `ffmpeg -i case.wav -af ebur128=peak=true:framelog=verbose -f null -` and with AudioStage, and
 * prints one markdown row per check: expected, streamqc today, ffmpeg, pass or fail.
 *
 *   node dist/test/conformance/compare-ffmpeg.js [case-id-prefix ...]
 *
 * "streamqc today" is what the stage publishes; where it publishes nothing (LRA), the cell shows the
 * AudioMeter's internal value in brackets. Max M / max S are the highest values published across
 * the per-block (streamqc) or per-100 ms (ffmpeg) updates.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioMeter } from '../../analyzer/audio/meter.js';
import { ebuCases, interleave, LAYOUT_CHANNELS, writeCaseWav, type EbuCase } from './ebu-signals.js';
import {
  checksFor,
  passes,
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
    integratedLufs: integrated !== null && integrated > -70 ? integrated : null,
    loudnessRangeLu: field(/LRA:\s+(\S+) LU/),
    maxTruePeakDbtp: field(/Peak:\s+(\S+) dBFS/),
  };
}

/** The AudioMeter's internal loudness range: computed today, published nowhere. */
function internalRange(c: EbuCase): number {
  const meter = new AudioMeter(c.sampleRate, LAYOUT_CHANNELS[c.layout]);
  meter.push(interleave(c.synthesise()));
  return meter.loudnessRangeLu;
}

function cell(check: Check): string {
  return check.actual === null ? 'n/a' : `${check.actual.toFixed(2)} ${passes(check) ? 'pass' : 'FAIL'}`;
}

function tolerance(check: Check): string {
  return check.below === check.above ? `±${check.above}` : `+${check.above}/-${check.below}`;
}

function main(): void {
  const only = process.argv.slice(2);
  const cases = ebuCases().filter((c) => only.length === 0 || only.some((p) => c.id.startsWith(p)));
  const dir = mkdtempSync(join(tmpdir(), 'ebu-conformance-'));
  try {
    console.log('| case | reading | expected | streamqc today | ffmpeg ebur128 |');
    console.log('| --- | --- | --- | --- | --- |');
    for (const c of cases) {
      const ours = checksFor(c, stageReadings(runThroughStage(c)));
      const theirs = checksFor(c, ffmpegReadings(writeCaseWav(join(dir, `${c.id}.wav`), c)));
      ours.forEach((check, i) => {
        const peer = theirs[i];
        let mine = cell(check);
        if (check.reading === 'LRA') {
          const internal = { ...check, actual: internalRange(c) };
          mine = `not published [${cell(internal)}]`;
        }
        console.log(
          `| ${c.id} | ${check.reading} | ${check.expected.toFixed(1)} ${tolerance(check)} | ${mine} | ${peer ? cell(peer) : 'n/a'} |`,
        );
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
