/**
 * The one place where @dot-i/k8s-operator (written against @kubernetes/client-node 0.x) meets
 * the 1.x client this project uses. What is left of it, and why:
 *
 * - The constructor loads the default kubeconfig; an operator (and a test) passes its own.
 * - watchResource ends the process (process.exit) on any watch error and restarts a watch that
 *   stop() aborted: on 1.x, whose Watch reports an abort as an error, stopping the operator or a
 *   kube-apiserver restart would kill it. Here it runs on an informer (informer.ts: list, then
 *   watch from the list's resourceVersion, resumed or relisted until stop()), and events still
 *   arrive as the framework's ResourceEvent. inform() gives the same for any other collection,
 *   with a cache of what the caller keeps of each object.
 * - Status is not written through the framework (its helpers log an API error and return
 *   null): status-writer.ts uses the client's own status call.
 */
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import k8sOperator, { type OperatorLogger, type ResourceEvent, type ResourceMeta } from '@dot-i/k8s-operator';
import { Informer, collectionPath, type InformerOptions } from './informer.js';
import { systemClock, type Clock } from './clock.js';

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

export abstract class K8sOperatorAdapter extends FrameworkOperator {
  private stopping = false;
  private readonly informers: Informer<unknown>[] = [];
  /** What the informers' backoff waits by. */
  protected clock: Clock = systemClock;

  constructor(kubeConfig: KubeConfig, logger: OperatorLogger) {
    super(logger);
    this.kubeConfig = kubeConfig;
    this.k8sApi = kubeConfig.makeApiClient(CoreV1Api);
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
    const id = `${plural}.${group ? `${group}/${version}` : version}`;
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
    const informer = new Informer<T>({ clock: this.clock, ...options, kubeConfig: this.kubeConfig, log: this.logger });
    this.informers.push(informer as Informer<unknown>);
    if (this.stopping) void informer.stop();
    return informer;
  }

  override stop(): void {
    this.stopping = true;
    for (const informer of this.informers) void informer.stop();
  }

  /** Resolves when every informer has stopped after stop(). */
  protected async watchesEnded(): Promise<void> {
    await Promise.all(this.informers.map((informer) => informer.stop()));
  }
}
