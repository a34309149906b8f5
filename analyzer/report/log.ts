/**
 * Structured JSON logs on stderr (stdout belongs to defect events). Every line the analyzer
 * writes to stderr is one JSON object, final messages and internal errors included, so a log
 * pipeline never has to guess which lines are text.
 */
import { destination, pino, type Logger } from 'pino';
import { UsageError } from '../usage-error.js';

export type { Logger };

/** pino's levels, most severe first; `silent` turns logging off. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_LEVEL_VARIABLE = 'STREAMQC_LOG_LEVEL';

/**
 * The level named by STREAMQC_LOG_LEVEL (any case), or `fallback` when it is unset or empty.
 * A name pino does not know is a usage error: pino itself would throw a bare stack trace.
 */
export function logLevelFromEnv(env: NodeJS.ProcessEnv, fallback: LogLevel): LogLevel {
  const given = env[LOG_LEVEL_VARIABLE];
  if (given === undefined || given.trim() === '') return fallback;
  const level = given.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new UsageError(`${LOG_LEVEL_VARIABLE}: "${given}" is not a log level; allowed: ${LOG_LEVELS.join(', ')}`);
}

export function createLogger(level: LogLevel = 'info'): Logger {
  return pino({ name: 'streamqc-analyzer', level, base: undefined }, destination({ fd: 2, sync: true }));
}

/** Node's own warnings (deprecations, experimental features) as JSON lines instead of its plain text. */
export function routeProcessWarnings(log: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) =>
    log.warn({ warning: warning.name, code: (warning as NodeJS.ErrnoException).code }, warning.message),
  );
}

/** A logger that drops everything (tests that assert on other outputs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
