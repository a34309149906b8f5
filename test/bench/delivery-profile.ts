/**
 * Where the analyzer's own CPU goes when it follows the bench ladder (test/bench/delivery.ts),
 * against the same analyzer decoding the top rendition's media playlist alone: both CLIs run
 * side by side under `node --cpu-prof` on loopback origins, then each profile's busy time (every
 * sample but idle) and its hottest functions by self time are printed, per 60 s. A tool for
 * finding what to cut, not a benchmark: the cost ratio is delivery.ts's.
 *
 *   node dist/test/bench/delivery-profile.js [--seconds 70] [--segment-seconds 1] [--top 25] [--keep DIR]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CLI_ARGV } from '../analyzer/run-cli.js';
import { HlsOrigin, makeLadderMedia } from '../delivery/hls-origin.js';
import { BENCH_LADDER } from './delivery.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** CPU seconds (user + system) of a live process, from /proc. */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The CLI under --cpu-prof for `seconds`, then SIGTERM; its profile and its CPU seconds (/proc, read before the signal). */
async function profiledRun(
  url: string,
  config: object,
  seconds: number,
  dir: string,
): Promise<{ profile: CpuProfile; cpu: number }> {
  const cfg = join(dir, 'config.json');
  writeFileSync(cfg, JSON.stringify(config));
  const child = spawn(
    process.execPath,
    ['--cpu-prof', '--cpu-prof-dir', dir, ...CLI_ARGV, 'analyze', url, '--config', cfg, '--format', 'jsonl'],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, STREAMQC_LOG_LEVEL: 'warn' } },
  );
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = cpuSecondsOf(child.pid!);
  child.kill('SIGTERM');
  await exited;
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
  return { profile: JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, cpu };
}

function summary(name: string, run: { profile: CpuProfile; cpu: number }, seconds: number, top: number): void {
  const { profile } = run;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!)!;
    const us = profile.timeDeltas[i] ?? 0;
    const f = node.callFrame;
    if (f.functionName === '(idle)') continue;
    busy += us;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + us);
  }
  const span = (profile.endTime - profile.startTime) / 1e6;
  const per60 = 60 / span;
  console.log(
    `${name}: profiled ${span.toFixed(1)} s; busy ${((busy / 1e6) * per60).toFixed(2)} s per 60 s; ` +
      `process CPU ${((run.cpu * 60) / seconds).toFixed(2)} s per 60 s`,
  );
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${((us / 1e3) * per60).toFixed(0).padStart(6)} ms/60s  ${key}`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '70' },
      'segment-seconds': { type: 'string', default: '1' },
      top: { type: 'string', default: '25' },
      keep: { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  const segmentSeconds = Number(values['segment-seconds']);
  const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'streamqc-delivery-profile-'));
  const media = await makeLadderMedia(join(dir, 'media'), BENCH_LADDER, { segmentSeconds });
  const origins = [new HlsOrigin(media), new HlsOrigin(media)] as const;
  try {
    const [ladderUrl, topUrl] = await Promise.all(origins.map((o) => o.listen()));
    const top = media[0]!.spec.name;
    const [ladder, alone] = await Promise.all([
      profiledRun(ladderUrl!, { stream: 'bench', delivery: { enabled: true } }, seconds, mkdtempSync(join(dir, 'l-'))),
      profiledRun(
        topUrl!.replace('master.m3u8', `${top}/index.m3u8`),
        { stream: 'bench', delivery: { enabled: false } },
        seconds,
        mkdtempSync(join(dir, 't-')),
      ),
    ]);
    const n = Number(values.top);
    summary(`ladder (${media.length} renditions, ${segmentSeconds} s segments)`, ladder, seconds, n);
    summary(`${top} alone`, alone, seconds, n);
  } finally {
    await Promise.all(origins.map((o) => o.close()));
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) await main();
