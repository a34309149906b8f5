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
import { observedStatus, sameStatus, type Blocked } from './status.js';
import { configMapFacts, dataDigest, type OwnedObjects } from './owned-objects.js';

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
/** How soon to look again at a ConfigMap or Pod name held by someone else (its deletion may not be watched). */
const CONFLICT_RETRY_MS = 30_000;

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

/**
 * Why the monitor may not write an object of its name: it is not its own. Ours means a
 * controller ownerReference to this monitor's uid; anything else (another owner, or none: made
 * by hand) is someone else's, and replacing it would also hand it to the garbage collector
 * through our ownerReference.
 */
function notOurs(what: string, holder: { uid: string | undefined; name: string | undefined }, monitor: StreamMonitor): string | undefined {
  if (holder.uid === monitor.metadata.uid) return undefined;
  const whose = holder.name === undefined ? 'it has no controller (made by hand?)' : `it is controlled by ${holder.name} (uid ${holder.uid})`;
  return `${what} exists and is not this monitor's: ${whose}; delete or rename it, or rename the monitor`;
}

/** Writes the monitor's ConfigMap when it is its own; else says whose it is (and writes nothing). */
async function ensureConfigMap(deps: ReconcileDeps, monitor: StreamMonitor, rendered: RenderedAnalyzer): Promise<string | undefined> {
  const desired = rendered.configMap;
  const name = desired.metadata!.name!;
  const namespace = desired.metadata!.namespace!;
  const replace = (resourceVersion: string | undefined): Promise<unknown> =>
    deps.core.replaceNamespacedConfigMap({ name, namespace, body: { ...desired, metadata: { ...desired.metadata, resourceVersion } } });
  const current = deps.owned.configMap(namespace, name);
  if (current === undefined) {
    try {
      deps.owned.createdConfigMap(await deps.core.createNamespacedConfigMap({ namespace, body: desired }));
      return undefined;
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
    }
    // It exists but the cache does not hold it: not seen yet (ours), or not labelled (not ours).
    const existing = configMapFacts(await deps.core.readNamespacedConfigMap({ name, namespace }));
    const conflict = notOurs(`ConfigMap ${namespace}/${name}`, { uid: existing.controllerUid, name: existing.controller }, monitor);
    if (conflict === undefined) await replace(existing.resourceVersion);
    return conflict;
  }
  const conflict = notOurs(`ConfigMap ${namespace}/${name}`, { uid: current.controllerUid, name: current.controller }, monitor);
  if (conflict === undefined && current.digest !== dataDigest(desired.data)) await replace(current.resourceVersion);
  return conflict;
}

/**
 * Whether the pod that holds the analyzer pod's name is someone else's for good. A pod of ours
 * (not in the cache yet), one being deleted, or one of a deleted monitor of the same name
 * (the garbage collector removes it) only makes the name busy for a while.
 */
async function podConflict(deps: ReconcileDeps, monitor: StreamMonitor, namespace: string, name: string): Promise<string | undefined> {
  let pod: V1Pod;
  try {
    pod = await deps.core.readNamespacedPod({ name, namespace });
  } catch (err) {
    if (isStatus(err, 404)) return undefined;
    throw err;
  }
  const controller = pod.metadata?.ownerReferences?.find((r) => r.controller);
  if (pod.metadata?.deletionTimestamp) return undefined;
  if (controller?.kind === monitor.kind && controller.name === monitor.metadata.name) return undefined;
  return notOurs(`Pod ${namespace}/${name}`, { uid: controller?.uid, name: controller && `${controller.kind}/${controller.name}` }, monitor);
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

/** No analyzer can run for the monitor: status says why, with one Warning Event when that is news. */
async function reportBlocked(deps: ReconcileDeps, key: string, monitor: StreamMonitor, blocked: Blocked): Promise<void> {
  deps.analyzers?.track(key, undefined);
  const status = observedStatus({ monitor, pod: undefined, blocked, now: deps.now() });
  if (sameStatus(monitor.status, status)) return;
  await deps.recordEvent(monitor, 'Warning', blocked.reason, blocked.message);
  await deps.writeStatus(monitor, status);
  deps.onStatusWrite?.(monitor, status);
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
    await reportBlocked(deps, key, monitor, { reason: 'InvalidConfig', message: err.message });
    return {};
  }
  const conflict = await ensureConfigMap(deps, monitor, rendered);
  if (conflict !== undefined) {
    // No pod is created with a config that is not ours; one already running is left alone.
    await reportBlocked(deps, key, monitor, { reason: 'ConfigMapConflict', message: conflict });
    return { requeueAfterMs: CONFLICT_RETRY_MS };
  }

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
        // Still held by a pod this operator does not see as its own: for a while (e.g. of a
        // deleted monitor of the same name that the garbage collector has not removed yet), or
        // for good (someone else's), which is reported and never touched.
        if (!isStatus(err, 409)) throw err;
        const conflict = await podConflict(deps, monitor, namespace, desiredName);
        if (conflict !== undefined) {
          await reportBlocked(deps, key, monitor, { reason: 'PodConflict', message: conflict });
          return { requeueAfterMs: CONFLICT_RETRY_MS };
        }
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
