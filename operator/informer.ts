/**
 * A list-then-watch cache of one kind of object, in the manner of client-go's reflector and
 * informer: a paged LIST gives the state and its resourceVersion, a WATCH from there keeps it
 * current (bookmarks move the resourceVersion on while nothing changes), a watch that ends is
 * resumed from the last resourceVersion seen (after a capped backoff when it failed), and a
 * relist follows when the server refuses to serve from there (410 Gone once it has compacted
 * past it, or any other error answer). A relist compares every key, so what was deleted while
 * no watch was open is noticed too.
 *
 * Only what the caller keeps of each object is held: `slim` turns an object into the cached
 * value, and `onChange` hears of every key whose value changed (`same` decides), with the
 * object itself when there is one. Handlers run synchronously, in the order of the stream.
 */
import { Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { backoffDelay } from './backoff.js';
import { sleep, systemClock, type Clock } from './clock.js';
import { describeError } from './errors.js';

export interface ListPage {
  items: KubernetesObject[];
  resourceVersion: string;
  /** The token of the next page; absent or empty on the last one. */
  continue?: string;
}

export interface InformerOptions<T> {
  kubeConfig: KubeConfig;
  /** What is watched, for log lines (e.g. "pods.v1 in ns"). */
  description: string;
  /** The collection's API path (e.g. /api/v1/namespaces/ns/pods); watched with ?watch=true. */
  path: string;
  labelSelector?: string;
  /** One page of the collection, with the same label selector. */
  list: (page: { limit: number; continue?: string; labelSelector?: string }) => Promise<ListPage>;
  slim: (object: KubernetesObject) => T;
  same: (a: T, b: T) => boolean;
  /**
   * A key's value changed: added, changed, or (current undefined) removed. `object` is the
   * object as the stream gave it; undefined for a removal noticed on a relist.
   */
  onChange: (
    key: string,
    current: T | undefined,
    previous: T | undefined,
    object: KubernetesObject | undefined,
  ) => void;
  /** A secondary index: the values of one index key come back from byIndex(). */
  indexBy?: (value: T) => string | undefined;
  log: { warn(message: string): void };
  /** Told of every list that (re)fills the cache, and of every list or watch that failed. */
  onRelist?: () => void;
  onWatchFailure?: () => void;
  pageSize?: number;
  /** Each watch request asks the server to end it after about this long (then it is resumed). */
  watchTimeoutSeconds?: number;
  /** First delay after a failure; doubles per consecutive failure up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** What the backoff waits by; the system's when absent. */
  clock?: Clock;
}

interface WatchEnd {
  resourceVersion: string;
  /** Relist before watching again (the server refused the watch or ended it with an error event). */
  relist: boolean;
  error?: Error;
}

/** The API path of a collection: /api/v1/[namespaces/NS/]pods or /apis/G/V/[namespaces/NS/]plural. */
export function collectionPath(group: string, version: string, plural: string, namespace?: string): string {
  return `${group ? `/apis/${group}/${version}` : `/api/${version}`}${namespace ? `/namespaces/${namespace}` : ''}/${plural}`;
}

/** The cache key of an object: namespace/name (name alone for cluster-scoped objects). */
export function objectKey(object: KubernetesObject): string {
  const { namespace, name } = object.metadata ?? {};
  return namespace ? `${namespace}/${name ?? ''}` : (name ?? '');
}

/** How many deleted objects' uids are remembered (a created object's answer is late by far fewer). */
const DELETED_UIDS_KEPT = 4096;

/** A watch shorter than this that ended without an error still counts towards the backoff. */
const MIN_WATCH_MS = 1_000;

export class Informer<T> {
  private readonly items = new Map<string, T>();
  private readonly index = new Map<string, Set<string>>();
  /** Uids of the objects the stream showed deleted lately (oldest first), for rememberCreated. */
  private readonly deletedUids = new Set<string>();
  private stopping = false;
  /** A call, not a field read: stop() sets the flag while a loop awaits, which flow analysis cannot see. */
  private isStopped(): boolean {
    return this.stopping;
  }
  private current: AbortController | undefined;
  private wake: () => void = () => undefined;
  private readonly clock: Clock;
  private loop: Promise<void> | undefined;
  private markSynced: () => void = () => undefined;
  private readonly firstSync = new Promise<void>((resolve) => {
    this.markSynced = resolve;
  });
  /** Relists so far, the first included. */
  relists = 0;

  constructor(private readonly options: InformerOptions<T>) {
    this.clock = options.clock ?? systemClock;
  }

  get size(): number {
    return this.items.size;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  keys(): IterableIterator<string> {
    return this.items.keys();
  }

  /** The values whose indexBy() is `indexKey`. */
  byIndex(indexKey: string): T[] {
    return [...(this.index.get(indexKey) ?? [])].flatMap((key) => this.items.get(key) ?? []);
  }

  /**
   * Records an object this process itself just created (the API server's answer), so that a
   * read right after does not miss it while the watch event is on its way. Kept only when the
   * stream has shown nothing of it yet: whatever the stream showed is as new or newer (an
   * object's first version is its creation), and one it showed deleted stays deleted. Raises
   * no change.
   */
  rememberCreated(object: KubernetesObject): void {
    const key = objectKey(object);
    const uid = object.metadata?.uid;
    if (this.items.has(key) || (uid !== undefined && this.deletedUids.has(uid))) return;
    this.store(key, this.options.slim(object));
  }

  /** Starts listing and watching; resolves once the first list is in the cache (or on stop). */
  async start(): Promise<void> {
    this.loop ??= this.run();
    await this.firstSync;
  }

  /** Ends the watch; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.current?.abort();
    this.wake();
    this.markSynced();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { retryMs = 200, maxRetryMs = 10_000 } = this.options;
    let resourceVersion: string | undefined;
    let failures = 0;
    while (!this.isStopped()) {
      try {
        if (resourceVersion === undefined) {
          resourceVersion = await this.relist();
          this.markSynced();
        }
        const started = this.clock.now();
        const end = await this.watchFrom(resourceVersion);
        if (this.isStopped()) break;
        resourceVersion = end.relist ? undefined : end.resourceVersion;
        if (end.error !== undefined) throw end.error;
        // A watch the server ended in order is resumed at once; one that ended as soon as it
        // began is resumed after the backoff, so that a server doing that cannot spin us.
        failures = this.clock.now() - started < MIN_WATCH_MS ? failures + 1 : 0;
        if (failures === 0) continue;
      } catch (err) {
        if (this.isStopped()) break;
        failures += 1;
        this.options.onWatchFailure?.();
        this.options.log.warn(
          `${this.options.description}: ${err instanceof Error ? err.message : String(err)}; ${resourceVersion === undefined ? 'relisting' : 'watching again'}`,
        );
      }
      // Waits out the backoff, or less if stop() is called meanwhile.
      const backoff = sleep(this.clock, backoffDelay(failures, retryMs, maxRetryMs));
      this.wake = backoff.cancel;
      await backoff.done;
    }
  }

  /** Lists page by page, updating the cache as it goes; returns the list's resourceVersion. */
  private async relist(): Promise<string> {
    const { list, labelSelector, pageSize = 500 } = this.options;
    const seen = new Set<string>();
    let page: ListPage | undefined;
    do {
      page = await list({ limit: pageSize, continue: page?.continue, labelSelector });
      for (const object of page.items) {
        const key = objectKey(object);
        seen.add(key);
        this.apply(key, object);
      }
    } while (page.continue);
    for (const key of [...this.items.keys()]) {
      if (!seen.has(key)) this.apply(key, undefined, true);
    }
    this.relists += 1;
    this.options.onRelist?.();
    return page.resourceVersion;
  }

  /** One observation: the object as it is now, or (deleted) its removal. */
  private apply(key: string, object: KubernetesObject | undefined, deleted = object === undefined): void {
    const previous = this.items.get(key);
    if (deleted || object === undefined) {
      const uid = object?.metadata?.uid;
      if (uid !== undefined) {
        this.deletedUids.add(uid);
        const oldest = this.deletedUids.values().next();
        if (this.deletedUids.size > DELETED_UIDS_KEPT && !oldest.done) this.deletedUids.delete(oldest.value);
      }
      if (previous === undefined) return;
      this.store(key, undefined);
      this.options.onChange(key, undefined, previous, object);
      return;
    }
    const current = this.options.slim(object);
    this.store(key, current);
    if (previous === undefined || !this.options.same(previous, current))
      this.options.onChange(key, current, previous, object);
  }

  private store(key: string, value: T | undefined): void {
    const { indexBy } = this.options;
    const previous = this.items.get(key);
    if (indexBy && previous !== undefined) {
      const old = indexBy(previous);
      if (old !== undefined) {
        const keys = this.index.get(old);
        keys?.delete(key);
        if (keys?.size === 0) this.index.delete(old);
      }
    }
    if (value === undefined) {
      this.items.delete(key);
      return;
    }
    this.items.set(key, value);
    const now = indexBy?.(value);
    if (now !== undefined) {
      let keys = this.index.get(now);
      if (keys === undefined) this.index.set(now, (keys = new Set()));
      keys.add(key);
    }
  }

  private watchFrom(resourceVersion: string): Promise<WatchEnd> {
    const { kubeConfig, path, labelSelector, watchTimeoutSeconds = 300 } = this.options;
    let latest = resourceVersion;
    let failure: WatchEnd | undefined;
    return new Promise<WatchEnd>((resolve) => {
      const query: Record<string, string | number | boolean> = {
        resourceVersion,
        allowWatchBookmarks: true,
        // Jittered, so that the watches of many operators do not all end together.
        timeoutSeconds: Math.round(watchTimeoutSeconds * (1 + Math.random())),
      };
      if (labelSelector) query.labelSelector = labelSelector;
      let ended = false;
      const done = (err: unknown): void => {
        if (ended) return;
        ended = true;
        this.current = undefined;
        // A dropped or refused connection resumes from the last resourceVersion seen (the
        // server answers 410 if that has become too old). An HTTP error is the server refusing
        // this watch (410 Gone, a resourceVersion it cannot serve yet): start over from a list.
        const refused = typeof (err as { statusCode?: unknown } | null)?.statusCode === 'number';
        const error =
          err === null || err === undefined || err instanceof Error
            ? (err ?? undefined)
            : new Error(describeError(err));
        resolve(failure ?? { resourceVersion: latest, relist: refused, error });
      };
      new Watch(kubeConfig)
        .watch(
          path,
          query,
          (type: string, object: KubernetesObject & { code?: number; message?: string }) => {
            if (failure) return;
            if (type === 'ERROR') {
              // Most often 410 Gone: the resourceVersion was compacted away. Any error event ends
              // this watch's view of the stream, so the cache is rebuilt from a list.
              failure = {
                resourceVersion: latest,
                relist: true,
                error: new Error(`watch ended by the server: ${object.code ?? ''} ${object.message ?? ''}`.trim()),
              };
              this.current?.abort();
              return;
            }
            const rv = object.metadata?.resourceVersion;
            if (rv) latest = rv;
            if (type === 'ADDED' || type === 'MODIFIED') this.apply(objectKey(object), object);
            else if (type === 'DELETED') this.apply(objectKey(object), object, true);
          },
          done,
        )
        .then((abort) => {
          if (ended) return;
          this.current = abort;
          if (this.stopping) abort.abort();
        }, done);
    });
  }
}
