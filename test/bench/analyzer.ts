/**
 * Analyzer benchmark: prints figures, asserts nothing (timings on a shared machine are noise
 * for a test). For 30 s H.264 + AAC clips at 720p30 and 1080p30 it measures
 *   (a) streamqc with every default detector (`analyze CLIP --format jsonl`),
 *   (b) ffmpeg decode-only (`ffmpeg -i CLIP -f null -`),
 *   (c) ffmpeg's own detector chain (blackdetect, freezedetect, blockdetect, blurdetect,
 *       silencedetect, ebur128),
 * each RUNS times (median reported): CPU of the process tree, CPU per stream second, speed
 * against real time, peak RSS (sum over node and its ffmpeg children) and the ratios the issue
 * sets targets for. Then, once, where streamqc's CPU goes (node vs its ffmpeg child, and that
 * child's exact command line alone). Optionally a live soak over UDP on loopback.
 *
 *   node dist/test/bench/analyzer.js [--runs 3] [--sizes 720,1080] [--no-split]
 *                                    [--soak SECONDS] [--soak-size 1280x720] [--json FILE]
 *
 * --json FILE also writes the per-size figures as one AnalyzerBenchResult (results.ts).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { syntheticStreamArgs } from '../../analyzer/synthetic-source.js';
import {
  CACHE_DIR,
  Tail,
  TreeSampler,
  cachedClip,
  fetchText,
  freeTcpPort,
  freeUdpPort,
  kib2mib,
  mean,
  measure,
  median,
  metricSum,
  probeClip,
  sleep,
  type MediaFacts,
  type Measured,
  type SeenProcess,
} from './bench-util.js';
import { FPS, costClipRecipe } from './cost-clip.js';
import { ANALYZER_TARGETS, writeResultJson, type AnalyzerBenchResult, type CostSize } from './results.js';
import { CLI_ARGV } from '../analyzer/run-cli.js';

/** The issue's targets, printed next to the figures (never asserted). */
const TARGET_CPU_VS_DECODE = ANALYZER_TARGETS.cpuVsDecode;
const TARGET_REALTIME_1080 = ANALYZER_TARGETS.realtime1080;
const TARGET_PEAK_RSS_MIB = ANALYZER_TARGETS.peakRssMiB;

// ---------------------------------------------------------------------------------------------
// the workload: costClipRecipe (cost-clip.ts) and the tools that process it

type Tool = 'streamqc' | 'decode' | 'chain';
const TOOLS: readonly Tool[] = ['streamqc', 'decode', 'chain'];
const TOOL_LABEL: Record<Tool, string> = {
  streamqc: 'streamqc (all detectors)',
  decode: 'ffmpeg decode-only',
  chain: 'ffmpeg detector chain',
};

function commandFor(tool: Tool, clip: string): string[] {
  switch (tool) {
    case 'streamqc':
      return [process.execPath, ...CLI_ARGV, 'analyze', clip, '--format', 'jsonl'];
    case 'decode':
      return ['ffmpeg', '-hide_banner', '-nostdin', '-i', clip, '-f', 'null', '-'];
    case 'chain':
      return [
        'ffmpeg',
        '-hide_banner',
        '-nostdin',
        '-i',
        clip,
        '-vf',
        'blackdetect,freezedetect,blockdetect,blurdetect',
        '-af',
        'silencedetect,ebur128',
        '-f',
        'null',
        '-',
      ];
  }
}

// ---------------------------------------------------------------------------------------------
// figures and tables

interface Row {
  wall: number;
  cpu: number;
  peakRssMiB: number;
  /** GNU time's %M: the largest single process. */
  maxSingleMiB: number;
  cpuRuns: number[];
}

/** Median of each figure over the runs (each column on its own, as noise differs per figure). */
function summarize(runs: readonly Measured[]): Row {
  return {
    wall: median(runs.map((r) => r.wall)),
    cpu: median(runs.map((r) => r.cpu)),
    // The tree sum; at least the single-process peak, which 50 ms sampling can miss.
    peakRssMiB: median(runs.map((r) => kib2mib(Math.max(r.peakRssSumKiB, r.maxRssKiB)))),
    maxSingleMiB: median(runs.map((r) => kib2mib(r.maxRssKiB))),
    cpuRuns: runs.map((r) => r.cpu),
  };
}

const f = (n: number, digits: number, width: number): string =>
  (Number.isFinite(n) ? n.toFixed(digits) : '-').padStart(width);

function printTable(title: string, facts: MediaFacts, rows: Record<Tool, Row>, runs: number): void {
  const d = facts.duration;
  console.log(
    `\n== ${title}: ${facts.width}x${facts.height} ${FPS} fps, ${d.toFixed(1)} s, ${(facts.bitRate / 1e6).toFixed(2)} Mbit/s (median of ${runs}) ==`,
  );
  console.log(
    'tool                       wall s   CPU s  CPU s/stream s  x real time  peak RSS MiB  max 1 proc MiB  CPU/decode  CPU/chain  CPU s per run',
  );
  for (const tool of TOOLS) {
    const r = rows[tool];
    console.log(
      [
        TOOL_LABEL[tool].padEnd(25),
        f(r.wall, 2, 7),
        f(r.cpu, 2, 7),
        f(r.cpu / d, 3, 15),
        f(d / r.wall, 1, 12),
        f(r.peakRssMiB, 0, 13),
        f(r.maxSingleMiB, 0, 15),
        f(r.cpu / rows.decode.cpu, 2, 11),
        f(r.cpu / rows.chain.cpu, 2, 10),
        `  ${r.cpuRuns.map((c) => c.toFixed(2)).join(' ')}`,
      ].join(''),
    );
  }
  const s = rows.streamqc;
  const vsDecode = s.cpu / rows.decode.cpu;
  const speed = d / s.wall;
  const verdict = (ok: boolean): string => (ok ? 'meets' : 'MISSES');
  console.log('targets (issue)                                    streamqc here');
  console.log(
    `  CPU <= ${TARGET_CPU_VS_DECODE}x decode-only                          ${vsDecode.toFixed(2)}x  ${verdict(vsDecode <= TARGET_CPU_VS_DECODE)}`,
  );
  const speedNote = facts.height >= 1080 ? verdict(speed >= TARGET_REALTIME_1080) : '(target is for 1080p)';
  console.log(
    `  >= ${TARGET_REALTIME_1080}x real time at 1080p                         ${speed.toFixed(1)}x  ${speedNote}`,
  );
  console.log(
    `  peak RSS (node + ffmpeg) <= ${TARGET_PEAK_RSS_MIB} MiB              ${s.peakRssMiB.toFixed(0)} MiB  ${verdict(s.peakRssMiB <= TARGET_PEAK_RSS_MIB)}`,
  );
}

/** Defect events by type from the analyzer's JSONL: a sanity check that it saw the clip. */
function eventSummary(jsonl: string): string {
  const counts = new Map<string, number>();
  for (const line of jsonl.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as { type?: unknown; start?: unknown; end?: unknown };
      const key = `${String(e.type)}@${Number(e.start).toFixed(1)}-${Number(e.end).toFixed(1)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    } catch {
      counts.set('(unparsable line)', (counts.get('(unparsable line)') ?? 0) + 1);
    }
  }
  return counts.size ? [...counts.keys()].join(', ') : '(none)';
}

// ---------------------------------------------------------------------------------------------
// where streamqc's CPU goes

function byComm(seen: Map<number, SeenProcess>, comm: string): SeenProcess[] {
  return [...seen.values()].filter((p) => p.comm === comm);
}

const cpuOf = (ps: readonly SeenProcess[]): number => ps.reduce((a, p) => a + p.cpu, 0);

/**
 * One streamqc run at log level warn, its tree polled every 50 ms for each process's own
 * utime+stime (last values before it exits), then its ffmpeg child's exact command line run
 * alone with the frame pipes sent to /dev/null: the child's cost without node reading frames.
 */
async function cpuSplit(clip: string, facts: MediaFacts, decodeCpu: number): Promise<void> {
  const env = { ...process.env, STREAMQC_LOG_LEVEL: 'warn' };
  const run = await measure(commandFor('streamqc', clip), { env, sampleMs: 50 });
  const node = byComm(run.tree.seen, 'node');
  const ffprobe = byComm(run.tree.seen, 'ffprobe');
  const ffmpeg = byComm(run.tree.seen, 'ffmpeg');
  const sampled = cpuOf(node) + cpuOf(ffprobe) + cpuOf(ffmpeg);
  const d = facts.duration;
  console.log(
    `-- where streamqc's CPU goes (${facts.height}p, 1 run, STREAMQC_LOG_LEVEL=warn, /proc polled every 50 ms) --`,
  );
  console.log(
    `  whole tree (GNU time)        ${run.cpu.toFixed(2)} CPU s   (${(run.cpu / d).toFixed(3)} CPU s/stream s)`,
  );
  const line = (label: string, cpu: number): void =>
    console.log(
      `  ${label.padEnd(28)} ${cpu.toFixed(2)} CPU s   ${((100 * cpu) / run.cpu).toFixed(0).padStart(3)}% of tree   ${(cpu / decodeCpu).toFixed(2)}x decode-only`,
    );
  line('node (analyzer)', cpuOf(node));
  line(`ffmpeg child${ffmpeg.length > 1 ? ` (x${ffmpeg.length})` : ''}`, cpuOf(ffmpeg));
  line(`ffprobe${ffprobe.length > 1 ? ` (x${ffprobe.length})` : ''}`, cpuOf(ffprobe));
  console.log(`  (sampled sum ${sampled.toFixed(2)} CPU s; the rest is ticks after the last poll)`);
  const child = ffmpeg[0];
  if (!child || child.cmdline.length === 0) {
    console.log('  (no ffmpeg child seen: cannot run its command alone)');
    return;
  }
  console.log(`  ffmpeg child: ${child.cmdline.slice(1).join(' ')}`);
  // The child writes frames to fds 3 and 4 (pipe:3, pipe:4); /dev/null stands in for node.
  const devnull = openSync('/dev/null', 'w');
  try {
    const alone = await measure(child.cmdline, { extraFds: [devnull, devnull], sampleMs: 200 });
    line('that ffmpeg command alone', alone.cpu);
  } finally {
    closeSync(devnull);
  }
}

// ---------------------------------------------------------------------------------------------
// live soak

interface SoakSample {
  t: number;
  rssKiB: number;
}

function stop(child: ChildProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

async function soak(seconds: number, width: number, height: number): Promise<void> {
  const udp = await freeUdpPort();
  const metricsPort = await freeTcpPort();
  const url = `udp://127.0.0.1:${udp}?pkt_size=1316`;
  console.log(`\n== live soak: ${width}x${height} ${FPS} fps real-time MPEG-TS over ${url}, ${seconds} s ==`);
  // The analyzer first, so its ffmpeg is listening when the sender starts.
  const analyzer = spawn(
    process.execPath,
    [...CLI_ARGV, 'analyze', url, '--format', 'jsonl', '--metrics-port', String(metricsPort)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const events = new Tail(100_000);
  const logs = new Tail();
  analyzer.stdout.on('data', (b: Buffer) => events.push(b));
  analyzer.stderr.on('data', (b: Buffer) => logs.push(b));
  await sleep(500);
  const sender = spawn(
    'ffmpeg',
    syntheticStreamArgs({ width, height, fps: FPS, duration: null, schedule: [], realtime: true, output: url }),
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const senderErr = new Tail();
  sender.stderr.on('data', (b: Buffer) => senderErr.push(b));
  const stopAll = async (): Promise<void> => {
    await stop(analyzer, 'SIGTERM', 10_000);
    await stop(sender, 'SIGTERM', 5_000);
  };
  try {
    if (analyzer.pid === undefined) throw new Error('cannot start the analyzer');
    const sampler = new TreeSampler(analyzer.pid, true);
    const samples: SoakSample[] = [];
    const t0 = performance.now();
    for (let next = 5; next <= seconds; next += 5) {
      await sleep(Math.max(0, t0 + next * 1000 - performance.now()));
      if (analyzer.exitCode !== null)
        throw new Error(`analyzer exited early (${analyzer.exitCode}): ${logs.toString()}`);
      if (sender.exitCode !== null)
        throw new Error(`sender exited early (${sender.exitCode}): ${senderErr.toString()}`);
      samples.push({ t: next, rssKiB: sampler.sample() });
    }
    // Metrics while still running: the counters as the stream lived them.
    const metrics = await fetchText(`http://127.0.0.1:${metricsPort}/metrics`);
    const tree = sampler.stop();
    printSoak(seconds, samples, metrics, tree.seen, tree.peakRssSumKiB);
  } finally {
    await stopAll();
  }
  const lines = events
    .toString()
    .split('\n')
    .filter((l) => l.trim()).length;
  console.log(
    `  defect events printed (incl. those ended at SIGTERM): ${lines}${lines ? `: ${eventSummary(events.toString())}` : ''}`,
  );
}

function printSoak(
  seconds: number,
  samples: readonly SoakSample[],
  metrics: string,
  seen: Map<number, SeenProcess>,
  peakKiB: number,
): void {
  const first = samples.filter((s) => s.t <= 60);
  const last = samples.filter((s) => s.t > seconds - 60);
  const firstAvg = kib2mib(mean(first.map((s) => s.rssKiB)));
  const lastAvg = kib2mib(mean(last.map((s) => s.rssKiB)));
  const frames = metricSum(metrics, 'streamqc_frames_total');
  const dropped = metricSum(metrics, 'streamqc_frames_dropped_total');
  const lag = metricSum(metrics, 'streamqc_analysis_lag_seconds');
  const nodeCpu = cpuOf(byComm(seen, 'node'));
  const ffmpegCpu = cpuOf(byComm(seen, 'ffmpeg')) + cpuOf(byComm(seen, 'ffprobe'));
  console.log(`  RSS (node + ffmpeg), sampled every 5 s: ${samples.length} samples`);
  console.log(`  first-minute average  ${firstAvg.toFixed(1)} MiB   (${first.length} samples)`);
  console.log(
    `  last-minute average   ${lastAvg.toFixed(1)} MiB   (${last.length} samples)${seconds < 120 ? '  (windows overlap: soak < 120 s)' : ''}`,
  );
  console.log(
    `  last/first ratio      ${(lastAvg / firstAvg).toFixed(3)}   (flat = ~1.0)   peak ${kib2mib(peakKiB).toFixed(1)} MiB`,
  );
  console.log(`  RSS trace MiB: ${samples.map((s) => kib2mib(s.rssKiB).toFixed(0)).join(' ')}`);
  const pct = frames && dropped !== null ? ` (${((100 * dropped) / frames).toFixed(2)}%)` : '';
  console.log(
    `  frames ${frames ?? 'n/a'}, dropped ${dropped ?? 'n/a'}${pct}, analysis lag ${lag ?? 'n/a'} s (from /metrics)`,
  );
  console.log(
    `  CPU over the soak: node ${nodeCpu.toFixed(1)} s, ffmpeg ${ffmpegCpu.toFixed(1)} s = ${((nodeCpu + ffmpegCpu) / seconds).toFixed(3)} CPU s per stream s`,
  );
}

// ---------------------------------------------------------------------------------------------
// main

function ffmpegVersion(): string {
  const first = execFileSync('ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  return first.split(' ').slice(0, 3).join(' ');
}

/** The printed table's figures as the --json document holds them. */
function costSize(facts: MediaFacts, rows: Record<Tool, Row>, runs: number, streamqcEvents: string): CostSize {
  const d = facts.duration;
  const row = (tool: Tool): CostSize['tools'][Tool] => {
    const r = rows[tool];
    return {
      tool,
      label: TOOL_LABEL[tool],
      wallSeconds: r.wall,
      cpuSeconds: r.cpu,
      cpuPerStreamSecond: r.cpu / d,
      realtimeFactor: d / r.wall,
      peakRssMiB: r.peakRssMiB,
      maxSingleProcessMiB: r.maxSingleMiB,
      cpuSecondsPerRun: r.cpuRuns,
    };
  };
  return {
    width: facts.width,
    height: facts.height,
    fps: FPS,
    durationSeconds: d,
    bitRate: facts.bitRate,
    runs,
    streamqcEvents,
    tools: { streamqc: row('streamqc'), decode: row('decode'), chain: row('chain') },
  };
}

async function benchSize(height: number, runs: number, split: boolean): Promise<CostSize> {
  const width = Math.round((height * 16) / 9);
  const t0 = performance.now();
  const { path, fresh } = await cachedClip(`clip-${height}p${FPS}`, costClipRecipe(width, height));
  const facts = probeClip(path);
  console.log(
    `\nclip ${path}${fresh ? ` (generated in ${((performance.now() - t0) / 1000).toFixed(0)} s)` : ' (cached)'}`,
  );
  const results: Record<Tool, Measured[]> = { streamqc: [], decode: [], chain: [] };
  // Interleaved runs: a burst of load from a neighbour spreads over the tools, not one of them.
  for (let i = 0; i < runs; i++) {
    for (const tool of TOOLS) {
      results[tool].push(await measure(commandFor(tool, path), { keepStdout: tool === 'streamqc' }));
    }
  }
  const streamqcEvents = eventSummary(results.streamqc[0]!.stdout);
  console.log(`streamqc events (run 1): ${streamqcEvents}`);
  const rows = {
    streamqc: summarize(results.streamqc),
    decode: summarize(results.decode),
    chain: summarize(results.chain),
  };
  printTable(`${height}p${FPS}`, facts, rows, runs);
  if (split) await cpuSplit(path, facts, rows.decode.cpu);
  return costSize(facts, rows, runs, streamqcEvents);
}

function parseSize(text: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(text);
  if (!m) throw new Error(`--soak-size: "${text}" is not WIDTHxHEIGHT`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      sizes: { type: 'string', default: '720,1080' },
      'no-split': { type: 'boolean', default: false },
      soak: { type: 'string', default: '0' },
      'soak-size': { type: 'string', default: '1280x720' },
      json: { type: 'string' },
    },
  });
  const runs = Number(values.runs);
  const soakSeconds = Number(values.soak);
  const sizes = values.sizes.split(',').filter(Boolean).map(Number);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: "${values.runs}" is not a positive integer`);
  if (!Number.isFinite(soakSeconds) || soakSeconds < 0)
    throw new Error(`--soak: "${values.soak}" is not a number of seconds`);
  if (!sizes.every((h) => Number.isInteger(h) && h > 0))
    throw new Error(`--sizes: "${values.sizes}" is not a list of heights`);
  const soakSize = parseSize(values['soak-size']);

  const startedAt = new Date().toISOString();
  const loadAverageStart = loadavg();
  console.log(`analyzer benchmark ${new Date().toISOString()}  (figures only; nothing is asserted)`);
  console.log(
    `machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${ffmpegVersion()}, node ${process.version}`,
  );
  console.log(
    `load average at start: ${loadAverageStart.map((x) => x.toFixed(2)).join(' ')}   clip cache: ${CACHE_DIR}`,
  );
  console.log('CPU = user+sys of the whole process tree (GNU time); peak RSS = max over time of the sum of');
  console.log('VmRSS of node and its children, polled every 50 ms; reference: decode-only of 30 s 1080p30 ~4.4 CPU s');
  const measured: CostSize[] = [];
  for (const h of sizes) measured.push(await benchSize(h, runs, !values['no-split']));
  if (soakSeconds > 0) await soak(soakSeconds, soakSize.width, soakSize.height);
  console.log(
    `\nload average at end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  if (values.json) {
    const result: AnalyzerBenchResult = {
      startedAt,
      finishedAt: new Date().toISOString(),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? '?',
      ffmpeg: ffmpegVersion(),
      node: process.version,
      loadAverageStart,
      loadAverageEnd: loadavg(),
      sizes: measured,
    };
    writeResultJson(values.json, result);
    console.log(`figures written to ${values.json}`);
  }
}

await main();
