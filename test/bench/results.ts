/**
 * What the benchmarks write with `--json FILE`, and the targets the issues set for them: one
 * definition shared by the benchmarks that write these documents and the report that reads them.
 * (The accuracy benchmark's document is AccuracyResult in accuracy/types.ts.)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DefectType, TypeScore } from './accuracy/types.js';

// ---------------------------------------------------------------------------------------------
// targets (from the issues; the benchmarks print them, the report judges against them)

export const ACCURACY_TARGETS = {
  /** Types whose detection must be near perfect: precision and recall at least this. */
  strictTypes: ['black', 'freeze', 'silence', 'stall'] as readonly DefectType[],
  strictMin: 0.98,
  /** Every other type: precision and recall at least this. */
  otherMin: 0.9,
} as const;

/** Issue 13's targets on real footage (tuned sources and the held-out source alike). */
export const REAL_ACCURACY_TARGETS = {
  strictTypes: ['black', 'freeze', 'silence', 'stall'] as readonly DefectType[],
  strictMin: 0.95,
  otherMin: 0.9,
  /** Events per hour of clean real content, per type, at most. */
  falseAlarmsPerHour: 1,
} as const;

/** The precision and recall floor ACCURACY_TARGETS sets for `type`. */
export function accuracyFloor(type: DefectType): number {
  return ACCURACY_TARGETS.strictTypes.includes(type) ? ACCURACY_TARGETS.strictMin : ACCURACY_TARGETS.otherMin;
}

/**
 * What keeps streamqc's score of `type` from its targets (P and R at least the floor, F1 at
 * least ffmpeg's where ffmpeg has one), each as a short phrase; empty: met.
 */
export function accuracyMisses(type: DefectType, streamqc: TypeScore, ffmpeg: TypeScore | undefined): string[] {
  const min = accuracyFloor(type);
  const f = (n: number): string => (Number.isFinite(n) ? n.toFixed(3) : '-');
  const misses: string[] = [];
  if (!(streamqc.precision >= min)) misses.push(`precision ${f(streamqc.precision)} < ${min}`);
  if (!(streamqc.recall >= min)) misses.push(`recall ${f(streamqc.recall)} < ${min}`);
  if (ffmpeg && Number.isFinite(ffmpeg.f1) && !(streamqc.f1 >= ffmpeg.f1))
    misses.push(`F1 ${f(streamqc.f1)} < ffmpeg ${f(ffmpeg.f1)}`);
  return misses;
}

// ---------------------------------------------------------------------------------------------
// baked corruption on the held-out source (test/training/corruption/evaluate.ts)

/** Events against truth as evaluate.ts tallies them: an event is right when it overlaps damage. */
export interface BakedTally {
  events: number;
  right: number;
  truths: number;
  found: number;
}

/** One row of the held-out evaluation: a group of clips, streamqc's corruption detector beside blockdetect. */
export interface BakedCorruptionRow {
  /** e.g. `baked corruption, all`, `baked, feed h264`, `clean (no corruption)`. */
  label: string;
  clips: number;
  streamqc: BakedTally;
  blockdetect: BakedTally;
}

/**
 * docs/benchmarks/baked-corruption.json: corruption baked into the held-out source (damaged
 * feed, concealed, re-encoded: no decode error left to see), as evaluate.ts measures it. The
 * report reads it when present and never runs evaluate.ts itself (it trains nothing, but it
 * builds dozens of baked clips); the first row is the headline, `baked corruption, all`.
 */
export interface BakedCorruptionResult {
  /** The held-out source, e.g. diver-underwater. */
  source: string;
  /** `streamqc <version>, commit <sha>, <ISO time>` and the model file, as evaluate.ts records it. */
  measured: string;
  rows: BakedCorruptionRow[];
  /** The analyzer with corruption on over the clean real programmes: every event a false alarm. */
  cleanProgrammes?: { minutes: number; events: number };
}

export const ANALYZER_TARGETS = {
  /** streamqc CPU at most this multiple of ffmpeg decode-only on the same clip. */
  cpuVsDecode: 1.5,
  /** streamqc at least this many times real time on the 1080p clip. */
  realtime1080: 5,
  /** Peak RSS of node plus its ffmpeg children, MiB. */
  peakRssMiB: 300,
} as const;

export const OPERATOR_TARGETS = {
  /** Seconds until every monitor is Running, by monitor count. */
  allRunningSeconds: [
    { monitors: 1000, seconds: 60 },
    { monitors: 5000, seconds: 300 },
  ],
  /** Operator peak RSS at this many monitors, MiB. */
  peakRssMonitors: 5000,
  peakRssMiB: 256,
  /** Operator writes allowed in a steady-state window of this many seconds. */
  steadyWindowSeconds: 60,
  steadyWrites: 0,
} as const;

// ---------------------------------------------------------------------------------------------
// analyzer benchmark (test/bench/analyzer.ts)

export type CostTool = 'streamqc' | 'decode' | 'chain';

/** One tool on one clip: the median of each figure over the runs. */
export interface CostRow {
  tool: CostTool;
  label: string;
  wallSeconds: number;
  cpuSeconds: number;
  cpuPerStreamSecond: number;
  /** Stream seconds analysed per wall second. */
  realtimeFactor: number;
  /** Sum of VmRSS over the process tree, MiB. */
  peakRssMiB: number;
  /** GNU time's %M: the largest single process, MiB. */
  maxSingleProcessMiB: number;
  cpuSecondsPerRun: number[];
}

export interface CostSize {
  width: number;
  height: number;
  fps: number;
  durationSeconds: number;
  bitRate: number;
  runs: number;
  /** Defect events streamqc printed on run 1: a sanity check that it saw the clip. */
  streamqcEvents: string;
  tools: Record<CostTool, CostRow>;
}

export interface AnalyzerBenchResult {
  startedAt: string;
  finishedAt: string;
  cpus: number;
  cpuModel: string;
  ffmpeg: string;
  node: string;
  loadAverageStart: number[];
  loadAverageEnd: number[];
  sizes: CostSize[];
}

// ---------------------------------------------------------------------------------------------
// operator benchmark (test/bench/operator.ts)

export interface OperatorScaleRow {
  monitors: number;
  createSeconds: number;
  allRunningSeconds: number;
  running: number;
  pods: number;
  scheduled: number;
  operatorPeakRssMiB: number;
  /** CPU seconds (user + system) the operator process used from its start to the end of the steady window. */
  operatorCpuSeconds?: number;
  steadyWindowSeconds: number;
  /** apiserver_request_total write verbs on pods, configmaps, events, streammonitors. */
  steadyWritesOnOperatorResources: number;
  /** apiserver_request_total GET and LIST on the same resources over the window, every client. */
  steadyReadsAllClients?: number;
  /** The operator's own streamqc_operator_status_writes_total over the window. */
  steadyOperatorStatusWrites: number;
  /**
   * Write requests kube-apiserver's audit log attributes to the operator (its User-Agent) in
   * the window, lease renewals excluded: the figure the target is judged on.
   */
  steadyOperatorWrites: number;
  /** The first few of those writes ("verb resource namespace/name"), to see what they were. */
  steadyOperatorWriteSample: string[];
}

export interface OperatorBenchResult {
  startedAt: string;
  finishedAt: string;
  /** kube-apiserver's gitVersion, null when it could not be read. */
  kubeApiserverVersion: string | null;
  concurrency: number;
  /** Seconds between polls of each analyzer's /status (the operator's --poll-seconds); 0: not polled. */
  pollSeconds?: number;
  rows: OperatorScaleRow[];
}

/** Writes one benchmark document, creating its directory. */
export function writeResultJson(path: string, result: object): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
}
