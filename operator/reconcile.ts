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
import {
  API_GROUP,
  API_VERSION,
  PLURAL,
  parseMonitorKey,
  type StreamMonitor,
  type StreamMonitorStatus,
} from './api.js';
import {
  ANNOTATION_CONFIG_HASH,
  renderAnalyzer,
  type AnalyzerDefaults,
  type RenderedAnalyzer,
} from './analyzer-pod.js';
import type { AnalyzerTarget } from './analyzer-poller.js';
import { reportableDefectTypes, type AnalyzerAnswer } from './analyzer-status.js';
import type { EventReason, EventRecorder } from './events.js';
import type { ReconcileResult } from './queue.js';
import { observedStatus, REASON_POD_TERMINATING, sameStatus, type Blocked } from './status.js';
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

async function readMonitor(
  custom: CustomObjectsApi,
  namespace: string,
  name: string,
): Promise<StreamMonitor | undefined> {
  try {
    return (await custom.getNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace,
      plural: PLURAL,
      name,
    })) as StreamMonitor;
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
function notOurs(
  what: string,
  holder: { uid: string | undefined; name: string | undefined },
  monitor: StreamMonitor,
): string | undefined {
  if (holder.uid === monitor.metadata.uid) return undefined;
  const whose =
    holder.name === undefined
      ? 'it has no controller (made by hand?)'
      : `it is controlled by ${holder.name} (uid ${holder.uid})`;
  return `${what} exists and is not this monitor's: ${whose}; delete or rename it, or rename the monitor`;
}

/** Writes the monitor's ConfigMap when it is its own; else says whose it is (and writes nothing). */
async function ensureConfigMap(
  deps: ReconcileDeps,
  monitor: StreamMonitor,
  rendered: RenderedAnalyzer,
): Promise<string | undefined> {
  const desired = rendered.configMap;
  const { configMapName: name, namespace } = rendered;
  const replace = (resourceVersion: string | undefined): Promise<unknown> =>
    deps.core.replaceNamespacedConfigMap({
      name,
      namespace,
      body: { ...desired, metadata: { ...(desired.metadata ?? {}), resourceVersion } },
    });
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
    const conflict = notOurs(
      `ConfigMap ${namespace}/${name}`,
      { uid: existing.controllerUid, name: existing.controller },
      monitor,
    );
    if (conflict === undefined) await replace(existing.resourceVersion);
    return conflict;
  }
  const conflict = notOurs(
    `ConfigMap ${namespace}/${name}`,
    { uid: current.controllerUid, name: current.controller },
    monitor,
  );
  if (conflict === undefined && current.digest !== dataDigest(desired.data)) await replace(current.resourceVersion);
  return conflict;
}

/**
 * Whether the pod that holds the analyzer pod's name is someone else's for good. A pod of ours
 * (not in the cache yet), one being deleted, or one of a deleted monitor of the same name
 * (the garbage collector removes it) only makes the name busy for a while.
 */
async function podConflict(
  deps: ReconcileDeps,
  monitor: StreamMonitor,
  namespace: string,
  name: string,
): Promise<string | undefined> {
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
  return notOurs(
    `Pod ${namespace}/${name}`,
    { uid: controller?.uid, name: controller && `${controller.kind}/${controller.name}` },
    monitor,
  );
}

async function deletePod(deps: ReconcileDeps, pod: V1Pod): Promise<void> {
  const { name, namespace, uid } = pod.metadata ?? {};
  // Pods come from the API server's list, which always names them.
  if (name === undefined || namespace === undefined) throw new Error('cannot delete a pod that has no name');
  try {
    await deps.core.deleteNamespacedPod({ name, namespace, body: { preconditions: { uid } } });
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

/** An Event reconcile decided on; recordPlanned writes it, after the status write. */
export interface PlannedEvent {
  type: 'Normal' | 'Warning';
  reason: EventReason;
  message: string;
}

/**
 * The Events that tell of a status change (pure): what the analyzer saw change between two
 * observations, or why no analyzer can run. Decided from the stored status, so they are news
 * only until the new status is stored: they are emitted after that write, never before (a
 * write that fails with a 409 is retried, and would emit them twice).
 */
export function statusChangeEvents(
  before: StreamMonitorStatus | undefined,
  after: StreamMonitorStatus,
  blocked?: Blocked,
): PlannedEvent[] {
  if (blocked !== undefined) return [{ type: 'Warning', reason: blocked.reason, message: blocked.message }];
  const events: PlannedEvent[] = [];
  const was = conditionStatus(before, 'SourceConnected');
  const is = conditionStatus(after, 'SourceConnected');
  if (was === 'True' && is === 'False')
    events.push({
      type: 'Warning',
      reason: 'SourceLost',
      message: after.conditions?.find((c) => c.type === 'SourceConnected')?.message ?? 'source lost',
    });
  if (was === 'False' && is === 'True')
    events.push({ type: 'Normal', reason: 'SourceRecovered', message: 'media flows again' });
  events.push(...signalEvents(before, after));
  if (after.defects === undefined || is === undefined || is === 'Unknown') return events;
  const previous = new Set(before?.defects?.active ?? []);
  const current = new Set(after.defects.active ?? []);
  for (const type of current)
    if (!previous.has(type))
      events.push({ type: 'Warning', reason: 'DefectStarted', message: `${type} defect started` });
  for (const type of previous)
    if (!current.has(type)) events.push({ type: 'Normal', reason: 'DefectCleared', message: `${type} defect cleared` });
  return events;
}

/**
 * One Normal Event per signal event (a PID came or went, a cue out or in) reported since the
 * stored status: the count tells how many are new, the kept ones which (more than are kept
 * between two polls are counted, not shown). A count that went down is a new analyzer: all of
 * its kept signals are new. Written like the others, through the per-monitor rate limit.
 */
function signalEvents(before: StreamMonitorStatus | undefined, after: StreamMonitorStatus): PlannedEvent[] {
  const count = after.signals?.count ?? 0;
  const previous = before?.signals?.count ?? 0;
  const fresh = count >= previous ? count - previous : count;
  if (fresh === 0) return [];
  return (after.signals?.recent ?? []).slice(-fresh).map((s) => ({
    type: 'Normal',
    reason: s.type === 'pid_appeared' || s.type === 'pid_disappeared' ? 'PidChanged' : 'CueSignalled',
    message: s.message ?? String(s.type),
  }));
}

/** The Event that says why a new analyzer pod was created (pure). */
function creationEvent(
  monitor: StreamMonitor,
  stale: V1Pod[],
  rendered: RenderedAnalyzer,
  created: string,
): PlannedEvent {
  const replaced = stale.find((p) => !ended(p) && hashOf(p) !== rendered.hash);
  const failed = stale.find(ended);
  if (replaced) {
    return {
      type: 'Normal',
      reason: 'AnalyzerReplaced',
      message: `analyzer pod ${replaced.metadata?.name} replaced by ${created}: config hash ${hashOf(replaced) ?? 'none'} -> ${rendered.hash}`,
    };
  }
  if (failed) {
    // The kubelet's own words (e.g. "Evicted: The node was low on resource: memory.").
    const why = [failed.status?.phase, failed.status?.reason, failed.status?.message].filter((s) => s).join(': ');
    return failed.status?.reason === 'Evicted'
      ? {
          type: 'Warning',
          reason: 'AnalyzerEvicted',
          message: `analyzer pod ${failed.metadata?.name} was evicted (${why}); created ${created}`,
        }
      : {
          type: 'Warning',
          reason: 'AnalyzerRecreated',
          message: `analyzer pod ${failed.metadata?.name} ended (${why}); created ${created}`,
        };
  }
  // The last status named a pod, or said its pod was terminating (someone deleted it, and the
  // new one had to wait for the name): this one replaces an analyzer, it is not the first.
  const waitedForName =
    monitor.status?.conditions?.some((c) => c.type === 'Ready' && c.reason === REASON_POD_TERMINATING) ?? false;
  const previous = monitor.status?.phase === 'Suspended' ? undefined : monitor.status?.analyzer?.pod;
  if (waitedForName || previous !== undefined) {
    return {
      type: 'Warning',
      reason: 'AnalyzerRecreated',
      message: `analyzer pod ${previous ?? created} disappeared; created ${created}`,
    };
  }
  return { type: 'Normal', reason: 'AnalyzerCreated', message: `created analyzer pod ${created}` };
}

/** What to do with the monitor's analyzer pods (pure): which to keep, delete or create. */
interface PodPlan {
  keep: V1Pod | undefined;
  delete: V1Pod[];
  /** Create the rendered pod; false also while its name is held by a pod being deleted. */
  create: boolean;
  /** The name is held by a pod being deleted: look again soon. */
  nameBusy: boolean;
  /** The monitor's own pod of this name, being deleted, when it is what holds the name. */
  terminating: string | undefined;
  /** Pods to delete that are replaced by the new one (for its Event). */
  stale: V1Pod[];
}

function planPods(monitor: StreamMonitor, owned: V1Pod[], rendered: RenderedAnalyzer): PodPlan {
  const pods = owned.filter((p) =>
    p.metadata?.ownerReferences?.some((r) => r.controller && r.uid === monitor.metadata.uid),
  );
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  if (monitor.spec.suspend)
    return { keep: undefined, delete: live, create: false, nameBusy: false, terminating: undefined, stale: [] };
  const keep = live.find((p) => hashOf(p) === rendered.hash && !ended(p));
  const stale = live.filter((p) => p !== keep);
  const desiredName = rendered.podName;
  const holder =
    keep === undefined ? pods.find((p) => p.metadata?.name === desiredName && p.metadata.deletionTimestamp) : undefined;
  const nameBusy = holder !== undefined;
  return {
    keep,
    delete: stale,
    create: keep === undefined && !nameBusy,
    nameBusy,
    terminating: holder?.metadata?.name,
    stale,
  };
}

/**
 * Stores the observed status when it differs, then emits the Events: those of actions already
 * done (their action will not be repeated, so they are emitted even when the write fails) and,
 * once the write succeeded, those of the status change.
 */
async function commitStatus(
  deps: ReconcileDeps,
  monitor: StreamMonitor,
  status: StreamMonitorStatus,
  done: PlannedEvent[],
  blocked?: Blocked,
): Promise<void> {
  const record = async (events: PlannedEvent[]): Promise<void> => {
    for (const e of events) await deps.recordEvent(monitor, e.type, e.reason, e.message);
  };
  if (sameStatus(monitor.status, status)) {
    await record(done);
    return;
  }
  try {
    await deps.writeStatus(monitor, status);
  } catch (err) {
    await record(done);
    throw err;
  }
  deps.onStatusWrite?.(monitor, status);
  await record([...done, ...statusChangeEvents(monitor.status, status, blocked)]);
}

/** No analyzer can run for the monitor: status says why, with one Warning Event when that is news. */
async function reportBlocked(
  deps: ReconcileDeps,
  key: string,
  monitor: StreamMonitor,
  blocked: Blocked,
  done: PlannedEvent[] = [],
): Promise<void> {
  deps.analyzers?.track(key, undefined);
  await commitStatus(
    deps,
    monitor,
    observedStatus({ monitor, pod: undefined, blocked, now: deps.now() }),
    done,
    blocked,
  );
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

  const plan = planPods(monitor, deps.owned.podsOf(namespace, name), rendered);
  const done: PlannedEvent[] = [];
  for (const p of plan.delete) await deletePod(deps, p);
  if (monitor.spec.suspend && plan.delete.length > 0) {
    done.push({
      type: 'Normal',
      reason: 'AnalyzerRemoved',
      message: `suspended: analyzer pod ${plan.delete.map((p) => p.metadata?.name).join(', ')} deleted`,
    });
  }
  let pod = plan.keep;
  let requeueAfterMs = plan.nameBusy ? NAME_BUSY_RETRY_MS : undefined;
  if (plan.create) {
    const desiredName = rendered.podName;
    try {
      pod = await deps.core.createNamespacedPod({ namespace, body: rendered.pod });
      deps.owned.createdPod(pod);
      done.push(creationEvent(monitor, plan.stale, rendered, desiredName));
    } catch (err) {
      // Still held by a pod this operator does not see as its own: for a while (e.g. of a
      // deleted monitor of the same name that the garbage collector has not removed yet), or
      // for good (someone else's), which is reported and never touched.
      if (!isStatus(err, 409)) throw err;
      const conflict = await podConflict(deps, monitor, namespace, desiredName);
      if (conflict !== undefined) {
        await reportBlocked(deps, key, monitor, { reason: 'PodConflict', message: conflict }, done);
        return { requeueAfterMs: CONFLICT_RETRY_MS };
      }
      requeueAfterMs = NAME_BUSY_RETRY_MS;
    }
  }

  const running = !monitor.spec.suspend && pod?.status?.phase === 'Running';
  const podIP = pod?.status?.podIP;
  const target =
    running && podIP
      ? { podIP, port: rendered.config.http.port, defectTypes: reportableDefectTypes(rendered.config.models) }
      : undefined;
  deps.analyzers?.track(key, target);
  const answer = target ? deps.analyzers?.latest(key) : undefined;
  const status = observedStatus({
    monitor,
    pod: monitor.spec.suspend ? undefined : pod,
    terminating: pod === undefined ? plan.terminating : undefined,
    analyzer: answer?.status,
    analyzerProblem: answer?.problem,
    now: deps.now(),
  });
  await commitStatus(deps, monitor, status, done);
  return requeueAfterMs === undefined ? {} : { requeueAfterMs };
}
