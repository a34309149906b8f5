#!/usr/bin/env -S node --max-semi-space-size=1 --single-threaded-gc
/**
 * streamqc CLI.
 *   streamqc analyze INPUT [--config FILE] [--format jsonl|text] [--metrics-port PORT]
 *   streamqc demo [--duration SECONDS] [--metrics-port PORT]
 * Exit codes: 0 done, 1 the input cannot be opened or decoded at all, 2 bad usage or config.
 * stdout carries only defect events and signal events (jsonl) or the readable report (text); logs go to stderr.
 */
import { parseArgs } from 'node:util';
import { ConfigError, defaultConfig, loadConfigFile, type AnalyzerConfig } from './config.js';
import { Analyzer, type AnalyzerStatus, type ReportedEvent } from './pipeline.js';
import { ProbeServer } from './report/http.js';
import { UsageError } from './usage-error.js';
import { createLogger, LOG_LEVELS, logLevelFromEnv, routeProcessWarnings, type Logger } from './report/log.js';
import { formatEventText, formatEventJson, formatSignalText } from './report/events.js';
import { SourceError } from './ingest/source-url.js';
import { redactUrlsIn } from './ingest/redact-url.js';
import { killChildren } from './ingest/children.js';
import { runDemo } from './demo.js';

const USAGE = `usage:
  streamqc analyze INPUT [--config FILE] [--format jsonl|text] [--metrics-port PORT]
  streamqc demo [--duration SECONDS] [--metrics-port PORT]

INPUT is a file path or a URL (http(s) incl. HLS, rtmp(s), rtsp(s), srt, udp, rtp).
A finite input is analysed to its end; a live one until SIGTERM or SIGINT.
Logs are JSON lines on stderr; STREAMQC_LOG_LEVEL sets their level (${LOG_LEVELS.join(', ')}).`;

function parsePort(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new UsageError(`${flag}: "${value}" is not a port number (0-65535)`);
  return n;
}

const OPTIONS = {
  config: { type: 'string' },
  format: { type: 'string', default: 'jsonl' },
  'metrics-port': { type: 'string' },
  duration: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseCommandLine(
  argv: string[],
): ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof OPTIONS }>> {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * Errors the user caused (exit 2): one JSON line with the message, plus the usage text when it
 * was the command line. A URL in the wrong place (`streamqc https://...?token=...`) is masked.
 */
function reportBadUsage(log: Logger, err: unknown): boolean {
  if (err instanceof UsageError) {
    log.error({ exitCode: 2, usage: USAGE }, redactUrlsIn(err.message));
    return true;
  }
  if (err instanceof ConfigError || err instanceof SourceError) {
    log.error({ exitCode: 2 }, redactUrlsIn(err.message));
    return true;
  }
  return false;
}

export async function main(argv: string[]): Promise<number> {
  // Until the level is known (it may itself be the usage error) errors are logged at info.
  let log = createLogger('info');
  try {
    const { values, positionals } = parseCommandLine(argv);
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const [command, ...rest] = positionals;
    // Checked before anything runs: pino throws a bare stack trace on a level it does not know.
    log = createLogger(logLevelFromEnv(process.env, command === 'demo' ? 'warn' : 'info'));
    routeProcessWarnings(log);
    if (command === 'demo') {
      if (rest.length > 0) throw new UsageError(`demo takes no INPUT (got ${rest.join(' ')})`);
      const duration = values.duration === undefined ? 60 : Number(values.duration);
      if (!Number.isFinite(duration) || duration < 5 || duration > 86400) {
        throw new UsageError(`--duration: "${values.duration}" is not a number of seconds between 5 and 86400`);
      }
      return await runDemo({ duration, metricsPort: parsePort(values['metrics-port'], '--metrics-port') ?? 9090, log });
    }
    if (command !== 'analyze') {
      throw new UsageError(command ? `unknown command "${command}"` : 'missing command');
    }
    const [input, ...extra] = rest;
    if (input === undefined) throw new UsageError('analyze needs one INPUT');
    if (extra.length > 0) throw new UsageError(`analyze takes one INPUT, got ${rest.length}`);
    const format = values.format;
    if (format !== 'jsonl' && format !== 'text')
      throw new UsageError(`--format: "${format}" is not one of jsonl, text`);
    const config = values.config ? loadConfigFile(values.config) : defaultConfig();
    const port = parsePort(values['metrics-port'], '--metrics-port');
    if (port !== undefined) config.http.port = port;
    return await analyze(input, config, format, log);
  } catch (err) {
    if (reportBadUsage(log, err)) return 2;
    throw err;
  }
}

export async function analyze(
  input: string,
  config: AnalyzerConfig,
  format: 'jsonl' | 'text',
  log: Logger,
): Promise<number> {
  const write = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const analyzer = new Analyzer(config, input, {
    log,
    onDefect: (phase, event: ReportedEvent) => {
      if (format === 'jsonl') {
        if (phase === 'ended') write(formatEventJson(event));
      } else {
        write(formatEventText(phase, event));
      }
    },
    onSignal: (event) => {
      write(format === 'jsonl' ? formatEventJson(event) : formatSignalText(event));
    },
  });
  let server: ProbeServer | null = null;
  if (config.http.port > 0) {
    server = new ProbeServer({
      metrics: () => analyzer.metrics.text(),
      metricsContentType: analyzer.metrics.registry.contentType,
      status: () => analyzer.status(),
      ready: () => analyzer.ready,
      notReady: 'no media flowing',
    });
    const port = await server.listen(config.http.port, config.listenAddress).catch((err: unknown) => {
      const { code, message } = err as NodeJS.ErrnoException;
      throw new ConfigError(
        `http.port: cannot listen on ${config.listenAddress}:${config.http.port} (${code ?? message})`,
      );
    });
    log.info({ port, address: config.listenAddress }, 'serving /metrics /status /healthz /readyz');
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info({ signal }, 'stopping');
    analyzer.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const result = await analyzer.run();
    if (result.exitCode !== 0) {
      log.error({ exitCode: result.exitCode }, result.message ?? `exit ${result.exitCode}`);
      return result.exitCode;
    }
    // The figures are final here: finish() published them before run() resolved.
    const { counters, loudness } = analyzer.status();
    const line = summaryLine(counters, loudness);
    log.info({ counters, loudness }, line);
    if (format === 'text') write(line);
    return result.exitCode;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await server?.close();
  }
}

/** One line a person reads at the end of a run: what was analysed and the programme's loudness figures. */
export function summaryLine(counters: AnalyzerStatus['counters'], loudness: AnalyzerStatus['loudness']): string {
  const level = (v: number | null, unit: string): string => (v === null ? 'n/a' : `${v.toFixed(1)} ${unit}`);
  return (
    `summary: ${counters.frames} frames, ${counters.audioSeconds.toFixed(1)} s of audio; ` +
    `integrated ${level(loudness.integratedLufs, 'LUFS')}, LRA ${level(loudness.loudnessRangeLu, 'LU')}, ` +
    `max momentary ${level(loudness.maxMomentaryLufs, 'LUFS')}, max short-term ${level(loudness.maxShortTermLufs, 'LUFS')}, ` +
    `max true peak ${level(loudness.maxTruePeakDbtp, 'dBTP')}`
  );
}

/**
 * A bug, not bad input: exit 70 (EX_SOFTWARE) with one JSON line whose `err` field carries the
 * stack, never Node's raw trace. Also the last word on an exception nothing else caught.
 */
export function reportInternalError(err: unknown): void {
  killChildren();
  createLogger('fatal').fatal(
    { exitCode: 70, err },
    `internal error: ${err instanceof Error ? err.message : String(err)}`,
  );
  process.exitCode = 70;
}

// Run when executed directly (not when imported by tests).
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  process.on('uncaughtException', (err) => {
    reportInternalError(err);
    process.exit(70);
  });
  main(process.argv.slice(2)).then((code) => {
    killChildren();
    process.exitCode = code;
  }, reportInternalError);
}
