/**
 * `streamqc demo`: the main job on a built-in default. A synthetic live stream (lavfi in
 * real time, MPEG-TS over UDP on loopback) with defects on a schedule is analysed live;
 * defects are shown as they start and clear, /metrics is served, and after `duration`
 * seconds it stops with a summary. The 60 s schedule repeats for longer runs; a shorter run
 * keeps the defects that fit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { defaultConfig } from './config.js';
import type { DefectType } from './detectors/types.js';
import { Analyzer, type ReportedEvent } from './pipeline.js';
import { ProbeServer } from './report/http.js';
import type { Logger } from './report/log.js';
import { formatEventText } from './report/events.js';
import { syntheticStreamArgs, type DefectWindow } from './synthetic-source.js';

export interface DemoOptions {
  duration: number;
  metricsPort: number;
  log: Logger;
}

/** One minute of scheduled defects. */
const SCHEDULE_60: readonly (DefectWindow | { type: 'stall'; start: number; end: number })[] = [
  { type: 'black', start: 6, end: 9 },
  { type: 'freeze', start: 11, end: 14 },
  { type: 'silence', start: 15, end: 18 },
  { type: 'blur', start: 19, end: 22.5 },
  { type: 'corrupt', start: 24, end: 25 },
  { type: 'quiet', start: 27, end: 39 },
  { type: 'clipping', start: 41, end: 42 },
  { type: 'stall', start: 45, end: 50 },
];

/** The minute's schedule repeated to cover `duration`, keeping what ends a second before it. */
export function demoSchedule(duration: number): (DefectWindow | { type: 'stall'; start: number; end: number })[] {
  const out: (DefectWindow | { type: 'stall'; start: number; end: number })[] = [];
  for (let cycle = 0; cycle * 60 < duration; cycle++) {
    for (const w of SCHEDULE_60) {
      const shifted = { ...w, start: w.start + cycle * 60, end: w.end + cycle * 60 };
      if (shifted.end <= duration - 1) out.push(shifted);
    }
  }
  return out;
}

/** A UDP port free on loopback right now (the sender binds nothing; the analyzer listens). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export async function runDemo(options: DemoOptions): Promise<number> {
  const { log } = options;
  const schedule = demoSchedule(options.duration);
  const stalls = schedule.filter((w) => w.type === 'stall');
  const port = await freeUdpPort();
  const url = `udp://127.0.0.1:${port}?pkt_size=1316`;
  const out = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };

  let sender: ChildProcess | null = null;
  const startSender = (offset: number): void => {
    const args = syntheticStreamArgs({
      width: 640,
      height: 360,
      fps: 25,
      duration: null,
      realtime: true,
      schedule: schedule.filter((w): w is DefectWindow => w.type !== 'stall'),
      scheduleOffset: offset,
      output: url,
    });
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    // The sender's complaints are log lines like the analyzer's own: JSON on stderr.
    createInterface({ input: child.stderr }).on('line', (line) => log.warn({ sender: 'ffmpeg' }, line));
    sender = child;
  };
  const stopSender = async (): Promise<void> => {
    const s = sender;
    sender = null;
    if (s?.exitCode !== null) return; // none, or already gone
    s.kill('SIGKILL');
    await new Promise((resolve) => s.once('close', resolve));
  };

  const config = defaultConfig();
  config.stream = 'demo';
  config.live = true;
  config.listenAddress = '127.0.0.1';
  config.ingest.openTimeout = 20;
  const counts = new Map<DefectType, { n: number; seconds: number }>();
  const analyzer = new Analyzer(config, url, {
    log,
    onDefect: (phase, event: ReportedEvent) => {
      out(formatEventText(phase, event));
      if (phase === 'ended' && event.end !== null) {
        const c = counts.get(event.type) ?? { n: 0, seconds: 0 };
        c.n++;
        c.seconds += event.end - event.start;
        counts.set(event.type, c);
      }
    },
  });
  const server = new ProbeServer({
    metrics: () => analyzer.metrics.text(),
    metricsContentType: analyzer.metrics.registry.contentType,
    status: () => analyzer.status(),
    ready: () => analyzer.ready,
    notReady: 'no media flowing',
  });
  let boundPort: number;
  try {
    boundPort = await server.listen(options.metricsPort, '127.0.0.1');
  } catch {
    boundPort = await server.listen(0, '127.0.0.1'); // the default port is taken: any free one
  }

  out(`streamqc demo: a ${options.duration} s synthetic live stream (640x360 25 fps H.264 + AAC over ${url})`);
  out(
    `defects injected on a schedule: ${schedule.map((w) => `${w.type} ${w.start.toFixed(0)}-${w.end.toFixed(0)} s`).join(', ')}`,
  );
  out(`metrics: http://127.0.0.1:${boundPort}/metrics   status: http://127.0.0.1:${boundPort}/status`);
  out('');

  const t0 = Date.now();
  startSender(0);
  const timers: NodeJS.Timeout[] = [];
  for (const stall of stalls) {
    timers.push(
      setTimeout(
        () =>
          void stopSender().then(() =>
            out(`         (demo: source stopped at ${stall.start.toFixed(0)} s to simulate an outage)`),
          ),
        stall.start * 1000,
      ),
    );
    timers.push(
      setTimeout(() => {
        out(`         (demo: source back at ${stall.end.toFixed(0)} s)`);
        startSender(stall.end);
      }, stall.end * 1000),
    );
  }
  const tty = process.stdout.isTTY; // undefined (falsy) when not a terminal, whatever the type says
  const heartbeat = setInterval(() => {
    const s = analyzer.status();
    const active = s.activeDefects.map((e) => e.type).join(', ') || 'none';
    const st = s.loudness.shortTermLufs === null ? '   n/a' : s.loudness.shortTermLufs.toFixed(1).padStart(6);
    const line = `  [${((Date.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${s.phase.padEnd(12)} frames ${String(s.counters.frames).padStart(5)}  dropped ${s.counters.framesDropped}  short-term ${st} LUFS  active: ${active}`;
    if (tty)
      process.stdout.write(`\r${line}\x1b[K`); // a progress line for a person, never on the log stream
    else if (Math.round((Date.now() - t0) / 1000) % 10 === 0) out(line);
  }, 1000);
  timers.push(setTimeout(() => analyzer.stop(), options.duration * 1000));

  const stopAll = (): void => analyzer.stop();
  process.on('SIGINT', stopAll);
  process.on('SIGTERM', stopAll);
  let code: number;
  try {
    const result = await analyzer.run();
    code = result.exitCode;
    if (result.message) log.error({ exitCode: code }, result.message);
  } finally {
    clearInterval(heartbeat);
    for (const t of timers) clearTimeout(t);
    process.off('SIGINT', stopAll);
    process.off('SIGTERM', stopAll);
    if (tty) process.stdout.write('\r\x1b[K');
    await stopSender();
    await server.close();
  }

  const s = analyzer.status();
  out('');
  out(
    `summary after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${s.counters.frames} frames analysed, ${s.counters.framesDropped} dropped, ` +
      `${s.counters.reconnects} reconnects, ${s.counters.decodeErrors} decode errors, integrated loudness ${s.loudness.integratedLufs?.toFixed(1) ?? 'n/a'} LUFS`,
  );
  out('defect         events  seconds');
  for (const [type, c] of [...counts.entries()].sort())
    out(`${type.padEnd(14)} ${String(c.n).padStart(6)}  ${c.seconds.toFixed(1).padStart(7)}`);
  if (counts.size === 0) out('(none)');
  return code;
}
