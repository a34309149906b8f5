/** Structured JSON logs on stderr (stdout belongs to defect events). */
import { destination, pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env.STREAMQC_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'streamqc-analyzer', level, base: undefined }, destination({ fd: 2, sync: true }));
}

/** A logger that drops everything (tests that assert on other outputs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
