/**
 * The StreamMonitor controller, composed the way controller-runtime's builder composes one:
 * informers (list, then watch) of the monitors and of the pods and ConfigMaps they own (the
 * latter two into slim caches that reconcile reads instead of the API server), a keyed work
 * queue that every change feeds with the monitor's key, and reconcileMonitor run for each key.
 * Owns the lifecycle of the informers, the queue, the analyzer poller and the periodic resync.
 * Leader election (leader.ts) wraps start(): main.ts starts the controller once elected.
 */
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Pod,
} from '@kubernetes/client-node';
import {
  API_GROUP,
  API_VERSION,
  PLURAL,
  monitorKey,
  type Phase,
  type StreamMonitor,
  type StreamMonitorStatus,
} from './api.js';
import { LABEL_MONITOR } from './analyzer-pod.js';
import { describeError } from './errors.js';
import { safeMessage } from './messages.js';
import { eventRecorder } from './events.js';
import { Informer, collectionPath, type InformerOptions, type ListPage } from './informer.js';
import {
  configMapFacts,
  monitorOf,
  sameConfigMap,
  samePod,
  slimPod,
  type ConfigMapFacts,
  type OwnedObjects,
} from './owned-objects.js';
import { OperatorMetrics } from './metrics.js';
import { WorkQueue } from './queue.js';
import { systemClock, type Clock, type Timer } from './clock.js';
import { AnalyzerPoller, type AnalyzerTarget } from './analyzer-poller.js';
import { boundedStatus, type AnalyzerAnswer, type AnalyzerStatusReader } from './analyzer-status.js';
import { EVENT_RATE_LIMIT, EventRateLimiter } from './event-rate-limit.js';
import { analyzerFacts } from './status.js';
import { reconcileMonitor, type ReconcileDeps } from './reconcile.js';
import { statusWriter } from './status-writer.js';
import type { AnalyzerDefaults } from './analyzer-pod.js';

/** Analyzer /status requests in flight at most (each is one small GET to a pod). */
const POLL_CONCURRENCY = 64;

/** Where the controller's log lines go (pino's methods fit). */
export interface ControllerLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** What the monitors' informer keeps of each: its phase (for the metrics) and its version. */
interface MonitorFacts {
  resourceVersion: string;
  phase: Phase | undefined;
}

interface CustomObjectList {
  items: KubernetesObject[];
  metadata?: { resourceVersion?: string; continue?: string };
}

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  logger: ControllerLogger;
  /** Namespaces to watch; empty: the whole cluster. */
  namespaces: string[];
  concurrency: number;
  resyncMs: number;
  /** Poll every running analyzer's /status this often (outside the reconcile workers); 0 disables polling. */
  pollIntervalMs: number;
  fetchAnalyzerStatus?: AnalyzerStatusReader;
  analyzerDefaults?: AnalyzerDefaults;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** What every part of the controller reads time by; the system's when absent. */
  clock?: Clock;
}

export class StreamMonitorController {
  readonly queue: WorkQueue;
  readonly metrics: OperatorMetrics;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly clock: Clock;
  private readonly analyzers: AnalyzerPoller | undefined;
  private readonly eventLimiter: EventRateLimiter;
  /** Per watched namespace ('' for the whole cluster): the caches of owned objects. */
  private readonly pods = new Map<string, Informer<V1Pod>>();
  private readonly configMaps = new Map<string, Informer<ConfigMapFacts>>();
  /** Every monitor the watch has shown and not yet deleted: what a resync enqueues. */
  private readonly monitors = new Set<string>();
  /** Every informer made, to stop them all on shutdown. */
  private readonly informers: Informer<unknown>[] = [];
  private stopping = false;
  private resyncTimer: Timer | undefined;
  private ownedSynced = false;
  private watching = false;

  constructor(private readonly options: ControllerOptions) {
    const clock = (this.clock = options.clock ?? systemClock);
    this.eventLimiter = new EventRateLimiter({ ...EVENT_RATE_LIMIT, now: () => clock.now() });
    const core = (this.core = options.kubeConfig.makeApiClient(CoreV1Api));
    this.metrics = new OperatorMetrics(
      () => this.queue.depth,
      () => ({
        pods: [...this.pods.values()].reduce((n, cache) => n + cache.size, 0),
        configmaps: [...this.configMaps.values()].reduce((n, cache) => n + cache.size, 0),
      }),
    );
    const fetchAnalyzerStatus = options.fetchAnalyzerStatus;
    this.analyzers =
      fetchAnalyzerStatus && options.pollIntervalMs > 0
        ? new AnalyzerPoller({
            fetch: async (target) => this.accepted(await fetchAnalyzerStatus(target.podIP, target.port), target),
            intervalMs: options.pollIntervalMs,
            concurrency: POLL_CONCURRENCY,
            facts: analyzerFacts,
            onChange: (key) => this.queue.add(key),
            clock,
          })
        : undefined;
    const custom = (this.custom = options.kubeConfig.makeApiClient(CustomObjectsApi));
    const deps: ReconcileDeps = {
      core,
      owned: this.ownedObjects(),
      custom,
      writeStatus: statusWriter(custom),
      recordEvent: eventRecorder(
        core,
        (m) => options.logger.warn(m),
        {
          limiter: this.eventLimiter,
          onDropped: (reason) => this.metrics.eventsDropped.inc({ reason }),
        },
        clock,
      ),
      analyzers: this.analyzers,
      analyzerDefaults: options.analyzerDefaults,
      now: () => new Date(clock.now()),
      onStatusWrite: (monitor: StreamMonitor, status: StreamMonitorStatus) => {
        this.metrics.statusWrites.inc();
        this.metrics.observeMonitor(monitorKey(monitor.metadata.namespace, monitor.metadata.name), status.phase);
      },
    };
    this.queue = new WorkQueue((key) => reconcileMonitor(deps, key), {
      concurrency: options.concurrency,
      clock,
      baseDelayMs: options.retryBaseMs ?? 250,
      maxDelayMs: options.retryMaxMs ?? 60_000,
      // An API server's refusal can echo spec values (a source URL with its token).
      onError: (key, err, failures) =>
        options.logger.warn(safeMessage(`reconcile ${key} failed (${failures}x): ${describeError(err)}`)),
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

  /** Fills the owned-object caches, then watches the monitors; resolves once every watch is open. */
  async start(): Promise<void> {
    const scopes = this.options.namespaces.length > 0 ? this.options.namespaces : [undefined];
    // Owned objects first: a reconcile must not run on a half-filled cache (it would create
    // what exists). Their changes enqueue nothing until then; the monitors' list enqueues all.
    const synced: Promise<void>[] = [];
    for (const namespace of scopes) {
      const pods = this.informOwned<V1Pod>(
        'pods',
        namespace,
        slimPod,
        samePod,
        (p) => monitorOf(p),
        async (page) =>
          pageOf(
            namespace
              ? await this.core.listNamespacedPod({ namespace, ...page })
              : await this.core.listPodForAllNamespaces(page),
          ),
      );
      const configMaps = this.informOwned<ConfigMapFacts>(
        'configmaps',
        namespace,
        configMapFacts,
        sameConfigMap,
        (c) => c.monitor,
        async (page) =>
          pageOf(
            namespace
              ? await this.core.listNamespacedConfigMap({ namespace, ...page })
              : await this.core.listConfigMapForAllNamespaces(page),
          ),
      );
      this.pods.set(namespace ?? '', pods);
      this.configMaps.set(namespace ?? '', configMaps);
      synced.push(pods.start(), configMaps.start());
    }
    await Promise.all(synced);
    this.ownedSynced = true;
    await Promise.all(
      scopes.map(async (namespace) => {
        await this.informMonitors(namespace).start();
        this.options.logger.info(
          `watching ${PLURAL}.${API_GROUP}/${API_VERSION}${namespace ? ` in ${namespace}` : ''}`,
        );
      }),
    );
    this.resyncTimer = this.clock.setInterval(() => this.resync(), this.options.resyncMs).unref();
    this.analyzers?.start();
    this.watching = true;
  }

  /** Stops watching, then lets running reconciles finish. */
  async shutdown(): Promise<void> {
    this.watching = false;
    this.resyncTimer?.cancel();
    this.analyzers?.stop();
    this.stopping = true;
    await Promise.all([this.queue.stop(), ...this.informers.map((informer) => informer.stop())]);
  }

  /**
   * The monitors' informer: every change enqueues the monitor's key (level-triggered: what
   * changed is not passed on); a deletion forgets what is kept per monitor.
   */
  private informMonitors(namespace: string | undefined): Informer<MonitorFacts> {
    const id = `${PLURAL}.${API_GROUP}/${API_VERSION}`;
    const custom = this.custom;
    return this.inform<MonitorFacts>(PLURAL, {
      description: `watch on ${id}${namespace ? ` in ${namespace}` : ''}`,
      path: collectionPath(API_GROUP, API_VERSION, PLURAL, namespace),
      list: async ({ limit, continue: token }) => {
        const ref = { group: API_GROUP, version: API_VERSION, plural: PLURAL, limit, _continue: token };
        const page = (
          namespace
            ? await custom.listNamespacedCustomObject({ ...ref, namespace })
            : await custom.listClusterCustomObject(ref)
        ) as CustomObjectList;
        return {
          items: page.items,
          resourceVersion: page.metadata?.resourceVersion ?? '',
          continue: page.metadata?.continue,
        };
      },
      slim: (o) => ({
        resourceVersion: o.metadata?.resourceVersion ?? '',
        phase: (o as { status?: StreamMonitorStatus }).status?.phase,
      }),
      same: (a, b) => a.resourceVersion === b.resourceVersion,
      onChange: (key, current) => {
        if (current === undefined) {
          this.monitors.delete(key);
          this.metrics.forgetMonitor(key);
          this.eventLimiter.forget(key);
        } else {
          this.monitors.add(key);
          this.metrics.observeMonitor(key, current.phase);
        }
        this.queue.add(key);
      },
    });
  }

  /** An informer of objects labelled for a monitor; a change enqueues that monitor. */
  private informOwned<T>(
    plural: string,
    namespace: string | undefined,
    slim: (object: never) => T,
    same: (a: T, b: T) => boolean,
    monitor: (value: T) => string | undefined,
    list: (page: { limit: number; _continue?: string; labelSelector: string }) => Promise<ListPage>,
  ): Informer<T> {
    return this.inform<T>(plural, {
      description: `watch on ${plural}.v1${namespace ? ` in ${namespace}` : ''}`,
      path: collectionPath('', 'v1', plural, namespace),
      labelSelector: LABEL_MONITOR,
      list: ({ limit, continue: token }) => list({ limit, _continue: token, labelSelector: LABEL_MONITOR }),
      slim: slim as (object: unknown) => T,
      same,
      indexBy: monitor,
      onChange: (_key, current, previous) => {
        const value = current ?? previous;
        const key = value === undefined ? undefined : monitor(value);
        if (key !== undefined && this.ownedSynced) this.queue.add(key);
      },
    });
  }

  /** A list-then-watch cache (informer.ts) that lives until shutdown(); start() it. */
  private inform<T>(
    resource: string,
    options: Omit<InformerOptions<T>, 'kubeConfig' | 'log' | 'clock' | 'onRelist' | 'onWatchFailure'>,
  ): Informer<T> {
    const informer = new Informer<T>({
      ...options,
      kubeConfig: this.options.kubeConfig,
      log: this.options.logger,
      clock: this.clock,
      onRelist: () => this.metrics.relists.inc({ resource }),
      onWatchFailure: () => this.metrics.watchFailures.inc({ resource }),
    });
    this.informers.push(informer as Informer<unknown>);
    if (this.stopping) void informer.stop();
    return informer;
  }

  /**
   * What of an answer the operator keeps: a valid status bounded to the defect types the
   * monitor can have (the rest dropped and counted); a problem other than an absent analyzer
   * counted by its reason.
   */
  private accepted(answer: AnalyzerAnswer | undefined, target: AnalyzerTarget): AnalyzerAnswer | undefined {
    if (answer?.status !== undefined) {
      const { status, dropped } = boundedStatus(answer.status, target.defectTypes);
      if (dropped > 0) this.metrics.analyzerDefectsDropped.inc(dropped);
      return { status };
    }
    const reason = answer?.problem.reason;
    if (reason !== undefined && reason !== 'unreachable') this.metrics.analyzerStatusInvalid.inc({ reason });
    return answer;
  }

  /** Reconcile's view of the owned-object caches. */
  private ownedObjects(): OwnedObjects {
    const scope = (namespace: string | undefined): string =>
      this.options.namespaces.length > 0 ? (namespace ?? '') : '';
    return {
      podsOf: (namespace, monitor) => this.pods.get(scope(namespace))?.byIndex(monitorKey(namespace, monitor)) ?? [],
      configMap: (namespace, name) => this.configMaps.get(scope(namespace))?.get(monitorKey(namespace, name)),
      createdPod: (pod) => this.pods.get(scope(pod.metadata?.namespace))?.rememberCreated(pod),
      createdConfigMap: (configMap: V1ConfigMap) =>
        this.configMaps.get(scope(configMap.metadata?.namespace))?.rememberCreated(configMap),
    };
  }

  /** Enqueues every known monitor: a safety net for anything a handler missed (no API request). */
  private resync(): void {
    for (const key of this.monitors) this.queue.add(key);
  }
}

/** A typed client's list as an informer page. */
function pageOf(list: { items: unknown[]; metadata?: { resourceVersion?: string; _continue?: string } }): ListPage {
  return {
    items: list.items as ListPage['items'],
    resourceVersion: list.metadata?.resourceVersion ?? '',
    continue: list.metadata?._continue,
  };
}
