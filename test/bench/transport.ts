/**
 * The transport checks' benchmark: precision and recall per TR 101 290 check and per cue and
 * caption check, from the fault injector's known truth on ffmpeg-made clips (a constant-rate
 * one, a variable-rate one, a captioned one), and the checker's CPU cost at 20 Mbit/s beside
 * the whole analyzer's on the same file, in the same run.
 *
 *   node dist/test/bench/transport.js [--json FILE]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TransportChecker, type TransportEvent } from '../../analyzer/transport/checker.js';
import { CLI_ARGV } from '../analyzer/run-cli.js';
import { captionedClip, pair608 } from '../media/caption-sei.js';
import { cachedMedia } from '../media/fixtures.js';
import {
  AUDIO_PID,
  constantRateClip,
  PMT_PID,
  SOURCE_ARGS,
  VIDEO_ARGS,
  VIDEO_PID,
  variableRateClip,
} from '../media/transport-clips.js';
import {
  breakSection,
  dropAt,
  editAt,
  indicesOf,
  insertScte35,
  joinPackets,
  packetTimes,
  pidOf,
  removePid,
  scramble,
  setTransportError,
  spliceInsert,
  splitPackets,
  stopPcr,
  timeSignal,
  unitStart,
} from '../media/ts-faults.js';
import { startMeasured } from './accuracy/measured-process.js';
import { median } from './bench-util.js';
import { MATCH_TOLERANCE_SECONDS, scoreChecks, type CheckScore, type Marker } from './transport-score.js';

export interface TransportCost {
  /** The clip's transport rate, bits/s, and its length, seconds. */
  bitrate: number;
  seconds: number;
  /** The checker alone, fed the file in 1316-byte datagrams: CPU seconds per second of stream (a core's share). */
  checkerCpuPerSecond: number;
  /** The whole analyzer (node and its ffmpeg) on the same file, transport checks included. */
  analyzerCpuPerSecond: number;
  /** What the checker adds: its CPU over the rest of the analyzer's. */
  addedRatio: number;
}

export interface TransportBenchResult {
  tolerance: number;
  clips: string[];
  scenarios: number;
  scores: CheckScore[];
  cost: TransportCost;
}

interface Scenario {
  name: string;
  bytes: Uint8Array;
  truth: Marker[];
  pidErrorPeriod?: number;
}

const SCTE35_PID = 500;
const PCR_REPETITION_SECONDS = 0.04;
const PTS_PERIOD_SECONDS = 0.7;

/** What the checker reported, as markers: every error, each cue out and in, each caption channel's first data. */
function findings(bytes: Uint8Array, pidErrorPeriod: number | undefined): Marker[] {
  const events: TransportEvent[] = [];
  const checker = new TransportChecker((e) => events.push(e), pidErrorPeriod === undefined ? {} : { pidErrorPeriod });
  checker.push(bytes);
  checker.finish();
  const out: Marker[] = [];
  const channels = new Set<string>();
  for (const e of events) {
    if (e.kind === 'error') out.push({ check: e.check, t: e.t, pid: e.pid });
    else if (e.kind === 'cue' && e.direction !== 'none') out.push({ check: `cue_${e.direction}`, t: e.t, pid: e.pid });
    else if (e.kind === 'captions') {
      for (const c of e.channels.filter((c) => !channels.has(c))) {
        channels.add(c);
        out.push({ check: 'captions', t: e.t, pid: null });
      }
    }
  }
  return out;
}

const hasPcr = (p: Uint8Array): boolean => (p[3]! & 0x20) !== 0 && p[4]! > 0 && (p[5]! & 0x10) !== 0;

/** Packets of `pid` with payload, no adaptation field and no unit start, first at or after each time. */
function packetsAt(
  packets: readonly Uint8Array[],
  times: readonly number[],
  pid: number,
  at: readonly number[],
): number[] {
  const plain = indicesOf(packets, pid).filter((i) => (packets[i]![3]! & 0x20) === 0 && !unitStart(packets[i]!));
  return at.map((s) => plain.find((i) => times[i]! >= s)!);
}

/** The faults of one clip, each alone in its own copy, with what TR 101 290 says they are. */
function scenariosOf(name: string, clip: Uint8Array): Scenario[] {
  const packets = splitPackets(clip);
  const times = packetTimes(packets);
  const end = times.at(-1)!;
  const out: Scenario[] = [{ name: `${name}: clean`, bytes: clip, truth: [] }];

  const dropped = packetsAt(packets, times, VIDEO_PID, [1.5, 3.5, 5.5]);
  out.push({
    name: `${name}: three video packets lost`,
    bytes: joinPackets(dropAt(packets, dropped)),
    // Seen at the next packet of the PID, a fraction of a millisecond later.
    truth: dropped.map((i) => ({ check: 'continuity_count_error', t: times[i]!, pid: VIDEO_PID })),
  });

  const flagged = packetsAt(packets, times, VIDEO_PID, [2, 4, 6]);
  out.push({
    name: `${name}: transport_error_indicator on three packets`,
    bytes: joinPackets(editAt(packets, flagged, setTransportError)),
    truth: flagged.map((i) => ({ check: 'transport_error', t: times[i]!, pid: VIDEO_PID })),
  });

  const pats = indicesOf(packets, 0).filter((i) => unitStart(packets[i]!));
  const broken = [2.5, 5].map((s) => pats.find((i) => times[i]! >= s)!);
  out.push({
    name: `${name}: two PAT sections with a broken CRC`,
    bytes: joinPackets(editAt(packets, broken, breakSection)),
    // The PAT that failed is not there either, but the next one comes well within 0.5 s.
    truth: broken.map((i) => ({ check: 'crc_error', t: times[i]!, pid: 0 })),
  });

  const pcrs = packets.map((p, i) => (hasPcr(p) && pidOf(p) === VIDEO_PID ? i : -1)).filter((i) => i >= 0);
  const lastPcrBefore = (s: number): number => times[pcrs.filter((i) => times[i]! < s).at(-1)!]!;
  const firstPcrAfter = (s: number): number => times[pcrs.find((i) => times[i]! >= s)!]!;
  out.push({
    name: `${name}: PCR stopped for 1 s`,
    bytes: joinPackets(stopPcr(packets, 3, 4).packets),
    truth: [
      { check: 'pcr_repetition_error', t: lastPcrBefore(3) + PCR_REPETITION_SECONDS, pid: VIDEO_PID },
      { check: 'pcr_discontinuity_indicator_error', t: firstPcrAfter(4), pid: VIDEO_PID },
    ],
  });
  out.push({
    name: `${name}: PCR stopped 1 s before the end`,
    bytes: joinPackets(stopPcr(packets, end - 1, end + 1).packets),
    truth: [{ check: 'pcr_repetition_error', t: lastPcrBefore(end - 1) + PCR_REPETITION_SECONDS, pid: VIDEO_PID }],
  });

  const { packets: withoutAudio, removed } = removePid(packets, AUDIO_PID, 3, 4.5);
  const audio = indicesOf(packets, AUDIO_PID);
  const lastAudio = times[audio.filter((i) => times[i]! < 3).at(-1)!]!;
  const lastPts = times[audio.filter((i) => times[i]! < 3 && unitStart(packets[i]!)).at(-1)!]!;
  const backAt = times[audio.find((i) => times[i]! >= 4.5)!]!;
  out.push({
    name: `${name}: audio PID absent for 1.5 s (PID period 1 s)`,
    bytes: joinPackets(withoutAudio),
    pidErrorPeriod: 1,
    truth: [
      { check: 'pts_error', t: lastPts + PTS_PERIOD_SECONDS, pid: AUDIO_PID },
      { check: 'pid_error', t: lastAudio + 1, pid: AUDIO_PID },
      // A gap of n packets breaks the 4-bit counter unless n is a multiple of 16.
      ...(removed % 16 === 0 ? [] : [{ check: 'continuity_count_error', t: backAt, pid: AUDIO_PID }]),
    ],
  });

  const scrambled = packetsAt(packets, times, AUDIO_PID, [2, 3, 4]);
  out.push({
    name: `${name}: scrambled audio packets without a CAT`,
    bytes: joinPackets(editAt(packets, scrambled, scramble)),
    truth: [{ check: 'cat_error', t: times[scrambled[0]!]!, pid: null }],
  });

  return [...out, ...cueScenarios(name, packets)];
}

/** SCTE-35 cues take the place of null packets: only a constant-rate clip has them. */
function cueScenarios(name: string, packets: readonly Uint8Array[]): Scenario[] {
  if (!packets.some((p) => pidOf(p) === 0x1fff)) return [];
  const cues = insertScte35(packets, PMT_PID, SCTE35_PID, [
    { at: 1, section: spliceInsert({ eventId: 7, out: true, ptsSeconds: 1.5, durationSeconds: 2 }) },
    { at: 3, section: spliceInsert({ eventId: 7, out: false, ptsSeconds: 3.5 }) },
    { at: 5, section: timeSignal({ ptsSeconds: 5.5, segmentationEventId: 9, segmentationTypeId: 0x34 }) },
    { at: 6.5, section: timeSignal({ ptsSeconds: 7, segmentationEventId: 9, segmentationTypeId: 0x35 }) },
  ]);
  return [
    {
      name: `${name}: four SCTE-35 cues`,
      bytes: joinPackets(cues.packets),
      truth: ['cue_out', 'cue_in', 'cue_out', 'cue_in'].map((check, k) => ({
        check,
        t: cues.sentAt[k]!,
        pid: SCTE35_PID,
      })),
    },
  ];
}

/**
 * Caption data on CC1 in frames 25 to 74 as caption-sei.ts counts them; the truth is where
 * ffmpeg's own decoder finds the first frame with A/53 captions (its packet's byte position on
 * the clip's PCR timeline), so it does not rest on that helper's count of pictures.
 */
async function captionScenario(): Promise<Scenario> {
  const bytes = await captionedClip((frame) => (frame >= 25 && frame < 75 ? [pair608(0, 0x41, 0x42)] : null));
  const times = packetTimes(splitPackets(bytes));
  const dir = mkdtempSync(join(tmpdir(), 'streamqc-bench-captions-'));
  try {
    const file = join(dir, 'captioned.ts');
    writeFileSync(file, bytes);
    const frames = execFileSync(
      'ffprobe',
      [
        ...['-v', 'error', '-select_streams', 'v:0', '-show_frames'],
        ...['-show_entries', 'frame=pkt_pos:frame_side_data=side_data_type', '-of', 'compact', file],
      ],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    ).split('\n');
    const first = frames.find((line) => line.includes('ATSC A53 Part 4 Closed Captions'));
    const position = Number(/pkt_pos=(\d+)/.exec(first ?? '')?.[1]);
    if (!Number.isFinite(position)) throw new Error('ffprobe found no frame with A/53 captions in the captioned clip');
    const truth = [{ check: 'captions', t: times[Math.floor(position / 188)]!, pid: null }];
    return { name: 'captioned: CC1 where ffmpeg first decodes it', bytes, truth };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A 20 Mbit/s constant-rate TS, 10 s, 720p: the rate the CPU target names. */
function twentyMegabitClip(): Promise<string> {
  return cachedMedia('transport-20m', 'ts', (out) => [
    '-v',
    'error',
    '-y',
    ...SOURCE_ARGS(10).map((a) => a.replace('320x240', '1280x720')),
    ...VIDEO_ARGS,
    ...'-b:v 18M -maxrate 18M -bufsize 18M -c:a aac -b:a 128k -muxrate 20M -pcr_period 20 -f mpegts'.split(' '),
    out,
  ]);
}

const DATAGRAM = 1316;

function checkerCpuSeconds(bytes: Uint8Array): number {
  const checker = new TransportChecker(() => undefined);
  const before = process.cpuUsage();
  for (let at = 0; at < bytes.length; at += DATAGRAM) checker.push(bytes.subarray(at, at + DATAGRAM));
  checker.finish();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
}

async function measureCost(): Promise<TransportCost> {
  const file = await twentyMegabitClip();
  const bytes = readFileSync(file);
  const seconds = packetTimes(splitPackets(bytes)).at(-1)!;
  const bitrate = (bytes.length * 8) / seconds;
  const checker = median([1, 2, 3].map(() => checkerCpuSeconds(bytes)));
  const analyzer = (await startMeasured(process.execPath, [...CLI_ARGV, 'analyze', file], { timeoutMs: 600_000 }).done)
    .cpuSeconds;
  return {
    bitrate,
    seconds,
    checkerCpuPerSecond: checker / seconds,
    analyzerCpuPerSecond: analyzer / seconds,
    addedRatio: checker / Math.max(1e-9, analyzer - checker),
  };
}

export async function runTransportBench(): Promise<TransportBenchResult> {
  const clips: [string, Uint8Array][] = [
    ['constant rate', await constantRateClip()],
    ['variable rate', await variableRateClip()],
  ];
  const scenarios = [...clips.flatMap(([name, clip]) => scenariosOf(name, clip)), await captionScenario()];
  const scored = scenarios.map((s) => {
    const found = findings(s.bytes, s.pidErrorPeriod);
    console.error(`transport: ${s.name}: ${s.truth.length} truth, ${found.length} found`);
    if (process.env.STREAMQC_BENCH_DEBUG)
      console.error(
        JSON.stringify({ truth: s.truth, found }, (_k, v: unknown) =>
          typeof v === 'number' ? Math.round(v * 1000) / 1000 : v,
        ),
      );
    return { truth: s.truth, found };
  });
  return {
    tolerance: MATCH_TOLERANCE_SECONDS,
    clips: [...clips.map(([name]) => name), 'captioned'],
    scenarios: scenarios.length,
    scores: scoreChecks(scored),
    cost: await measureCost(),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'string' } } });
  const result = await runTransportBench();
  const text = `${JSON.stringify(result, null, 2)}\n`;
  if (values.json) writeFileSync(values.json, text);
  else process.stdout.write(text);
}

if (process.argv[1]?.endsWith('/bench/transport.js')) await main();
