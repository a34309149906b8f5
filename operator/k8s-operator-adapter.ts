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
 *   kube-apiserver restart would kill it. Here it runs on an informer (informer.ts: list, then
 *   watch from the list's resourceVersion, resumed or relisted until stop()), and events still
 *   arrive as the framework's ResourceEvent. inform() gives the same for any other collection,
 *   with a cache of what the caller keeps of each object.
 * - The framework's status requests (gaxios) build a new https.Agent each and send only the
 *   Authorization header; they get the KubeConfig's shared agent and headers instead.
 * - The status helpers return null on any failure (they log it); statusWrite turns that into a
 *   thrown error so that the work queue retries, e.g. after a 409 conflict.
 */
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import k8sOperator, { type OperatorLogger, type ResourceEvent, type ResourceMeta } from '@dot-i/k8s-operator';
import { Informer, collectionPath, type InformerOptions } from './informer.js';

const FrameworkOperator = k8sOperator.default;
const { ResourceMetaImpl, ResourceEventType } = k8sOperator;

export type { OperatorLogger, ResourceEvent };

/** What watchResource keeps of each object: enough to say what was deleted while unwatched. */
interface Seen {
  apiVersion: string;
  kind: string;
  uid?: string;
  resourceVersion: string;
}

interface CustomObjectList {
  items: KubernetesObject[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/** What a status write needs of an object (plain JSON of a custom resource fits). */
export interface StatusTarget {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion: string };
}

type PathBuilder = (meta: ResourceMeta) => string;

export abstract class K8sOperatorAdapter extends FrameworkOperator {
  private stopping = false;
  private readonly informers: Informer<unknown>[] = [];

  constructor(kubeConfig: KubeConfig, logger: OperatorLogger) {
    super(logger);
    this.kubeConfig = kubeConfig;
    this.k8sApi = kubeConfig.makeApiClient(CoreV1Api);
  }

  protected override getCustomResourceApiUri(group: string, version: string, plural: string, namespace?: string): string {
    return `${this.serverUrl()}${collectionPath(group, version, plural, namespace)}`;
  }

  /**
   * The framework's watchResource on an informer: events arrive in order, one at a time, as
   * the framework's own queue hands them on; a watch that fails is resumed or relisted until
   * stop(); a deletion noticed on a relist arrives as DELETED with the last known metadata.
   * Resolves once the first list is in.
   */
  protected override async watchResource(
    group: string,
    version: string,
    plural: string,
    onEvent: (event: ResourceEvent) => Promise<void>,
    namespace?: string,
  ): Promise<void> {
    const id = this.registerResource(group, version, plural);
    const custom = this.kubeConfig.makeApiClient(CustomObjectsApi);
    let chain = Promise.resolve();
    const informer = this.inform<Seen>({
      ...this.watchHooks(plural),
      description: `watch on ${id}${namespace ? ` in ${namespace}` : ''}`,
      path: collectionPath(group, version, plural, namespace),
      list: async ({ limit, continue: token }) => {
        const page = (namespace
          ? await custom.listNamespacedCustomObject({ group, version, plural, namespace, limit, _continue: token })
          : await custom.listClusterCustomObject({ group, version, plural, limit, _continue: token })) as CustomObjectList;
        return { items: page.items, resourceVersion: page.metadata?.resourceVersion ?? '', continue: page.metadata?.continue };
      },
      slim: (o) => ({ apiVersion: o.apiVersion ?? '', kind: o.kind ?? '', uid: o.metadata?.uid, resourceVersion: o.metadata?.resourceVersion ?? '' }),
      same: (a, b) => a.resourceVersion === b.resourceVersion,
      onChange: (key, current, previous, object) => {
        const seen = (current ?? previous)!;
        const slash = key.indexOf('/');
        const target: KubernetesObject = object ?? {
          apiVersion: seen.apiVersion,
          kind: seen.kind,
          metadata: { name: key.slice(slash + 1), namespace: slash < 0 ? undefined : key.slice(0, slash), uid: seen.uid, resourceVersion: seen.resourceVersion },
        };
        const type = current === undefined ? ResourceEventType.Deleted : previous === undefined ? ResourceEventType.Added : ResourceEventType.Modified;
        let meta: ResourceMeta;
        try {
          meta = ResourceMetaImpl.createWithPlural(plural, target);
        } catch {
          return;
        }
        chain = chain.then(() => onEvent({ meta, object: target, type })).catch((err: unknown) => this.logger.error(`handling ${type} of ${id} ${meta.name}: ${String(err)}`));
      },
    });
    await informer.start();
    this.logger.info(`watching ${id}${namespace ? ` in ${namespace}` : ''}`);
  }

  /** What a subclass wants to hear of watchResource's lists and failed watches (for metrics). */
  protected watchHooks(_plural: string): Pick<InformerOptions<unknown>, 'onRelist' | 'onWatchFailure'> {
    return {};
  }

  /** A list-then-watch cache (informer.ts) that lives until stop(); start() it. */
  protected inform<T>(options: Omit<InformerOptions<T>, 'kubeConfig' | 'log'>): Informer<T> {
    const informer = new Informer<T>({ ...options, kubeConfig: this.kubeConfig, log: this.logger });
    this.informers.push(informer as Informer<unknown>);
    if (this.stopping) void informer.stop();
    return informer;
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
    for (const informer of this.informers) void informer.stop();
  }

  /** Resolves when every informer has stopped after stop(). */
  protected async watchesEnded(): Promise<void> {
    await Promise.all(this.informers.map((informer) => informer.stop()));
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
