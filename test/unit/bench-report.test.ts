import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccuracyResult, DefectType, TypeScore } from '../bench/accuracy/types.js';
import type { AnalyzerBenchResult, CostRow, CostSize, CostTool, OperatorBenchResult } from '../bench/results.js';
import { cpuChart, f1Chart, renderReport, type ReportInput } from '../bench/report.js';

function score(type: DefectType, truth: number, detected: number, tp: number, onset = 0.2): TypeScore {
  const precision = tp / detected;
  const recall = tp / truth;
  return {
    type,
    truthEvents: truth,
    detectedEvents: detected,
    truePositives: tp,
    precision,
    recall,
    f1: (2 * precision * recall) / (precision + recall),
    onsetErrorMean: onset,
    onsetErrorMedian: onset,
    onsetErrorP95: onset + 0.1,
    onsetErrorMaxAbs: onset + 0.2,
  };
}

const tolerance = { onsetSeconds: 1, why: 'fixture' };
const accuracy: AccuracyResult = {
  clips: [
    {
      name: 'mandel-1080p-h264-ts-black',
      path: '/tmp/x.ts',
      mode: 'live',
      outages: [{ start: 40, end: 45 }],
      container: 'mpegts',
      videoCodec: 'h264',
      width: 1920,
      height: 1080,
      fps: 30,
      duration: 60,
      content: 'zooming Mandelbrot, tone',
      truth: [
        { type: 'stall', start: 40, end: 45 },
        { type: 'black', start: 10, end: 13 },
      ],
    },
  ],
  runs: [
    // streamqc finds the stall and reports black late; a decode_error at the outage's end is excused.
    {
      tool: 'streamqc',
      clip: 'mandel-1080p-h264-ts-black',
      wallSeconds: 60,
      cpuSeconds: 20,
      events: [
        { type: 'stall', start: 40.2, end: 45 },
        { type: 'black', start: 12, end: 13 },
        { type: 'decode_error', start: 45.1, end: 45.2 },
      ],
    },
    {
      tool: 'ffmpeg',
      clip: 'mandel-1080p-h264-ts-black',
      wallSeconds: 30,
      cpuSeconds: 30,
      events: [{ type: 'black', start: 10, end: 13 }],
    },
  ],
  scores: {
    // black meets its target; blur misses recall (17 of 20 = 0.85 < 0.9); stall is streamqc's only.
    streamqc: [score('blur', 20, 17, 17), score('black', 10, 10, 10), score('stall', 5, 5, 5)],
    ffmpeg: [score('black', 10, 11, 9), score('blur', 20, 30, 12)],
  },
  tolerances: {
    black: tolerance,
    freeze: tolerance,
    silence: tolerance,
    loudness: tolerance,
    clipping: tolerance,
    blockiness: tolerance,
    corruption: tolerance,
    blur: tolerance,
    stall: tolerance,
    decode_error: tolerance,
    av_sync: tolerance,
    format_change: tolerance,
  },
};

function costRow(tool: CostTool, cpu: number, wall: number, rss: number): CostRow {
  return {
    tool,
    label: tool,
    wallSeconds: wall,
    cpuSeconds: cpu,
    cpuPerStreamSecond: cpu / 30,
    realtimeFactor: 30 / wall,
    peakRssMiB: rss,
    maxSingleProcessMiB: rss - 10,
    cpuSecondsPerRun: [cpu, cpu, cpu],
  };
}

function costSize(height: number, streamqcCpu: number, decodeCpu: number): CostSize {
  return {
    width: Math.round((height * 16) / 9),
    height,
    fps: 30,
    durationSeconds: 30,
    bitRate: 7e6,
    runs: 3,
    streamqcEvents: 'black@20.0-23.0',
    tools: {
      streamqc: costRow('streamqc', streamqcCpu, 5, 180),
      decode: costRow('decode', decodeCpu, 3, 90),
      chain: costRow('chain', 9, 6, 120),
    },
  };
}

const cost: AnalyzerBenchResult = {
  startedAt: '2026-01-01T00:00:00Z',
  finishedAt: '2026-01-01T00:05:00Z',
  cpus: 2,
  cpuModel: 'Test CPU',
  ffmpeg: 'ffmpeg version 5.1',
  node: 'v20.0.0',
  loadAverageStart: [0.5, 0.5, 0.5],
  loadAverageEnd: [1, 1, 1],
  // 720p: 3.0 / 2.5 = 1.20x decode (met); 1080p: 7.2 / 4.5 = 1.60x decode (missed); 30 s in 5 s wall = 6x real time (met).
  sizes: [costSize(720, 3.0, 2.5), costSize(1080, 7.2, 4.5)],
};

const operator: OperatorBenchResult = {
  startedAt: '2026-01-01T00:00:00Z',
  finishedAt: '2026-01-01T00:20:00Z',
  kubeApiserverVersion: 'v1.36.3',
  concurrency: 32,
  rows: [
    {
      monitors: 1000,
      createSeconds: 20,
      allRunningSeconds: 42.5,
      running: 1000,
      pods: 1000,
      scheduled: 1000,
      operatorPeakRssMiB: 120,
      steadyWindowSeconds: 60,
      steadyWritesOnOperatorResources: 12,
      steadyOperatorStatusWrites: 0,
      steadyOperatorWrites: 0,
      steadyOperatorWriteSample: [],
    },
    {
      monitors: 5000,
      createSeconds: 100,
      allRunningSeconds: 310,
      running: 5000,
      pods: 5000,
      scheduled: 5000,
      operatorPeakRssMiB: 200,
      operatorCpuSeconds: 41.44,
      steadyWindowSeconds: 60,
      steadyWritesOnOperatorResources: 40,
      steadyOperatorStatusWrites: 0,
      steadyOperatorWrites: 3,
      steadyOperatorWriteSample: ['create events bench/m1.abc'],
    },
  ],
};

const base: ReportInput = {
  generatedAt: '2026-01-01T01:00:00.000Z',
  generatedBy: 'npm run bench',
  machine: {
    cpuModel: 'Test CPU',
    cores: 2,
    memoryGiB: 7.8,
    os: 'Debian GNU/Linux 12, kernel 6.1',
    node: 'v20.0.0',
    ffmpeg: 'ffmpeg version 5.1.6',
    kubeApiserver: 'v1.36.3',
    streamqc: '0.1.0',
  },
  accuracy: { ran: true, result: accuracy, seconds: 600 },
  cost: { ran: true, result: cost, seconds: 300 },
  operator: { ran: false, reason: 'skipped with --skip-operator' },
  conformance: {
    ran: true,
    seconds: 90,
    result: {
      rows: [
        {
          caseId: '3341-13-2',
          reading: 'max M',
          expected: '-23.0 ±0.1',
          streamqc: '-23.02 pass',
          ffmpeg: '-23.20 FAIL',
          streamqcPasses: true,
          ffmpegPasses: false,
        },
        {
          caseId: '3342-1',
          reading: 'LRA',
          expected: '10.0 ±1',
          streamqc: '10.00 pass',
          ffmpeg: '10.00 pass',
          streamqcPasses: true,
          ffmpegPasses: true,
        },
      ],
    },
  },
  charts: { f1: { drawn: true }, cpu: { drawn: true } },
};

/** The first table row (after the heading `after`, if given) whose first cell is `first`, as trimmed cells. */
function row(md: string, first: string, after = ''): string[] {
  const from = md.indexOf(after);
  assert.ok(from >= 0, `a heading "${after}"`);
  const line = md
    .slice(from)
    .split('\n')
    .find((l) => l.startsWith(`| ${first} |`));
  assert.ok(line, `a table row starting with "${first}"`);
  return line
    .split('|')
    .slice(1, -1)
    .map((c) => c.trim());
}

test('the accuracy table shows both tools per type, met where met and MISSED with the reason where not', () => {
  const md = renderReport(base);
  assert.deepEqual(row(md, 'black'), [
    'black',
    '10',
    '1.000',
    '1.000',
    '1.000',
    '0.818',
    '0.900',
    '0.857',
    'P, R >= 0.98; F1 >= ffmpeg',
    'met',
  ]);
  const blur = row(md, 'blur');
  assert.deepEqual(blur.slice(0, 8), ['blur', '20', '1.000', '0.850', '0.919', '0.400', '0.600', '0.480']);
  assert.equal(blur[9], '**MISSED**: recall 0.850 < 0.9');
  // A type only streamqc detects: ffmpeg's cells say so, and no F1 comparison is asked.
  assert.deepEqual(row(md, 'stall').slice(5), ['n/a', 'n/a', 'n/a', 'P, R >= 0.98', 'met']);
  // Types in DESIGN.md's order, whatever order the scorer wrote them in.
  assert.ok(md.indexOf('#### black') < md.indexOf('#### blur') && md.indexOf('#### blur') < md.indexOf('#### stall'));
  assert.deepEqual(row(md, 'streamqc', '#### black').slice(1), [
    '10',
    '10',
    '10',
    '1.000',
    '1.000',
    '1.000',
    '0.20',
    '0.20',
    '0.30',
    '0.40',
  ]);
  assert.deepEqual(row(md, 'ffmpeg', '#### stall').slice(1, 2), ['does not detect this type']);
});

test('the corpus table names each clip with its content, format, mode and injected defects', () => {
  const md = renderReport(base);
  assert.deepEqual(row(md, 'mandel-1080p-h264-ts-black'), [
    'mandel-1080p-h264-ts-black',
    'synthetic',
    'zooming Mandelbrot, tone',
    '1920x1080 @ 30 fps',
    'h264',
    'mpegts',
    'live over UDP, 1 outage(s)',
    '60.0',
    'black 10.0-13.0 s, stall 40.0-45.0 s',
  ]);
});

test('the cost tables carry the figures and judge each target', () => {
  const md = renderReport(base);
  assert.deepEqual(row(md, 'streamqc (all detectors)').slice(1), [
    '5.00',
    '3.00',
    '0.100',
    '6.0',
    '180',
    '170',
    '1.20',
  ]);
  assert.deepEqual(row(md, '720p: streamqc CPU <= 1.5x ffmpeg decode-only'), [
    '720p: streamqc CPU <= 1.5x ffmpeg decode-only',
    '1.20x',
    'met',
  ]);
  assert.deepEqual(row(md, '1080p: streamqc CPU <= 1.5x ffmpeg decode-only').slice(1), ['1.60x', '**MISSED**']);
  assert.deepEqual(row(md, '1080p: streamqc >= 5x real time').slice(1), ['6.0x', 'met']);
  assert.deepEqual(row(md, '1080p: streamqc peak RSS (node + ffmpeg) <= 300 MiB').slice(1), ['180 MiB', 'met']);
});

test('the summary counts met and missed targets and lists the missed ones', () => {
  const md = renderReport(base);
  // 3 accuracy + 5 cost targets; blur and 1080p CPU missed.
  assert.match(md, /7 of 9 targets met, 2 missed\. Not run in this report: operator scale\./);
  assert.match(md, /- \*\*MISSED\*\*: blur: P, R >= 0\.9; F1 >= ffmpeg \(recall 0\.850 < 0\.9\)/);
  assert.match(md, /- \*\*MISSED\*\*: 1080p: streamqc CPU <= 1\.5x ffmpeg decode-only \(1\.60x\)/);
});

test('a skipped section says "not run" with the reason and shows no figures', () => {
  const md = renderReport(base);
  assert.match(md, /## Operator scale\n\n_Not run in this report: skipped with --skip-operator\._/);
  assert.doesNotMatch(md, /monitors Running in/);
});

test('the operator table and its targets, with a late convergence and steady-state writes MISSED', () => {
  const md = renderReport({ ...base, operator: { ran: true, result: operator, seconds: 1200 } });
  assert.deepEqual(row(md, '5000'), [
    '5000',
    '100.0',
    '310.0',
    '5000 / 5000',
    '5000 / 5000',
    '200',
    '41.4',
    '60',
    '3',
    '0',
    '40',
  ]);
  // Figures from before the CPU time was measured say so.
  assert.equal(row(md, '1000')[6], 'n/a');
  assert.deepEqual(row(md, '1000 monitors Running in <= 60 s').slice(1), ['42.5 s', 'met']);
  assert.deepEqual(row(md, '5000 monitors Running in <= 300 s').slice(1), ['310.0 s', '**MISSED**']);
  assert.deepEqual(row(md, 'operator peak RSS <= 256 MiB at 5000 monitors').slice(1), ['200 MiB', 'met']);
  assert.equal(row(md, '5000 monitors: zero operator writes in 60 s of steady state')[2], '**MISSED**');
  assert.ok(
    row(md, '5000 monitors: zero operator writes in 60 s of steady state')[1]!.includes('create events bench/m1.abc'),
  );
  // Writes by other clients (12 in the apiserver's metrics) do not count against the operator.
  assert.equal(row(md, '1000 monitors: zero operator writes in 60 s of steady state')[2], 'met');
});

test('the charts are linked as images, or say why they were not drawn', () => {
  const md = renderReport(base);
  assert.ok(md.includes('![F1 per defect type, streamqc vs ffmpeg](benchmarks/f1-per-type.png)'));
  assert.ok(md.includes('![CPU seconds per stream second](benchmarks/cpu-per-stream-second.png)'));
  const noFont = renderReport({
    ...base,
    charts: { f1: { drawn: true }, cpu: { drawn: false, reason: 'font missing' } },
  });
  assert.ok(noFont.includes('_Chart not drawn: font missing._'));
  assert.ok(!noFont.includes('benchmarks/cpu-per-stream-second.png'));
});

test('the report names the machine and versions and how to regenerate it', () => {
  const md = renderReport(base);
  assert.deepEqual(row(md, 'CPU'), ['CPU', 'Test CPU, 2 logical cores']);
  assert.deepEqual(row(md, 'kube-apiserver'), ['kube-apiserver', 'v1.36.3']);
  assert.match(md, /`npm run bench` runs all five benchmarks and rewrites this file/);
});

test('the F1 chart has one group per scored type in order, with no ffmpeg bar where ffmpeg cannot detect', () => {
  const chart = f1Chart(accuracy);
  assert.deepEqual(chart.groups, ['black', 'blur', 'stall']);
  assert.deepEqual(
    chart.series.map((s) => s.name),
    ['streamqc', 'ffmpeg'],
  );
  assert.equal(chart.series[1]!.values[2], null);
  assert.ok(Math.abs((chart.series[0]!.values[1] ?? 0) - 0.919) < 0.001);
});

test('the CPU chart has one group per clip size and one series per tool', () => {
  const chart = cpuChart(cost);
  assert.deepEqual(chart.groups, ['720p30', '1080p30']);
  assert.deepEqual(
    chart.series.map((s) => s.name),
    ['streamqc (all detectors)', 'ffmpeg decode-only', 'ffmpeg detector chain'],
  );
  assert.deepEqual(
    chart.series[0]!.values.map((v) => Number(v?.toFixed(3))),
    [0.1, 0.24],
  );
});

test('every miss and false positive is listed per tool and clip', () => {
  const md = renderReport(base);
  assert.ok(md.includes('### Every miss and false positive'));
  assert.match(
    md,
    /streamqc +mandel-1080p-h264-ts-black: MISS black 10\.00\.\.13\.00 \(reported: black 12\.00\.\.13\.00\)/,
  );
  assert.match(md, /streamqc +mandel-1080p-h264-ts-black: FALSE black 12\.00\.\.13\.00/);
  assert.match(md, /not counted \(outage edge\) decode_error 45\.10\.\.45\.20/);
  assert.ok(!/ffmpeg +mandel-1080p-h264-ts-black: (MISS|FALSE) black/.test(md), 'ffmpeg found the black');
});

test('the loudness conformance section puts streamqc and ffmpeg ebur128 side by side, case by case', () => {
  const md = renderReport(base);
  const heading = '## Loudness conformance: EBU Tech 3341 and 3342, streamqc vs ffmpeg ebur128';
  assert.deepEqual(row(md, '3341-13-2', heading), ['3341-13-2', 'max M', '-23.0 ±0.1', '-23.02 pass', '-23.20 FAIL']);
  assert.deepEqual(row(md, '3342-1', heading), ['3342-1', 'LRA', '10.0 ±1', '10.00 pass', '10.00 pass']);
  assert.match(md, /streamqc passes 2 of 2 checks, ffmpeg \(5\.1\.6\) 1 of 2\./);
  const failing = renderReport({
    ...base,
    conformance: {
      ran: true,
      seconds: 90,
      result: {
        rows: [{ ...(base.conformance.ran ? base.conformance.result.rows[0]! : ({} as never)), streamqcPasses: false }],
      },
    },
  });
  assert.match(failing, /\*\*MISSED\*\*: every synthesisable EBU Tech 3341/);
  const skipped = renderReport({ ...base, conformance: { ran: false, reason: 'skipped with --skip-conformance' } });
  assert.match(skipped, /Not run in this report: .*loudness conformance/);
});

test('the report has a GPU path section that says it has not run and how to run scripts/gpu-check.sh', () => {
  const md = renderReport(base);
  const section = md.slice(md.indexOf('## GPU path'), md.indexOf('## Regenerating'));
  assert.match(section, /^## GPU path\n\nNot run yet: no machine with an NVIDIA GPU has been at hand/);
  assert.match(section, /`bash scripts\/gpu-check\.sh`/);
  assert.match(section, /5 CUDA execution provider not loadable/);
});

test('the transport section: P and R per check with their verdicts, and the CPU the checker adds against its 5% target', () => {
  const md = renderReport({
    ...base,
    transport: {
      ran: true,
      seconds: 60,
      result: {
        tolerance: 0.1,
        clips: ['constant rate', 'variable rate'],
        scenarios: 17,
        scores: [
          { check: 'continuity_count_error', truth: 6, found: 6, matched: 6, precision: 1, recall: 1 },
          { check: 'cue_out', truth: 2, found: 3, matched: 2, precision: 2 / 3, recall: 1 },
        ],
        cost: {
          bitrate: 20e6,
          seconds: 10,
          checkerCpuPerSecond: 0.015,
          analyzerCpuPerSecond: 0.225,
          addedRatio: 0.0714,
        },
      },
    },
  });
  assert.match(md, /## Transport checks: TR 101 290, cues and captions/);
  assert.match(md, /\| continuity_count_error \| 6 \| 6 \| 6 \| 1\.000 \| 1\.000 \|/);
  assert.match(
    md,
    /\| transport continuity_count_error: P and R = 1 on injected faults \| P 1\.000, R 1\.000 .*\| met \|/,
  );
  assert.match(md, /- \*\*MISSED\*\*: transport cue_out: P and R = 1 on injected faults \(P 0\.667, R 1\.000/);
  assert.match(
    md,
    /- \*\*MISSED\*\*: transport checker adds <= 5% to the analyzer's CPU at 20 Mbit\/s \(7\.1% \(1\.5% of a core\)\)/,
  );
  const skipped = renderReport({ ...base, transport: { ran: false, reason: 'skipped with --skip-transport' } });
  assert.match(
    skipped,
    /## Transport checks: TR 101 290, cues and captions\n\n_Not run in this report: skipped with --skip-transport\._/,
  );
  assert.match(skipped, /Not run in this report: .*transport/);
});
