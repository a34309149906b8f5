/** The operator's own Prometheus metrics (prefix streamqc_operator_). */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { PHASES, type Phase } from './api.js';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles: Counter<'result'>;
  readonly reconcileSeconds: Histogram;
  readonly statusWrites: Counter;
  readonly leader: Gauge;
  readonly relists: Counter<'resource'>;
  readonly watchFailures: Counter<'resource'>;
  readonly analyzerStatusInvalid: Counter<'reason'>;
  readonly analyzerDefectsDropped: Counter;
  readonly eventsDropped: Counter<'reason'>;
  private readonly phases = new Map<string, Phase | 'Unknown'>();

  /** `cached()`: how many objects each informer cache holds, by resource. */
  constructor(queueDepth: () => number, cached: () => Record<string, number> = () => ({})) {
    const registers = [this.registry];
    this.reconciles = new Counter({
      name: 'streamqc_operator_reconciles_total',
      help: 'Reconciles of a StreamMonitor, by result',
      labelNames: ['result'],
      registers,
    });
    this.reconcileSeconds = new Histogram({
      name: 'streamqc_operator_reconcile_duration_seconds',
      help: 'Time of one reconcile',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.statusWrites = new Counter({
      name: 'streamqc_operator_status_writes_total',
      help: 'StreamMonitor status writes',
      registers,
    });
    this.leader = new Gauge({
      name: 'streamqc_operator_leader',
      help: '1 while this replica holds the leader lease',
      registers,
    });
    new Gauge({
      name: 'streamqc_operator_queue_depth',
      help: 'Keys waiting in the work queue',
      registers,
      collect() {
        this.set(queueDepth());
      },
    });
    this.relists = new Counter({
      name: 'streamqc_operator_relists_total',
      help: 'Lists that (re)filled an informer cache: one at start, then one per watch the server refused',
      labelNames: ['resource'],
      registers,
    });
    this.watchFailures = new Counter({
      name: 'streamqc_operator_watch_failures_total',
      help: 'Lists and watches of an informer that failed (each retried after a backoff)',
      labelNames: ['resource'],
      registers,
    });
    this.analyzerStatusInvalid = new Counter({
      name: 'streamqc_operator_analyzer_status_invalid_total',
      help: 'Analyzer /status polls whose answer was no answer: too slow, not 200, too large, not JSON, or against the schema',
      labelNames: ['reason'],
      registers,
    });
    this.analyzerDefectsDropped = new Counter({
      name: 'streamqc_operator_analyzer_defects_dropped_total',
      help: 'Defect entries in analyzer /status answers of a type the monitor cannot have (not built in, not one of its models), dropped',
      registers,
    });
    this.eventsDropped = new Counter({
      name: 'streamqc_operator_events_dropped_total',
      help: 'Events on a StreamMonitor not written because that monitor was over its rate limit, by event reason',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: 'streamqc_operator_cached_objects',
      help: 'Objects held in the informer caches, by resource',
      labelNames: ['resource'],
      registers,
      collect() {
        this.reset();
        for (const [resource, n] of Object.entries(cached())) this.set({ resource }, n);
      },
    });
    const phases = this.phases;
    new Gauge({
      name: 'streamqc_operator_monitors',
      help: 'StreamMonitors by status phase',
      labelNames: ['phase'],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, number>([...PHASES, 'Unknown'].map((p) => [p, 0]));
        for (const phase of phases.values()) counts.set(phase, (counts.get(phase) ?? 0) + 1);
        for (const [phase, n] of counts) this.set({ phase }, n);
      },
    });
  }

  observeMonitor(key: string, phase: Phase | undefined): void {
    this.phases.set(key, phase ?? 'Unknown');
  }

  forgetMonitor(key: string): void {
    this.phases.delete(key);
  }
}
