/**
 * The one place where @dot-i/k8s-operator (written against @kubernetes/client-node 0.x) meets
 * the 1.x client this project uses. What it bridges, and why:
 *
 * - The constructor loads the default kubeconfig; an operator (and a test) passes its own.
 * - getCustomResourceApiUri reads `CoreV1Api.basePath`, which 1.x clients no longer have; the
 *   server comes from the kubeconfig instead. The framework's status and finalizer requests
 *   (setResourceStatus, patchResourceStatus, setResourceFinalizers) build their URLs with it.
 * - watchResource ends the process (process.exit) on any watch error and restarts a watch that
 *   stop() aborted: on 1.x, whose Watch reports an abort as an error, stopping the operator or a
 *   kube-apiserver restart would kill it. Here a watch restarts with capped backoff until stop(),
 *   events still arrive as the framework's ResourceEvent, and a label selector can be given.
 * - The framework's status requests (gaxios) build a new https.Agent each and send only the
 *   Authorization header; they get the KubeConfig's shared agent and headers instead.
 * - The status helpers return null on any failure (they log it); statusWrite turns that into a
 *   thrown error so that the work queue retries, e.g. after a 409 conflict.
 */
import { CoreV1Api, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import k8sOperator, { type OperatorLogger, type ResourceEvent, type ResourceEventType, type ResourceMeta } from '@dot-i/k8s-operator';

const FrameworkOperator = k8sOperator.default;
const { ResourceMetaImpl } = k8sOperator;

export type { OperatorLogger, ResourceEvent };

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
}

/** What a status write needs of an object (plain JSON of a custom resource fits). */
export interface StatusTarget {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion: string };
}

type PathBuilder = (meta: ResourceMeta) => string;

const RESTART_DELAY_MS = 200;
const MAX_RESTART_DELAY_MS = 10_000;

export abstract class K8sOperatorAdapter extends FrameworkOperator {
  private stopping = false;
  private readonly watchAborts = new Set<AbortController>();
  private readonly watchLoops: Promise<void>[] = [];
  private markStopped: () => void = () => undefined;
  private readonly stopped = new Promise<void>((resolve) => { this.markStopped = resolve; });

  constructor(kubeConfig: KubeConfig, logger: OperatorLogger) {
    super(logger);
    this.kubeConfig = kubeConfig;
    this.k8sApi = kubeConfig.makeApiClient(CoreV1Api);
  }

  protected override getCustomResourceApiUri(group: string, version: string, plural: string, namespace?: string): string {
    let path = group ? `/apis/${group}/${version}/` : `/api/${version}/`;
    if (namespace) path += `namespaces/${namespace}/`;
    return `${this.serverUrl()}${path}${plural}`;
  }

  protected override async watchResource(
    group: string,
    version: string,
    plural: string,
    onEvent: (event: ResourceEvent) => Promise<void>,
    namespace?: string,
  ): Promise<void> {
    await this.watch(group, version, plural, onEvent, { namespace });
  }

  /** watchResource with a label selector; resolves once the first watch request is open. */
  protected async watch(
    group: string,
    version: string,
    plural: string,
    onEvent: (event: ResourceEvent) => Promise<void>,
    options: WatchOptions = {},
  ): Promise<void> {
    const id = this.registerResource(group, version, plural);
    let path = group ? `/apis/${group}/${version}/` : `/api/${version}/`;
    if (options.namespace) path += `namespaces/${options.namespace}/`;
    path += plural;
    const query = options.labelSelector ? { labelSelector: options.labelSelector } : {};

    let opened!: () => void;
    const firstOpen = new Promise<void>((resolve) => { opened = resolve; });
    const loop = async (): Promise<void> => {
      let failures = 0;
      while (!this.stopping) {
        // Events are handed on in order, one at a time, as the framework's own queue does.
        let chain = Promise.resolve();
        let current: AbortController | undefined;
        const ended = await new Promise<unknown>((resolve) => {
          const watch = new Watch(this.kubeConfig);
          watch.watch(path, query, (type: string, object: KubernetesObject) => {
            if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
            let meta: ResourceMeta;
            try {
              meta = ResourceMetaImpl.createWithPlural(plural, object);
            } catch {
              return;
            }
            const event: ResourceEvent = { meta, object, type: type as ResourceEventType };
            chain = chain.then(() => onEvent(event)).catch((err: unknown) => this.logger.error(`handling ${type} of ${id} ${meta.name}: ${String(err)}`));
          }, resolve).then((abort) => {
            current = abort;
            this.watchAborts.add(abort);
            failures = 0;
            opened();
            if (this.stopping) abort.abort();
          }, resolve);
        });
        // A finished watch's controller is of no more use; restarts must not pile them up.
        if (current) this.watchAborts.delete(current);
        if (this.stopping) break;
        if (ended) {
          failures += 1;
          this.logger.warn(`watch on ${id} failed (${ended instanceof Error ? ended.message : String(ended)}); restarting`);
        }
        const delay = Math.min(MAX_RESTART_DELAY_MS, RESTART_DELAY_MS * 2 ** Math.max(0, failures - 1));
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    };
    this.watchLoops.push(loop());
    await Promise.race([firstOpen, this.stopped]);
    this.logger.info(`watching ${id}${options.namespace ? ` in ${options.namespace}` : ''}`);
  }

  /**
   * Tells the framework's status and finalizer helpers where a resource lives (its own
   * watchResource does this; they look it up in a private field of the framework).
   */
  protected registerResource(group: string, version: string, plural: string): string {
    const id = `${plural}.${group ? `${group}/${version}` : version}`;
    (this as unknown as { resourcePathBuilders: Record<string, PathBuilder> }).resourcePathBuilders[id] =
      (meta) => this.getCustomResourceApiUri(group, version, plural, meta.namespace);
    return id;
  }

  override stop(): void {
    this.stopping = true;
    for (const abort of this.watchAborts) abort.abort();
    this.watchAborts.clear();
    this.markStopped();
  }

  /** Resolves when every watch loop has ended after stop(). */
  protected async watchesEnded(): Promise<void> {
    await Promise.all(this.watchLoops);
  }

  /**
   * The framework's status and finalizer requests go through gaxios with a new https.Agent
   * each (a TLS handshake and a fresh secure context per status write) and only the
   * Authorization header. Here they take what every other request of this operator gets from
   * the KubeConfig: its headers (User-Agent included) and its agent (kept alive and shared
   * when the KubeConfig is set up with connection reuse).
   */
  protected override async applyGaxiosKubeConfigAuth(options: { headers?: Record<string, string>; agent?: unknown }): Promise<void> {
    const opts: { headers?: Record<string, unknown>; auth?: string; agent?: unknown } = {};
    await this.kubeConfig.applyToHTTPSOptions(opts as Parameters<KubeConfig['applyToHTTPSOptions']>[0]);
    const headers: Record<string, string> = { ...options.headers };
    for (const [name, value] of Object.entries(opts.headers ?? {})) headers[name] = String(value);
    if (opts.auth && headers.Authorization === undefined) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    options.headers = headers;
    options.agent = opts.agent;
  }

  /** Replaces the status subresource (optimistic: carries the object's resourceVersion). */
  protected async statusWrite(object: StatusTarget, status: unknown): Promise<void> {
    // Only apiVersion, kind, name, namespace and resourceVersion are read.
    const meta = ResourceMetaImpl.createWithPlural(this.pluralOf(object), object as KubernetesObject);
    const written = await this.setResourceStatus(meta, status);
    if (written === null) throw new Error(`status write of ${meta.namespace ?? ''}/${meta.name} failed (conflict or API error; see the log)`);
  }

  /** The plural under which a watched object's kind was registered. */
  protected abstract pluralOf(object: StatusTarget): string;

  private serverUrl(): string {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    return cluster.server.replace(/\/$/, '');
  }
}
