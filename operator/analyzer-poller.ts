/**
 * Polls every running analyzer's /status on its own schedule, outside the reconcile workers,
 * and wakes a monitor's reconcile only when what its status is derived from changed. A poll
 * that is a whole reconcile costs three API reads per monitor per period (1,000 monitors
 * polled every 15 s: about 200 reads/s, measured) and holds a worker for as long as an
 * analyzer takes to answer or time out; here a steady stream costs one HTTP GET to its pod.
 *
 * Reconcile says where each monitor's analyzer is (track) and reads the last answer (latest);
 * the cluster stays the source of truth for everything else. The polls run on a WorkQueue of
 * their own (queue.ts): de-duplicated and bounded like reconciles, but never holding a worker
 * of theirs.
 */
import type { AnalyzerAnswer } from './analyzer-status.js';
import { systemClock, type Clock, type Timer } from './clock.js';
import { WorkQueue } from './queue.js';

export interface AnalyzerTarget {
  podIP: string;
  port: number;
  /** The defect types this analyzer may report (reportableDefectTypes); others are dropped. */
  defectTypes: readonly string[];
}

export interface AnalyzerPollerOptions {
  /** Asks one analyzer; should not throw, and a throw is taken for "unreachable". */
  fetch: (target: AnalyzerTarget) => Promise<AnalyzerAnswer | undefined>;
  intervalMs: number;
  /** Polls in flight at most. */
  concurrency: number;
  /** What of a status reconcile turns into the monitor's status; a change wakes it. */
  facts: (answer: AnalyzerAnswer | undefined) => string;
  /** The monitor behind `key` has new analyzer facts. */
  onChange: (key: string) => void;
  /** What the polling interval runs on; the system's when absent. */
  clock?: Clock;
}

interface Tracked {
  target: AnalyzerTarget;
  answer: AnalyzerAnswer | undefined;
  facts: string;
}

/**
 * The work queue's key of one poll: the monitor and where its analyzer is, so that the poll of
 * an analyzer that moved does not hold up the first poll of the new one.
 */
function pollKey(key: string, target: AnalyzerTarget): string {
  return `${key}\n${target.podIP}:${target.port}`;
}

export class AnalyzerPoller {
  private readonly tracked = new Map<string, Tracked>();
  /** The polls to make: the operator's one work queue (de-duplicated, bounded concurrency). */
  private readonly polls: WorkQueue;
  private timer: Timer | undefined;

  constructor(private readonly options: AnalyzerPollerOptions) {
    // A poll never fails (a failure is an answer), so the queue's retry delays never apply.
    this.polls = new WorkQueue((id) => this.poll(id), {
      concurrency: options.concurrency,
      baseDelayMs: options.intervalMs,
      maxDelayMs: options.intervalMs,
      clock: options.clock,
    });
  }

  /** The monitor's analyzer answers at `target`, or there is none to poll (undefined). */
  track(key: string, target: AnalyzerTarget | undefined): void {
    if (target === undefined) {
      this.tracked.delete(key);
      return;
    }
    const current = this.tracked.get(key);
    if (
      current?.target.podIP === target.podIP &&
      current.target.port === target.port &&
      current.target.defectTypes.join() === target.defectTypes.join()
    )
      return;
    // A new analyzer: nothing known of it yet (what reconcile just wrote), and asked at once.
    this.tracked.set(key, { target, answer: undefined, facts: this.options.facts(undefined) });
    this.enqueue(key);
  }

  /** The last answer of the monitor's current analyzer; undefined before the first. */
  latest(key: string): AnalyzerAnswer | undefined {
    return this.tracked.get(key)?.answer;
  }

  start(): void {
    if (this.timer) return;
    this.timer = (this.options.clock ?? systemClock)
      .setInterval(() => {
        for (const key of this.tracked.keys()) this.enqueue(key);
      }, this.options.intervalMs)
      .unref();
  }

  /** Stops polling for good; polls in flight end on their own and their answers are dropped. */
  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.tracked.clear();
    void this.polls.stop();
  }

  private enqueue(key: string): void {
    const entry = this.tracked.get(key);
    if (entry !== undefined) this.polls.add(pollKey(key, entry.target));
  }

  /**
   * Never rejects: an answer is untrusted, and a rejection here would be unhandled (the
   * process would exit, leaving every monitor unmanaged). Whatever fails is a problem answer.
   */
  private async poll(id: string): Promise<void> {
    const key = id.slice(0, id.indexOf('\n'));
    const entry = this.tracked.get(key);
    // Untracked, or moved since this poll was queued (the new place has its own).
    if (entry === undefined || pollKey(key, entry.target) !== id) return;
    try {
      const answer = await this.ask(entry.target);
      // The analyzer moved (or went) while it was asked: this answer is of no one's.
      if (this.tracked.get(key) !== entry) return;
      let facts: string;
      try {
        facts = this.options.facts(answer);
        entry.answer = answer;
      } catch (err) {
        const problem: AnalyzerAnswer = {
          problem: {
            reason: 'schema',
            message: `the answer cannot be read: ${err instanceof Error ? err.message : String(err)}`,
          },
        };
        facts = this.options.facts(problem);
        entry.answer = problem;
      }
      if (facts !== entry.facts) {
        entry.facts = facts;
        this.options.onChange(key);
      }
    } catch {
      // Only a throwing facts() of a problem or onChange() gets here: nothing left to record.
    }
  }

  private async ask(target: AnalyzerTarget): Promise<AnalyzerAnswer | undefined> {
    try {
      return await this.options.fetch(target);
    } catch (err) {
      return { problem: { reason: 'unreachable', message: err instanceof Error ? err.message : String(err) } };
    }
  }
}
