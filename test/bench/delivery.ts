/**
 * The delivery benchmark, on the loopback fault origin of the delivery tests (test/delivery):
 *
 * 1. Precision and recall per delivery check: each fault of FAULTS is injected on a known
 *    rendition of a 3-rendition ladder at a known time, held, then cleared, round after round
 *    on another rendition each time; the events of the analyzer's HLS client and delivery
 *    detectors are scored against the findings each fault must raise (delivery-score.ts).
 * 2. A healthy run of the analyzer (as a user runs it: the CLI, decoding the top rendition) on a
 *    6-rendition ladder: every delivery event is a false alarm.
 * 3. Cost: CPU seconds (the analyzer and its ffmpeg children, GNU time) and bytes the origin
 *    sent, for that run against the same analyzer decoding the top rendition's media playlist
 *    alone (no delivery client), run beside it on an origin of its own for as long. 1 s segments
 *    are the harshest case (every rendition's playlist reloaded each second); the healthy run and
 *    its cost are measured again at each longer duration of --segment-seconds (6 s: the target
 *    duration Apple's HLS authoring spec recommends).
 *
 *   node dist/test/bench/delivery.js [--rounds 3] [--healthy-seconds 300] [--segment-seconds 1,6]
 *                                    [--skip-faults] [--json FILE]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { DELIVERY_DEFECT_TYPES } from '../../analyzer/delivery/detectors/index.js';
import { CLI_ARGV } from '../analyzer/run-cli.js';
import {
  HlsOrigin,
  LADDER,
  LOOP_SEGMENTS,
  makeLadderMedia,
  SEGMENT_SECONDS,
  type RenditionFaults,
  type RenditionMedia,
  type RenditionSpec,
} from '../delivery/hls-origin.js';
import { ladderFollowed, nameOf, watch, type Watch } from '../delivery/watch.js';
import { measure } from './bench-util.js';
import {
  costRatios,
  DELIVERY_COST_TARGET,
  findingWindow,
  scoreDelivery,
  type DeliveryBenchResult,
  type DeliveryCost,
  type ExpectedFinding,
  type FaultRun,
  type FaultWindow,
  type FindingDue,
  type FoundEvent,
  type RunCost,
} from './delivery-score.js';

/** The ladder of the healthy and cost runs: six renditions, a common 16:9 ladder up to 720p. */
export const BENCH_LADDER: RenditionSpec[] = [720, 540, 432, 360, 270, 180].map((height) => ({
  name: `v${height}`,
  width: (height * 16) / 9,
  height,
}));

interface FaultPlan {
  name: string;
  set: (origin: HlsOrigin, media: RenditionMedia) => RenditionFaults;
  /** The fault's fields removed when it is cleared. */
  clear: (keyof RenditionFaults)[];
  holdSeconds: number;
  findings: { type: string; due: FindingDue }[];
}

/** `msn`, or the one after it when `msn` starts a loop of the origin's media (a tagged discontinuity). */
function nextWithinLoop(msn: number): number {
  return msn % LOOP_SEGMENTS === 0 ? msn + 1 : msn;
}

/** One fault per check (ladder_misaligned comes with the sequence rollback that causes it). */
export const FAULTS: FaultPlan[] = [
  {
    name: 'the playlist stops updating',
    set: (origin) => ({ frozenAt: origin.liveMsn() }),
    clear: ['frozenAt'],
    holdSeconds: 3.5,
    findings: [{ type: 'playlist_stale', due: 'inject' }],
  },
  {
    name: 'EXT-X-MEDIA-SEQUENCE rolled back by 3',
    set: () => ({ sequenceRollback: 3 }),
    clear: ['sequenceRollback'],
    holdSeconds: 4,
    findings: [
      { type: 'media_sequence', due: 'inject' },
      { type: 'ladder_misaligned', due: 'inject' },
      { type: 'media_sequence', due: 'clear' },
    ],
  },
  {
    name: 'EXT-X-DISCONTINUITY tags dropped',
    set: () => ({ dropDiscontinuity: true }),
    clear: ['dropDiscontinuity'],
    holdSeconds: 3,
    findings: [
      { type: 'discontinuity_sequence', due: 'inject' },
      { type: 'discontinuity_sequence', due: 'clear' },
    ],
  },
  {
    name: 'EXTINF 2.5 s over a 1 s target duration',
    set: () => ({ declaredDuration: 2.5 }),
    clear: ['declaredDuration'],
    holdSeconds: 3,
    findings: [{ type: 'segment_duration', due: 'inject' }],
  },
  {
    name: 'EXT-X-PROGRAM-DATE-TIME jumps 5 s',
    // Not at a loop point: a date may jump at an EXT-X-DISCONTINUITY (RFC 8216 4.3.2.3), so that is no fault.
    set: (origin) => ({ dateJump: { fromMsn: nextWithinLoop(origin.liveMsn() + 1), seconds: 5 } }),
    clear: ['dateJump'],
    holdSeconds: 4,
    // Cleared, every listed date moves back at once: no jump within a playlist, so no finding.
    findings: [{ type: 'program_date_time', due: 'inject' }],
  },
  {
    name: 'two segment requests answered 404',
    set: () => ({ failSegments: { status: 404, count: 2 } }),
    clear: ['failSegments'],
    holdSeconds: 3,
    findings: [{ type: 'http_error', due: 'inject' }],
  },
  {
    name: 'segments sent 2x slower than real time',
    set: () => ({ slowFactor: 2 }),
    clear: ['slowFactor'],
    holdSeconds: 4,
    findings: [{ type: 'segment_slow', due: 'inject' }],
  },
  {
    name: 'the variant left out of the multivariant playlist',
    set: () => ({ removed: true }),
    clear: ['removed'],
    holdSeconds: 4,
    findings: [{ type: 'rendition_down', due: 'inject' }],
  },
  {
    name: 'BANDWIDTH declared at a third of the peak',
    set: (_origin, media) => ({ declare: { bandwidth: Math.round(media.peakBitrate / 3) } }),
    clear: ['declare'],
    holdSeconds: 4,
    findings: [{ type: 'bandwidth_mismatch', due: 'inject' }],
  },
  {
    name: 'RESOLUTION declared 1920x1080',
    set: () => ({ declare: { resolution: '1920x1080' } }),
    clear: ['declare'],
    holdSeconds: 4,
    findings: [{ type: 'variant_mismatch', due: 'inject' }],
  },
];

/**
 * Windows in target durations. A stale playlist's defect starts when it last advanced (up to a
 * target duration before the freeze); a condition is judged within a few reloads; after a fault
 * is cleared the ladder needs a few reloads to settle (a frozen rendition catches up).
 */
const BEFORE = 2 * SEGMENT_SECONDS;
const AFTER_CLEAR = 3 * SEGMENT_SECONDS;
const SETTLE = 5 * SEGMENT_SECONDS;

function eventOf(e: { type: string; start: number; detail?: Record<string, unknown> }): FoundEvent {
  const rendition = e.detail?.rendition;
  return { type: e.type, rendition: typeof rendition === 'string' ? rendition : null, start: e.start };
}

function clearFault(origin: HlsOrigin, rendition: string, fields: (keyof RenditionFaults)[]): void {
  const faults = Object.entries(origin.faults.get(rendition) ?? {}).filter(
    ([field]) => !fields.includes(field as keyof RenditionFaults),
  );
  origin.faults.set(rendition, Object.fromEntries(faults));
}

/** Injects every fault `rounds` times, each round shifted one rendition down the ladder. */
async function faultRounds(
  w: Watch,
  media: RenditionMedia[],
  rounds: number,
): Promise<{ runs: FaultRun[]; expected: ExpectedFinding[]; windows: FaultWindow[] }> {
  const runs: FaultRun[] = [];
  const expected: ExpectedFinding[] = [];
  const windows: FaultWindow[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [i, plan] of FAULTS.entries()) {
      const target = media[(i + round) % media.length]!;
      const rendition = nameOf(media, target.spec.name);
      const injectedAt = w.now();
      w.origin.inject(target.spec.name, plan.set(w.origin, target));
      await sleep(plan.holdSeconds * 1000);
      const clearedAt = w.now();
      clearFault(w.origin, target.spec.name, plan.clear);
      runs.push({ fault: plan.name, rendition, injectedAt, clearedAt });
      console.error(`delivery bench: round ${round + 1}: ${plan.name} on ${rendition} at ${injectedAt.toFixed(1)} s`);
      for (const f of plan.findings) {
        const window = findingWindow(f.due, { injectedAt, clearedAt }, BEFORE, AFTER_CLEAR);
        expected.push({ type: f.type, rendition, ...window, fault: plan.name });
      }
      windows.push({ rendition, from: injectedAt - BEFORE, to: clearedAt + SETTLE });
      await sleep(SETTLE * 1000);
    }
  }
  return { runs, expected, windows };
}

async function precisionRecall(
  dir: string,
  rounds: number,
): Promise<Pick<DeliveryBenchResult, 'faults' | 'events' | 'scores' | 'ladder'>> {
  const media = await makeLadderMedia(join(dir, 'faults'), LADDER);
  const w = await watch(media);
  let plan: Awaited<ReturnType<typeof faultRounds>>;
  try {
    await ladderFollowed(w, media.length);
    plan = await faultRounds(w, media, rounds);
  } finally {
    await w.stop();
  }
  const events = w.started.map(eventOf);
  return {
    ladder: media.map((m) => nameOf(media, m.spec.name)),
    faults: plan.runs,
    events,
    scores: scoreDelivery(DELIVERY_DEFECT_TYPES, plan.expected, plan.windows, events),
  };
}

interface AnalyzerRun extends Required<RunCost> {
  events: FoundEvent[];
}

/** The CLI on `url` for `seconds` (then SIGTERM), under GNU time; bytes as the origin counted them. */
async function analyzerRun(origin: HlsOrigin, url: string, config: string, seconds: number): Promise<AnalyzerRun> {
  const before = origin.bytesServed;
  const argv = ['timeout', '--preserve-status', '-s', 'TERM', String(seconds), process.execPath, ...CLI_ARGV];
  const run = await measure([...argv, 'analyze', url, '--config', config, '--format', 'jsonl'], {
    keepStdout: true,
    sampleMs: 500,
    env: { ...process.env, STREAMQC_LOG_LEVEL: 'warn' },
  });
  const events = run.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => eventOf(JSON.parse(l) as { type: string; start: number; detail?: Record<string, unknown> }));
  const cpuByProcess: Record<string, number> = {};
  const processesSeen: Record<string, number> = {};
  for (const p of run.tree.seen.values()) {
    if (p.comm === 'timeout') continue;
    cpuByProcess[p.comm] = Math.round(((cpuByProcess[p.comm] ?? 0) + p.cpu) * 100) / 100;
    processesSeen[p.comm] = (processesSeen[p.comm] ?? 0) + 1;
  }
  return { cpuSeconds: run.cpu, bytes: origin.bytesServed - before, cpuByProcess, processesSeen, events };
}

async function healthyAndCost(
  dir: string,
  seconds: number,
  segmentSeconds: number,
): Promise<Pick<DeliveryBenchResult, 'healthy' | 'cost'>> {
  const media = await makeLadderMedia(join(dir, `ladder-${segmentSeconds}s`), BENCH_LADDER, { segmentSeconds });
  // Two origins of the same media, one per run: each counts the bytes of its own run.
  const origins = [new HlsOrigin(media), new HlsOrigin(media)] as const;
  try {
    const [ladderUrl, topUrl] = await Promise.all(origins.map((o) => o.listen()));
    const top = media[0]!;
    // The delivery options as a user leaves them (defaults), but on.
    const follow = join(dir, 'follow.json');
    writeFileSync(follow, JSON.stringify({ stream: 'bench', delivery: { enabled: true } }));
    const alone = join(dir, 'alone.json');
    writeFileSync(alone, JSON.stringify({ stream: 'bench', delivery: { enabled: false } }));
    // Side by side, not one after the other: on a shared machine both runs see the same load.
    console.error(
      `delivery bench: for ${seconds} s, the analyzer follows the ${media.length}-rendition ladder of ${segmentSeconds} s segments and, beside it, decodes ${top.spec.name} alone`,
    );
    const [ladder, single] = await Promise.all([
      analyzerRun(origins[0], ladderUrl!, follow, seconds),
      analyzerRun(origins[1], topUrl!.replace('master.m3u8', `${top.spec.name}/index.m3u8`), alone, seconds),
    ]);
    const delivery = new Set(DELIVERY_DEFECT_TYPES);
    const otherEvents: Record<string, number> = {};
    for (const e of ladder.events.filter((x) => !delivery.has(x.type)))
      otherEvents[e.type] = (otherEvents[e.type] ?? 0) + 1;
    const ratios = costRatios(ladder, single);
    const falseAlarms = ladder.events.filter((e) => delivery.has(e.type));
    return {
      healthy: {
        seconds,
        renditions: media.length,
        falseAlarms,
        otherEvents,
      },
      cost: {
        segmentSeconds,
        seconds,
        ladder: costOf(ladder),
        top: costOf(single),
        cpuRatio: ratios.cpu,
        bytesRatio: ratios.bytes,
        falseAlarms: falseAlarms.length,
      },
    };
  } finally {
    await Promise.all(origins.map((o) => o.close()));
  }
}

const costOf = (run: AnalyzerRun): RunCost => ({
  cpuSeconds: run.cpuSeconds,
  bytes: run.bytes,
  cpuByProcess: run.cpuByProcess,
  processesSeen: run.processesSeen,
});

const pct = (n: number | null): string => (n === null ? 'n/a' : n.toFixed(3));

function printCost(c: DeliveryCost): void {
  console.log(
    `cost over ${c.seconds} s, ${c.segmentSeconds ?? 1} s segments: ladder ${c.ladder.cpuSeconds.toFixed(1)} CPU s, ${(c.ladder.bytes / 1e6).toFixed(1)} MB; ` +
      `top alone ${c.top.cpuSeconds.toFixed(1)} CPU s, ${(c.top.bytes / 1e6).toFixed(1)} MB; ` +
      `ratio CPU ${pct(c.cpuRatio)}x, bytes ${pct(c.bytesRatio)}x (target <= ${DELIVERY_COST_TARGET}x); ` +
      `${c.falseAlarms ?? 0} delivery false alarm(s)`,
  );
  console.log(
    `  CPU s by process: ladder ${JSON.stringify(c.ladder.cpuByProcess)}, top ${JSON.stringify(c.top.cpuByProcess)}`,
  );
  console.log(
    `  processes seen (sampled every 500 ms): ladder ${JSON.stringify(c.ladder.processesSeen)}, top ${JSON.stringify(c.top.processesSeen)}`,
  );
}

function print(result: DeliveryBenchResult): void {
  if (result.rounds > 0)
    console.log(
      `delivery checks, ${result.rounds} round(s) of ${FAULTS.length} faults on ${result.ladder.join(', ')}:`,
    );
  for (const s of result.scores) {
    console.log(
      `  ${s.type.padEnd(24)} expected ${s.expected} found ${s.found}  P ${pct(s.precision)} R ${pct(s.recall)}  false alarms ${s.falseAlarms}  consequences ${s.consequences}`,
    );
  }
  const h = result.healthy;
  console.log(
    `healthy ${h.renditions}-rendition ladder, ${h.seconds} s: ${h.falseAlarms.length} delivery false alarm(s)`,
  );
  for (const c of [result.cost, ...(result.longerSegments ?? [])]) printCost(c);
}

/** `--segment-seconds`: whole seconds, 1 s first (the harshest case, the one `cost` reports). */
function segmentDurations(text: string): number[] {
  const durations = text.split(',').map((d) => Number(d.trim()));
  if (durations[0] !== 1 || durations.some((d) => !Number.isInteger(d) || d < 1 || d > 10)) {
    throw new Error(`--segment-seconds must list whole seconds from 1 to 10 starting with 1 (e.g. 1,6), not "${text}"`);
  }
  return [...new Set(durations)];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      'healthy-seconds': { type: 'string', default: '300' },
      'segment-seconds': { type: 'string', default: '1,6' },
      'skip-faults': { type: 'boolean', default: false },
      json: { type: 'string' },
    },
  });
  const rounds = Number(values.rounds);
  const seconds = Number(values['healthy-seconds']);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`--rounds must be a whole number >= 1, not "${values.rounds}"`);
  if (!(seconds >= 10)) throw new Error(`--healthy-seconds must be at least 10, not "${values['healthy-seconds']}"`);
  const [first, ...longer] = segmentDurations(values['segment-seconds']);
  const dir = mkdtempSync(join(tmpdir(), 'streamqc-bench-delivery-'));
  try {
    // --skip-faults: the cost part alone (a result with no rounds and no scores).
    const scored = values['skip-faults']
      ? { rounds: 0, ladder: BENCH_LADDER.map((r) => r.name), faults: [], events: [], scores: [] }
      : { rounds, ...(await precisionRecall(dir, rounds)) };
    const rest = await healthyAndCost(dir, seconds, first!);
    const longerSegments: DeliveryCost[] = [];
    for (const d of longer) longerSegments.push((await healthyAndCost(dir, seconds, d)).cost);
    const result: DeliveryBenchResult = { ...scored, ...rest, longerSegments };
    print(result);
    if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) await main();
