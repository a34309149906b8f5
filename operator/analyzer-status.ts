/**
 * Reads an analyzer's /status over the pod network. The analyzer holds no credentials and
 * the operator only reads: an analyzer that does not answer is "status unknown", not an error.
 *
 * Plain node:http with a short-lived connection, not the global fetch: fetch keeps a
 * connection pool per origin for the life of the process (about 16 KiB of queues each), and
 * every analyzer pod is its own origin, so at thousands of monitors those pools were the
 * largest part of the operator's memory.
 *
 * The analyzer parses untrusted media, so its answer is untrusted too: the body is bounded in
 * size and time, and it must pass the /status contract's schema (analyzer/contract/status.ts).
 * Whatever goes wrong is an answer with a problem, never a thrown error.
 */
import { get } from 'node:http';
import {
  checkAnalyzerStatus,
  isSignalEvent,
  type AnalyzerStatus,
  type ReportedEvent,
} from '../analyzer/contract/status.js';
import { DEFECT_TYPES } from '../analyzer/detectors/types.js';
import { ladderNames, renditionOf } from './ladder.js';
import { safeMessage } from './messages.js';

const MAX_STATUS_BYTES = 1 << 20;
/** Enough of a problem's text for a condition message; a lying analyzer can make it long. */
const MAX_PROBLEM_TEXT = 200;

/**
 * Why an answer is no answer. `unreachable` (nothing answered: the pod is starting or gone) is
 * ordinary; every other reason is an analyzer that answered wrongly or too slowly.
 */
export const ANALYZER_PROBLEMS = [
  'unreachable',
  'timeout',
  'http_status',
  'too_large',
  'malformed_json',
  'schema',
] as const;
export type AnalyzerProblemReason = (typeof ANALYZER_PROBLEMS)[number];

export interface AnalyzerProblem {
  reason: AnalyzerProblemReason;
  /** For people: what was wrong, short and with URL secrets masked. */
  message: string;
}

/** One poll's outcome: a status that passed the contract, or why there is none. */
export type AnalyzerAnswer =
  { status: AnalyzerStatus; problem?: undefined } | { status?: undefined; problem: AnalyzerProblem };

export type AnalyzerStatusReader = (podIP: string, port: number) => Promise<AnalyzerAnswer | undefined>;

class AnswerError extends Error {
  constructor(
    readonly reason: AnalyzerProblemReason,
    message: string,
  ) {
    super(message);
  }
}

function getJson(url: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent: false, headers: { accept: 'application/json' } }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new AnswerError('http_status', `HTTP ${response.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_STATUS_BYTES)
          request.destroy(new AnswerError('too_large', `the answer is larger than ${MAX_STATUS_BYTES} bytes`));
        else chunks.push(chunk);
      });
      response.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          reject(
            new AnswerError(
              'malformed_json',
              `the answer is not JSON (${err instanceof Error ? err.message : String(err)})`,
            ),
          );
        }
      });
      response.on('error', reject);
    });
    // One bound on the whole exchange (connect, headers and body), not only on idle sockets:
    // a body that drips one byte a second is as slow as one that never comes.
    const deadline = setTimeout(
      () => request.destroy(new AnswerError('timeout', `no complete answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    request.on('close', () => clearTimeout(deadline));
    request.on('error', reject);
  });
}

function problemOf(err: unknown): AnalyzerProblem {
  if (err instanceof AnswerError) return { reason: err.reason, message: safeMessage(err.message, MAX_PROBLEM_TEXT) };
  return {
    reason: 'unreachable',
    message: safeMessage(err instanceof Error ? err.message : String(err), MAX_PROBLEM_TEXT),
  };
}

export function analyzerStatusReader(timeoutMs: number): AnalyzerStatusReader {
  return async (podIP, port) => {
    let body: unknown;
    try {
      const host = podIP.includes(':') ? `[${podIP}]` : podIP;
      body = await getJson(`http://${host}:${port}/status`, timeoutMs);
    } catch (err) {
      return { problem: problemOf(err) };
    }
    const checked = checkAnalyzerStatus(body);
    return checked.ok
      ? { status: checked.status }
      : { problem: { reason: 'schema', message: safeMessage(checked.error, MAX_PROBLEM_TEXT) } };
  };
}

/** The defect types a monitor's analyzer may report: the built-in ones and its own models'. */
export function reportableDefectTypes(models: readonly { defect: { type: string } }[]): string[] {
  return [...new Set<string>([...DEFECT_TYPES, ...models.map((m) => m.defect.type)])];
}

/** What of a status the operator keeps, and how many defect entries it dropped. */
export interface BoundedStatus {
  status: AnalyzerStatus;
  dropped: number;
}

/** Only the last few events: status reads only the last one. */
const KEPT_RECENT_EVENTS = 10;
/** Only the last few signal events: more new ones than this between two polls are counted, not shown. */
export const KEPT_RECENT_SIGNALS = 10;

/**
 * The last few events, and before them the newest event of each ladder rendition that is
 * older than those (its last error), in the analyzer's order: at most 10 + 16 events.
 */
function keptRecentEvents(events: ReportedEvent[], ladder: ReadonlySet<string>): ReportedEvent[] {
  const tail = Math.max(0, events.length - KEPT_RECENT_EVENTS);
  const kept = new Set<number>();
  const seen = new Set<string>();
  for (const [i, event] of [...events.entries()].reverse()) {
    const rendition = renditionOf(event);
    const newestOfRendition = rendition !== null && ladder.has(rendition) && !seen.has(rendition);
    if (rendition !== null) seen.add(rendition);
    if (i >= tail || newestOfRendition) kept.add(i);
  }
  return events.filter((_, i) => kept.has(i));
}

/**
 * A valid status cut to what this monitor can have: defects of types it does not know are
 * dropped (a lying analyzer cannot put words of its choice into status or Events), one active
 * entry per type (per type and rendition for delivery defects), counts as whole numbers.
 */
export function boundedStatus(status: AnalyzerStatus, defectTypes: readonly string[]): BoundedStatus {
  const known = new Set(defectTypes);
  let dropped = 0;
  const keep = (events: ReportedEvent[]): ReportedEvent[] => {
    const kept = events.filter((e) => known.has(e.type));
    dropped += events.length - kept.length;
    return kept;
  };
  // One active entry per type, and per rendition of the ladder for a delivery defect: the
  // monitor's ladder shows each rendition's own (operator/ladder.ts).
  const ladder = new Set(ladderNames(status));
  const activeKey = (e: ReportedEvent): string => {
    const rendition = renditionOf(e);
    return rendition !== null && ladder.has(rendition) ? `${e.type}/${rendition}` : e.type;
  };
  const activeByType = new Map(keep(status.activeDefects).map((e) => [activeKey(e), e]));
  const defects: Record<string, number> = {};
  for (const [type, n] of Object.entries(status.counters.defects)) {
    if (known.has(type) && n !== undefined) defects[type] = Math.floor(n);
    else dropped++;
  }
  return {
    status: {
      ...status,
      activeDefects: [...activeByType.values()],
      recentEvents: [
        ...keptRecentEvents(keep(status.recentEvents.filter((e): e is ReportedEvent => !isSignalEvent(e))), ladder),
        ...status.recentEvents.filter(isSignalEvent).slice(-KEPT_RECENT_SIGNALS),
      ],
      counters: { ...status.counters, defects },
    },
    dropped,
  };
}
