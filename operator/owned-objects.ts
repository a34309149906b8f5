/**
 * What the controller keeps of the objects monitors own (their analyzer pods and config
 * ConfigMaps), so that a reconcile reads them from memory instead of the API server. Each is
 * kept slim: a pod as the few fields reconcile and status read (not its spec, managed fields
 * or most of its status), a ConfigMap as its owner and a digest of its data.
 */
import { createHash } from 'node:crypto';
import type { KubernetesObject, V1ConfigMap, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { monitorKey } from './api.js';
import { ANNOTATION_CONFIG_HASH, LABEL_MONITOR, stableJson } from './analyzer-pod.js';

/** What reconcile needs to know of a ConfigMap to tell whether it must be written. */
export interface ConfigMapFacts {
  resourceVersion: string;
  /** The uid of its controller (a monitor), if it has one. */
  controllerUid: string | undefined;
  /** Its controller as Kind/name, for a message when it is not the monitor's. */
  controller: string | undefined;
  /** dataDigest() of its data. */
  digest: string;
  /** The monitor named by its label: where a change of it is reported. */
  monitor: string | undefined;
}

/** Timestamps as ISO strings, whether they came as JSON (watch) or as Date (typed client). */
function iso(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return new Date(value as string | Date).toISOString();
}

function controllerUid(object: KubernetesObject): string | undefined {
  return object.metadata?.ownerReferences?.find((r) => r.controller)?.uid;
}

function controllerOf(object: KubernetesObject): string | undefined {
  const ref = object.metadata?.ownerReferences?.find((r) => r.controller);
  return ref === undefined ? undefined : `${ref.kind}/${ref.name}`;
}

/** The monitor key a labelled object belongs to. */
export function monitorOf(object: {
  metadata?: { namespace?: string; labels?: Record<string, string> };
}): string | undefined {
  const monitor = object.metadata?.labels?.[LABEL_MONITOR];
  return monitor && object.metadata?.namespace ? monitorKey(object.metadata.namespace, monitor) : undefined;
}

/** The part of a pod that reconcile (reconcile.ts) and status (status.ts) read; nothing else is kept. */
export function slimPod(pod: V1Pod): V1Pod {
  const m = pod.metadata ?? {};
  const controller = m.ownerReferences?.find((r) => r.controller);
  const hash = m.annotations?.[ANNOTATION_CONFIG_HASH];
  const monitor = m.labels?.[LABEL_MONITOR];
  const s = pod.status;
  const conditions = s?.conditions
    ?.filter((c) => c.type === 'Ready' || c.type === 'PodScheduled')
    .map((c): V1PodCondition => ({ type: c.type, status: c.status, ...(c.message ? { message: c.message } : {}) }));
  return {
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      ...(monitor !== undefined ? { labels: { [LABEL_MONITOR]: monitor } } : {}),
      ...(hash !== undefined ? { annotations: { [ANNOTATION_CONFIG_HASH]: hash } } : {}),
      ...(controller
        ? {
            ownerReferences: [
              {
                apiVersion: controller.apiVersion,
                kind: controller.kind,
                name: controller.name,
                uid: controller.uid,
                controller: true,
              },
            ],
          }
        : {}),
      ...(m.deletionTimestamp ? { deletionTimestamp: iso(m.deletionTimestamp) as unknown as Date } : {}),
    },
    spec: { containers: [], ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}) },
    status:
      s === undefined
        ? undefined
        : {
            phase: s.phase,
            reason: s.reason,
            message: s.message,
            podIP: s.podIP,
            startTime: iso(s.startTime) as unknown as Date | undefined,
            conditions,
            containerStatuses: s.containerStatuses?.map((c) => ({
              name: c.name,
              image: c.image,
              imageID: c.imageID,
              ready: c.ready,
              restartCount: c.restartCount,
            })),
          },
  };
}

/** Two slim pods say the same (a change of fields not kept is no change). */
export function samePod(a: V1Pod, b: V1Pod): boolean {
  return stableJson(a) === stableJson(b);
}

/** The digest reconcile compares a ConfigMap's data by. */
export function dataDigest(data: Record<string, string> | undefined): string {
  return createHash('sha256')
    .update(stableJson(data ?? {}))
    .digest('hex');
}

export function configMapFacts(configMap: V1ConfigMap): ConfigMapFacts {
  return {
    resourceVersion: configMap.metadata?.resourceVersion ?? '',
    controllerUid: controllerUid(configMap),
    controller: controllerOf(configMap),
    digest: dataDigest(configMap.data),
    monitor: monitorOf(configMap),
  };
}

export function sameConfigMap(a: ConfigMapFacts, b: ConfigMapFacts): boolean {
  return (
    a.controllerUid === b.controllerUid &&
    a.controller === b.controller &&
    a.digest === b.digest &&
    a.monitor === b.monitor
  );
}

/**
 * Reconcile's view of the owned objects: reads from the caches, and what it created goes into
 * them (Informer.rememberCreated). A replace or delete is left to the watch: until its event
 * arrives a reconcile may act on the older state, and the API server refuses or ignores that
 * (a stale resourceVersion is a 409, a second delete a 404).
 */
export interface OwnedObjects {
  /** The pods labelled for a monitor, as last seen. */
  podsOf(namespace: string, monitor: string): V1Pod[];
  configMap(namespace: string, name: string): ConfigMapFacts | undefined;
  /** The API server's answer to a create this process sent. */
  createdPod(pod: V1Pod): void;
  createdConfigMap(configMap: V1ConfigMap): void;
}
