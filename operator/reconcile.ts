/**
 * reconcileMonitor(key): read the monitor and what it owns, converge them, write what was
 * observed. The same answer whatever woke it; nothing is remembered between calls that the
 * cluster does not hold. A requeue is a return value.
 *
 * The monitor is read from the API server (its status is what the write is compared with, and
 * the write must carry its latest resourceVersion); its pods and ConfigMap come from the
 * controller's informer caches (owned-objects.ts), and what reconcile creates goes into them,
 * so a reconcile right after its own create does not miss the new pod.
 */
import { ApiException, type CoreV1Api, type CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { ConfigError } from '../analyzer/config.js';
import { API_GROUP, API_VERSION, PLURAL, parseMonitorKey, type StreamMonitor, type StreamMonitorStatus } from './api.js';
import { ANNOTATION_CONFIG_HASH, renderAnalyzer, type AnalyzerDefaults, type RenderedAnalyzer } from './analyzer-pod.js';
import type { AnalyzerTarget } from './analyzer-poller.js';
import { reportableDefectTypes, type AnalyzerAnswer } from './analyzer-status.js';
import type { EventRecorder } from './events.js';
import type { ReconcileResult } from './queue.js';
import { observedStatus, sameStatus } from './status.js';
import { dataDigest, type OwnedObjects } from './owned-objects.js';

export interface ReconcileDeps {
  /** For writes: every read of pods and ConfigMaps goes to `owned`. */
  core: CoreV1Api;
  owned: OwnedObjects;
  custom: CustomObjectsApi;
  writeStatus: (monitor: StreamMonitor, status: StreamMonitorStatus) => Promise<void>;
  recordEvent: EventRecorder;
  /** Where each monitor's analyzer is polled, and its last answer (analyzer-poller.ts); absent: not polled. */
  analyzers?: {
    track(key: string, target: AnalyzerTarget | undefined): void;
    latest(key: string): AnalyzerAnswer | undefined;
  };
  /** Image, GPU image and resources for monitors that do not set them; built-in when absent. */
  analyzerDefaults?: AnalyzerDefaults;
  now: () => Date;
  /** Counts status writes, for the steady-state check. */
  onStatusWrite?: (monitor: StreamMonitor, status: StreamMonitorStatus) => void;
}

/** How long to wait for a pod of the same name to finish terminating before creating anew. */
const NAME_BUSY_RETRY_MS = 500;

function isStatus(err: unknown, code: number): boolean {
  return err instanceof ApiException && err.code === code;
}

async function readMonitor(custom: CustomObjectsApi, namespace: string, name: string): Promise<StreamMonitor | undefined> {
  try {
    return await custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: PLURAL, name }) as StreamMonitor;
  } catch (err) {
    if (isStatus(err, 404)) return undefined;
    throw err;
  }
}

async function ensureConfigMap(deps: ReconcileDeps, rendered: RenderedAnalyzer): Promise<void> {
  const desired = rendered.configMap;
  const name = desired.metadata!.name!;
  const namespace = desired.metadata!.namespace!;
  const replace = (resourceVersion: string | undefined): Promise<unknown> =>
    deps.core.replaceNamespacedConfigMap({ name, namespace, body: { ...desired, metadata: { ...desired.metadata, resourceVersion } } });
  const current = deps.owned.configMap(namespace, name);
  if (current === undefined) {
    try {
      deps.owned.createdConfigMap(await deps.core.createNamespacedConfigMap({ namespace, body: desired }));
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
      // It exists but the cache does not hold it: not seen yet, or not labelled as ours (made
      // by hand). Read once and take it over.
      await replace((await deps.core.readNamespacedConfigMap({ name, namespace })).metadata?.resourceVersion);
    }
    return;
  }
  const owned = current.controllerUid === desired.metadata?.ownerReferences?.[0]?.uid;
  if (owned && current.digest === dataDigest(desired.data)) return;
  await replace(current.resourceVersion);
}

async function deletePod(deps: ReconcileDeps, pod: V1Pod): Promise<void> {
  try {
    await deps.core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, body: { preconditions: { uid: pod.metadata?.uid } } });
  } catch (err) {
    if (!isStatus(err, 404) && !isStatus(err, 409)) throw err;
  }
}

function hashOf(pod: V1Pod): string | undefined {
  return pod.metadata?.annotations?.[ANNOTATION_CONFIG_HASH];
}

function ended(pod: V1Pod): boolean {
  return pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
}

function conditionStatus(status: StreamMonitorStatus | undefined, type: string): string | undefined {
  return status?.conditions?.find((c) => c.type === type)?.status;
}

/** Events for what the analyzer saw change between two observations. */
async function recordAnalyzerChanges(deps: ReconcileDeps, monitor: StreamMonitor, before: StreamMonitorStatus | undefined, after: StreamMonitorStatus): Promise<void> {
  const was = conditionStatus(before, 'SourceConnected');
  const is = conditionStatus(after, 'SourceConnected');
  if (was === 'True' && is === 'False') await deps.recordEvent(monitor, 'Warning', 'SourceLost', after.conditions?.find((c) => c.type === 'SourceConnected')?.message ?? 'source lost');
  if (was === 'False' && is === 'True') await deps.recordEvent(monitor, 'Normal', 'SourceRecovered', 'media flows again');
  if (after.defects === undefined || is === undefined || is === 'Unknown') return;
  const previous = new Set(before?.defects?.active ?? []);
  const current = new Set(after.defects.active ?? []);
  for (const type of current) if (!previous.has(type)) await deps.recordEvent(monitor, 'Warning', 'DefectStarted', `${type} defect started`);
  for (const type of previous) if (!current.has(type)) await deps.recordEvent(monitor, 'Normal', 'DefectCleared', `${type} defect cleared`);
}

export async function reconcileMonitor(deps: ReconcileDeps, key: string): Promise<ReconcileResult> {
  const { namespace, name } = parseMonitorKey(key);
  const monitor = await readMonitor(deps.custom, namespace, name);
  // Gone or going: the garbage collector removes the pod and ConfigMap through their ownerReferences.
  if (monitor === undefined || monitor.metadata.deletionTimestamp) {
    deps.analyzers?.track(key, undefined);
    return {};
  }

  let rendered: RenderedAnalyzer;
  try {
    rendered = renderAnalyzer(monitor, deps.analyzerDefaults);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    deps.analyzers?.track(key, undefined);
    const status = observedStatus({ monitor, pod: undefined, configError: err.message, now: deps.now() });
    if (!sameStatus(monitor.status, status)) {
      await deps.recordEvent(monitor, 'Warning', 'InvalidConfig', err.message);
      await deps.writeStatus(monitor, status);
      deps.onStatusWrite?.(monitor, status);
    }
    return {};
  }
  await ensureConfigMap(deps, rendered);

  const pods = deps.owned.podsOf(namespace, name)
    .filter((p) => p.metadata?.ownerReferences?.some((r) => r.controller && r.uid === monitor.metadata.uid));
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  let pod = live.find((p) => hashOf(p) === rendered.hash && !ended(p));
  const stale = live.filter((p) => p !== pod);
  let requeueAfterMs: number | undefined;

  if (monitor.spec.suspend) {
    for (const p of live) await deletePod(deps, p);
    if (live.length > 0) await deps.recordEvent(monitor, 'Normal', 'AnalyzerRemoved', `suspended: analyzer pod ${live.map((p) => p.metadata?.name).join(', ')} deleted`);
    pod = undefined;
  } else {
    for (const p of stale) await deletePod(deps, p);
  }
  if (!monitor.spec.suspend && pod === undefined) {
    const desiredName = rendered.pod.metadata!.name!;
    if (pods.some((p) => p.metadata?.name === desiredName && p.metadata?.deletionTimestamp)) {
      requeueAfterMs = NAME_BUSY_RETRY_MS;
    } else {
      try {
        pod = await deps.core.createNamespacedPod({ namespace, body: rendered.pod });
        deps.owned.createdPod(pod);
        const replaced = stale.find((p) => !ended(p) && hashOf(p) !== rendered.hash);
        const failed = stale.find(ended);
        if (replaced) {
          await deps.recordEvent(monitor, 'Normal', 'AnalyzerReplaced', `analyzer pod ${replaced.metadata?.name} replaced by ${desiredName}: config hash ${hashOf(replaced) ?? 'none'} -> ${rendered.hash}`);
        } else if (failed) {
          // The kubelet's own words (e.g. "Evicted: The node was low on resource: memory.").
          const why = [failed.status?.phase, failed.status?.reason, failed.status?.message].filter((s) => s).join(': ');
          if (failed.status?.reason === 'Evicted') {
            await deps.recordEvent(monitor, 'Warning', 'AnalyzerEvicted', `analyzer pod ${failed.metadata?.name} was evicted (${why}); created ${desiredName}`);
          } else {
            await deps.recordEvent(monitor, 'Warning', 'AnalyzerRecreated', `analyzer pod ${failed.metadata?.name} ended (${why}); created ${desiredName}`);
          }
        } else if (monitor.status?.analyzer?.pod !== undefined && monitor.status.phase !== 'Suspended') {
          await deps.recordEvent(monitor, 'Warning', 'AnalyzerRecreated', `analyzer pod ${monitor.status.analyzer.pod} disappeared; created ${desiredName}`);
        } else {
          await deps.recordEvent(monitor, 'Normal', 'AnalyzerCreated', `created analyzer pod ${desiredName}`);
        }
      } catch (err) {
        // Still held by a pod this operator does not see as its own (e.g. of a deleted monitor of
        // the same name that the garbage collector has not removed yet).
        if (!isStatus(err, 409)) throw err;
        requeueAfterMs = NAME_BUSY_RETRY_MS;
      }
    }
  }

  const running = !monitor.spec.suspend && pod?.status?.phase === 'Running';
  const podIP = pod?.status?.podIP;
  const target = running && podIP
    ? { podIP, port: rendered.config.http.port, defectTypes: reportableDefectTypes(rendered.config.models) }
    : undefined;
  deps.analyzers?.track(key, target);
  const answer = target ? deps.analyzers?.latest(key) : undefined;
  const status = observedStatus({
    monitor, pod: monitor.spec.suspend ? undefined : pod, analyzer: answer?.status, analyzerProblem: answer?.problem, now: deps.now(),
  });
  if (!sameStatus(monitor.status, status)) {
    await recordAnalyzerChanges(deps, monitor, monitor.status, status);
    await deps.writeStatus(monitor, status);
    deps.onStatusWrite?.(monitor, status);
  }
  return requeueAfterMs === undefined ? {} : { requeueAfterMs };
}
