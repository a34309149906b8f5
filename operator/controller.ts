/**
 * The StreamMonitor controller: watches monitors and their analyzer pods, turns every event
 * into the monitor's key on the work queue, and runs reconcileMonitor for each key. Owns the
 * lifecycle of the watches, the queue and the periodic resync.
 */
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { AnalyzerStatus } from '../analyzer/pipeline.js';
import { API_GROUP, API_VERSION, PLURAL, monitorKey, type StreamMonitor, type StreamMonitorStatus } from './api.js';
import { LABEL_MONITOR } from './analyzer-pod.js';
import { describeError } from './errors.js';
import { eventRecorder } from './events.js';
import { K8sOperatorAdapter, type OperatorLogger, type ResourceEvent } from './k8s-operator-adapter.js';
import { OperatorMetrics } from './metrics.js';
import { WorkQueue } from './queue.js';
import { AnalyzerPoller } from './analyzer-poller.js';
import { analyzerFacts } from './status.js';
import { reconcileMonitor, type ReconcileDeps } from './reconcile.js';
import type { AnalyzerDefaults } from './analyzer-pod.js';

/** Analyzer /status requests in flight at most (each is one small GET to a pod). */
const POLL_CONCURRENCY = 64;

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  logger: OperatorLogger;
  /** Namespaces to watch; empty: the whole cluster. */
  namespaces: string[];
  concurrency: number;
  resyncMs: number;
  /** Poll every running analyzer's /status this often (outside the reconcile workers); 0 disables polling. */
  pollIntervalMs: number;
  fetchAnalyzerStatus?: (podIP: string, port: number) => Promise<AnalyzerStatus | undefined>;
  analyzerDefaults?: AnalyzerDefaults;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export class StreamMonitorController extends K8sOperatorAdapter {
  readonly queue: WorkQueue;
  readonly metrics: OperatorMetrics;
  private readonly custom: CustomObjectsApi;
  private readonly analyzers: AnalyzerPoller | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private watching = false;

  constructor(private readonly options: ControllerOptions) {
    super(options.kubeConfig, options.logger);
    this.custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
    const core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.metrics = new OperatorMetrics(() => this.queue.depth);
    this.analyzers = options.fetchAnalyzerStatus && options.pollIntervalMs > 0
      ? new AnalyzerPoller({
        fetch: options.fetchAnalyzerStatus,
        intervalMs: options.pollIntervalMs,
        concurrency: POLL_CONCURRENCY,
        facts: analyzerFacts,
        onChange: (key) => this.queue.add(key),
      })
      : undefined;
    const deps: ReconcileDeps = {
      core,
      custom: this.custom,
      writeStatus: (monitor, status) => this.statusWrite(monitor, status),
      recordEvent: eventRecorder(core, (m) => options.logger.warn(m)),
      analyzers: this.analyzers,
      analyzerDefaults: options.analyzerDefaults,
      now: () => new Date(),
      onStatusWrite: (monitor: StreamMonitor, status: StreamMonitorStatus) => {
        this.metrics.statusWrites.inc();
        this.metrics.observeMonitor(monitorKey(monitor.metadata.namespace, monitor.metadata.name), status.phase);
      },
    };
    this.queue = new WorkQueue((key) => reconcileMonitor(deps, key), {
      concurrency: options.concurrency,
      baseDelayMs: options.retryBaseMs ?? 250,
      maxDelayMs: options.retryMaxMs ?? 60_000,
      onError: (key, err, failures) => options.logger.warn(`reconcile ${key} failed (${failures}x): ${describeError(err)}`),
      onDone: (_key, seconds, ok) => {
        this.metrics.reconciles.inc({ result: ok ? 'success' : 'error' });
        this.metrics.reconcileSeconds.observe(seconds);
      },
    });
  }

  /** True once every watch is open. */
  get ready(): boolean {
    return this.watching;
  }

  protected override async init(): Promise<void> {
    const scopes = this.options.namespaces.length > 0 ? this.options.namespaces : [undefined];
    for (const namespace of scopes) {
      await this.watchResource(API_GROUP, API_VERSION, PLURAL, (event) => this.onMonitorEvent(event), namespace);
      await this.watch('', 'v1', 'pods', (event) => this.onPodEvent(event), { namespace, labelSelector: LABEL_MONITOR });
    }
    this.resyncTimer = setInterval(() => void this.resync(), this.options.resyncMs);
    this.resyncTimer.unref();
    this.analyzers?.start();
    this.watching = true;
  }

  /** Stops watching, then lets running reconciles finish. */
  async shutdown(): Promise<void> {
    this.watching = false;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.analyzers?.stop();
    this.stop();
    await Promise.all([this.queue.stop(), this.watchesEnded()]);
  }

  protected override pluralOf(): string {
    return PLURAL;
  }

  private async onMonitorEvent(event: ResourceEvent): Promise<void> {
    const key = monitorKey(event.meta.namespace ?? '', event.meta.name);
    if (event.type === 'DELETED') this.metrics.forgetMonitor(key);
    else this.metrics.observeMonitor(key, (event.object as StreamMonitor).status?.phase);
    this.queue.add(key);
  }

  private async onPodEvent(event: ResourceEvent): Promise<void> {
    const monitor = (event.object as KubernetesObject).metadata?.labels?.[LABEL_MONITOR];
    if (monitor && event.meta.namespace) this.queue.add(monitorKey(event.meta.namespace, monitor));
  }

  /** Enqueues every monitor in scope: a safety net for anything a watch missed. */
  private async resync(): Promise<void> {
    const scopes = this.options.namespaces.length > 0 ? this.options.namespaces : [undefined];
    try {
      for (const namespace of scopes) {
        const list = (namespace === undefined
          ? await this.custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: PLURAL })
          : await this.custom.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: PLURAL })) as { items: StreamMonitor[] };
        for (const m of list.items) this.queue.add(monitorKey(m.metadata.namespace, m.metadata.name));
      }
    } catch (err) {
      this.logger.warn(`resync failed: ${describeError(err)}`);
    }
  }
}
