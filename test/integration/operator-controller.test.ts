// The operator on the real control plane: one analyzer pod per StreamMonitor, converged from
// whatever state the cluster is in, status observed and written only on change.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import YAML from 'yaml';
import { sharedKubeConfig } from '../cluster/shared.js';
import {
  API_GROUP,
  API_VERSION,
  PLURAL,
  type StreamMonitor,
  type StreamMonitorSpec,
  type StreamMonitorStatus,
} from '../../operator/api.js';
import { ANNOTATION_CONFIG_HASH, CONFIG_FILE, LABEL_MONITOR, renderAnalyzer } from '../../operator/analyzer-pod.js';
import { StreamMonitorController } from '../../operator/controller.js';
import { describeError } from '../../operator/errors.js';
import { WorkQueue } from '../../operator/queue.js';
import { statusWriter } from '../../operator/status-writer.js';
import type { AnalyzerConfig } from '../../analyzer/config.js';
import {
  controllerInFreshNamespace,
  createMonitor,
  deleteNamespaces,
  eventually,
  monitorManifest,
} from './operator-helpers.js';

let kc: KubeConfig;
let core: CoreV1Api;
let custom: CustomObjectsApi;
let namespace: string;
let controller: StreamMonitorController;
const namespaces: string[] = [];
const url = 'udp://127.0.0.1:5000';

const logger = {
  debug: (): void => undefined,
  info: (): void => undefined,
  warn: (m: string): void => console.error(`operator: ${m}`),
  error: (m: string): void => console.error(`operator: ${m}`),
};

before(async () => {
  kc = sharedKubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  ({ namespace, controller } = await controllerInFreshNamespace(kc, 'sm-op', namespaces, {
    logger,
    concurrency: 8,
    resyncMs: 30_000,
    // Polls every analyzer; none answers here (kwok runs no containers), so status stays Unknown.
    pollIntervalMs: 300,
    fetchAnalyzerStatus: () => Promise.resolve(undefined),
    retryBaseMs: 100,
    retryMaxMs: 2_000,
  }));
});

after(async () => {
  await (controller as StreamMonitorController | undefined)?.shutdown(); // unset when before() failed
  await deleteNamespaces(kc, namespaces);
});

const ref = (name: string) => ({ group: API_GROUP, version: API_VERSION, namespace, plural: PLURAL, name });

async function readMonitor(name: string): Promise<StreamMonitor> {
  return (await custom.getNamespacedCustomObject(ref(name))) as StreamMonitor;
}

async function podsOf(name: string): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace, labelSelector: `${LABEL_MONITOR}=${name}` })).items;
}

async function runningMonitor(name: string): Promise<{ monitor: StreamMonitor; pod: V1Pod }> {
  return eventually(`${name} to be Running with its pod`, async () => {
    const monitor = await readMonitor(name);
    const pods = (await podsOf(name)).filter((p) => !p.metadata?.deletionTimestamp);
    if (monitor.status?.phase !== 'Running' || pods.length !== 1 || pods[0]!.status?.phase !== 'Running')
      return undefined;
    if (
      monitor.status.analyzer?.pod !== pods[0]!.metadata?.name ||
      monitor.status.observedGeneration !== monitor.metadata.generation
    )
      return undefined;
    return { monitor, pod: pods[0]! };
  });
}

async function eventReasons(name: string): Promise<string[]> {
  const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return events.items.map((e) => e.reason ?? '');
}

describe('StreamMonitor operator', () => {
  it('creates a restricted analyzer pod and its ConfigMap, and reports phase Running', async () => {
    await createMonitor(
      kc,
      namespace,
      monitorManifest('news', { source: { url }, detectors: { black: { minDuration: 5 } } }),
    );
    const { monitor, pod } = await runningMonitor('news');
    assert.match(pod.spec?.nodeName ?? '', /^kwok-node-\d$/);
    assert.equal(monitor.status?.analyzer?.node, pod.spec?.nodeName);
    assert.equal(monitor.status?.analyzer?.configHash, pod.metadata?.annotations?.[ANNOTATION_CONFIG_HASH]);
    assert.deepEqual(
      monitor.status?.conditions?.map((c) => [c.type, c.status]),
      [
        ['Ready', 'True'],
        ['SourceConnected', 'Unknown'],
        ['DefectFree', 'Unknown'],
      ],
    );

    const owner = pod.metadata?.ownerReferences?.[0];
    assert.equal(owner?.uid, monitor.metadata.uid);
    assert.equal(owner.controller, true);
    assert.equal(pod.metadata?.labels?.['app.kubernetes.io/instance'], 'news');
    assert.equal(pod.metadata.labels['app.kubernetes.io/managed-by'], 'streamqc-operator');
    assert.equal(pod.spec?.automountServiceAccountToken, false);
    assert.equal(pod.spec.securityContext?.runAsNonRoot, true);
    assert.equal(pod.spec.securityContext.seccompProfile?.type, 'RuntimeDefault');
    const container = pod.spec.containers[0];
    assert.equal(container?.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext.capabilities?.drop, ['ALL']);
    assert.deepEqual(container.args?.slice(0, 2), ['analyze', url]);

    const configMap = await core.readNamespacedConfigMap({ name: 'news-analyzer-config', namespace });
    assert.equal(configMap.metadata?.ownerReferences?.[0]?.uid, monitor.metadata.uid);
    const config = YAML.parse(configMap.data?.[CONFIG_FILE] ?? '') as AnalyzerConfig;
    assert.equal(config.detectors.black.minDuration, 5);
    assert.equal(config.detectors.black.pictureRatio, 0.98);
    assert.equal(config.stream, 'news');
    assert.equal(config.analysis.gpu, false);
    assert.ok((await eventReasons('news')).includes('AnalyzerCreated'));
  });

  it('writes no status while nothing changes', async () => {
    await runningMonitor('news');
    const before = await readMonitor('news');
    const writes = await controller.metrics.registry.getSingleMetricAsString('streamqc_operator_status_writes_total');
    // Several poll periods (300 ms) pass: the analyzer's answer does not change, so nothing is written.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const after = await readMonitor('news');
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion);
    assert.equal(
      await controller.metrics.registry.getSingleMetricAsString('streamqc_operator_status_writes_total'),
      writes,
    );
  });

  it('replaces the pod with one of the new config hash when the spec changes', async () => {
    const { pod: old } = await runningMonitor('news');
    const oldHash = old.metadata?.annotations?.[ANNOTATION_CONFIG_HASH];
    await patchSpecReplace('news', (spec) => ({
      detectors: { ...spec.detectors, freeze: { ...spec.detectors?.freeze, minDuration: 7 } },
    }));
    const { pod } = await eventually('a pod with a new hash', async () => {
      const r = await runningMonitor('news');
      return r.pod.metadata?.annotations?.[ANNOTATION_CONFIG_HASH] !== oldHash ? r : undefined;
    });
    assert.notEqual(pod.metadata?.name, old.metadata?.name);
    await eventually('the old pod to be gone', async () =>
      (await podsOf('news')).every((p) => p.metadata?.name !== old.metadata?.name),
    );
    const configMap = await core.readNamespacedConfigMap({ name: 'news-analyzer-config', namespace });
    assert.equal((YAML.parse(configMap.data?.[CONFIG_FILE] ?? '') as AnalyzerConfig).detectors.freeze.minDuration, 7);
    assert.ok((await eventReasons('news')).includes('AnalyzerReplaced'));
  });

  it('restores an analyzer ConfigMap edited or deleted by hand, woken by its watch (well before a resync)', async () => {
    await runningMonitor('news');
    const name = 'news-analyzer-config';
    const rendered = (await core.readNamespacedConfigMap({ name, namespace })).data?.[CONFIG_FILE];
    const watchMs = 10_000; // the resync comes every 30 s here
    await core.patchNamespacedConfigMap({
      name,
      namespace,
      body: [{ op: 'replace', path: `/data/${CONFIG_FILE}`, value: 'stream: edited-by-hand\n' }],
    });
    await eventually(
      'the edited ConfigMap to be restored',
      async () => (await core.readNamespacedConfigMap({ name, namespace })).data?.[CONFIG_FILE] === rendered,
      watchMs,
    );
    await core.deleteNamespacedConfigMap({ name, namespace });
    await eventually(
      'the deleted ConfigMap to be recreated',
      async () => (await core.readNamespacedConfigMap({ name, namespace })).data?.[CONFIG_FILE] === rendered,
      watchMs,
    );
  });

  it('leaves an unlabelled ConfigMap of its name made by hand alone: ConfigMapConflict, a Warning, no pod; starts once it is gone', async () => {
    // Until issue #11 the operator took such a ConfigMap over (and its ownerReference then let
    // the garbage collector delete it with the monitor). It is not ours: it is reported.
    const name = 'handmade-analyzer-config';
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name, namespace }, data: { [CONFIG_FILE]: 'stream: by-hand\n' } },
    });
    await createMonitor(kc, namespace, monitorManifest('handmade', { source: { url } }));
    const ready = await eventually('Ready False ConfigMapConflict', async () => {
      const condition = (await readMonitor('handmade')).status?.conditions?.find((c) => c.type === 'Ready');
      return condition?.reason === 'ConfigMapConflict' ? condition : undefined;
    });
    assert.equal(ready.status, 'False');
    assert.match(
      ready.message,
      /ConfigMap .*\/handmade-analyzer-config exists and is not this monitor's: it has no controller/,
    );
    assert.ok((await eventReasons('handmade')).includes('ConfigMapConflict'));
    const untouched = await core.readNamespacedConfigMap({ name, namespace });
    assert.equal(untouched.data?.[CONFIG_FILE], 'stream: by-hand\n');
    assert.equal(untouched.metadata?.ownerReferences, undefined);
    assert.deepEqual(await podsOf('handmade'), [], 'no analyzer runs with a config that is not ours');

    await core.deleteNamespacedConfigMap({ name, namespace });
    // Its deletion is not watched (it carries no label); a change of the monitor wakes it at once.
    await touch('handmade');
    const { monitor } = await runningMonitor('handmade');
    const configMap = await core.readNamespacedConfigMap({ name, namespace });
    assert.equal(configMap.metadata?.ownerReferences?.[0]?.uid, monitor.metadata.uid);
    assert.equal((YAML.parse(configMap.data?.[CONFIG_FILE] ?? '') as AnalyzerConfig).stream, 'handmade');
  });

  it('never replaces a ConfigMap of its name that another owner controls, labelled or not', async () => {
    await createMonitor(kc, namespace, monitorManifest('keeper', { source: { url } }));
    const { monitor: keeper } = await runningMonitor('keeper');
    const owner = {
      apiVersion: keeper.apiVersion,
      kind: keeper.kind,
      name: keeper.metadata.name,
      uid: keeper.metadata.uid,
      controller: true,
    };
    for (const [squatter, labels] of [
      ['squat-labelled', { [LABEL_MONITOR]: 'squat-labelled' }],
      ['squat-plain', undefined],
    ] as const) {
      const name = `${squatter}-analyzer-config`;
      await core.createNamespacedConfigMap({
        namespace,
        body: {
          metadata: { name, namespace, labels, ownerReferences: [owner] },
          data: { [CONFIG_FILE]: 'stream: keeper\n' },
        },
      });
      await createMonitor(kc, namespace, monitorManifest(squatter, { source: { url } }));
      const ready = await eventually(`${squatter}: Ready False ConfigMapConflict`, async () => {
        const condition = (await readMonitor(squatter)).status?.conditions?.find((c) => c.type === 'Ready');
        return condition?.reason === 'ConfigMapConflict' ? condition : undefined;
      });
      assert.match(
        ready.message,
        new RegExp(`it is controlled by StreamMonitor/keeper \\(uid ${keeper.metadata.uid}\\)`),
      );
      const kept = await core.readNamespacedConfigMap({ name, namespace });
      assert.equal(kept.data?.[CONFIG_FILE], 'stream: keeper\n', `${squatter}: data untouched`);
      assert.deepEqual(
        kept.metadata?.ownerReferences?.map((r) => r.uid),
        [keeper.metadata.uid],
        `${squatter}: owner untouched`,
      );
      assert.deepEqual(await podsOf(squatter), []);
      assert.ok((await eventReasons(squatter)).includes('ConfigMapConflict'));
    }
  });

  it("never touches a pod of someone else that holds its analyzer pod's name: PodConflict, until it is gone", async () => {
    await createMonitor(kc, namespace, monitorManifest('podsquat', { source: { url }, suspend: true }));
    const suspended = await eventually('podsquat Suspended', async () => {
      const m = await readMonitor('podsquat');
      return m.status?.phase === 'Suspended' ? m : undefined;
    });
    // The name its analyzer pod will have (suspend is not part of the config hash).
    const podName = renderAnalyzer({ ...suspended, spec: { ...suspended.spec, suspend: false } }).pod.metadata!.name!;
    const restricted = {
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    };
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: podName, namespace },
        spec: { containers: [{ name: 'mine', image: 'busybox', securityContext: restricted }] },
      },
    });
    await patchSpecReplace('podsquat', () => ({ suspend: false }));
    const ready = await eventually('Ready False PodConflict', async () => {
      const c = (await readMonitor('podsquat')).status?.conditions?.find((x) => x.type === 'Ready');
      return c?.reason === 'PodConflict' ? c : undefined;
    });
    assert.match(
      ready.message,
      new RegExp(`Pod ${namespace}/${podName} exists and is not this monitor's: it has no controller`),
    );
    assert.ok((await eventReasons('podsquat')).includes('PodConflict'));
    const theirs = await core.readNamespacedPod({ name: podName, namespace });
    assert.equal(theirs.metadata?.ownerReferences, undefined);
    assert.equal(theirs.metadata?.deletionTimestamp, undefined);
    await core.deleteNamespacedPod({ name: podName, namespace, gracePeriodSeconds: 0 });
    await eventually(
      'their pod to be gone',
      async () =>
        !(await core.listNamespacedPod({ namespace })).items.some(
          (p) => p.metadata?.name === podName && !p.metadata.labels,
        ),
    );
    await touch('podsquat');
    const { pod } = await runningMonitor('podsquat');
    assert.equal(pod.metadata?.name, podName);
  });

  it('recreates a deleted analyzer pod', async () => {
    const { pod: old } = await runningMonitor('news');
    await core.deleteNamespacedPod({ name: old.metadata!.name!, namespace, gracePeriodSeconds: 0 });
    const { pod } = await eventually('a new pod', async () => {
      const r = await runningMonitor('news');
      return r.pod.metadata?.uid !== old.metadata?.uid ? r : undefined;
    });
    assert.equal(
      pod.metadata?.annotations?.[ANNOTATION_CONFIG_HASH],
      old.metadata?.annotations?.[ANNOTATION_CONFIG_HASH],
    );
    // Also when the watch showed the old pod terminating first: it held the new pod's name.
    await eventually('an AnalyzerRecreated event', async () =>
      (await eventReasons('news')).includes('AnalyzerRecreated') ? true : undefined,
    );
  });

  it('recreates an evicted analyzer pod and says why in an AnalyzerEvicted event', async () => {
    const { pod: old } = await runningMonitor('news');
    // What the kubelet writes when it evicts a pod under node pressure.
    const message = 'The node was low on resource: memory.';
    await core.replaceNamespacedPodStatus({
      name: old.metadata!.name!,
      namespace,
      // eslint-disable-next-line @typescript-eslint/no-misused-spread -- V1PodStatus: plain data like the models eslint.config.js allows
      body: { ...old, status: { ...old.status, phase: 'Failed', reason: 'Evicted', message, conditions: [] } },
    });
    await eventually('a new pod', async () => {
      const r = await runningMonitor('news');
      return r.pod.metadata?.uid !== old.metadata?.uid ? r : undefined;
    });
    const events = await core.listNamespacedEvent({
      namespace,
      fieldSelector: `involvedObject.name=news,reason=AnalyzerEvicted`,
    });
    assert.equal(events.items.length, 1, 'one AnalyzerEvicted event');
    assert.equal(events.items[0]!.type, 'Warning');
    assert.ok(events.items[0]!.message?.includes(message), events.items[0]!.message);
    assert.ok(events.items[0]!.message?.includes(old.metadata!.name!), events.items[0]!.message);
  });

  it('suspends (no pod, phase Suspended) and resumes', async () => {
    await createMonitor(kc, namespace, monitorManifest('sports', { source: { url: 'srt://127.0.0.1:7000' } }));
    await runningMonitor('sports');
    await patchSpecReplace('sports', () => ({ suspend: true }));
    await eventually(
      'sports to be Suspended without a pod',
      async () => (await readMonitor('sports')).status?.phase === 'Suspended' && (await podsOf('sports')).length === 0,
    );
    await patchSpecReplace('sports', () => ({ suspend: false }));
    await runningMonitor('sports');
  });

  it('puts a gpu: 1 monitor on a GPU node with the CUDA path selected', async () => {
    await createMonitor(
      kc,
      namespace,
      monitorManifest('gpu', { source: { url: 'rtmp://127.0.0.1/live/gpu' }, gpu: 1 }),
    );
    const { pod } = await runningMonitor('gpu');
    assert.match(pod.spec?.nodeName ?? '', /^kwok-gpu-\d$/);
    assert.equal(pod.spec?.containers[0]?.resources?.limits?.['nvidia.com/gpu'], '1');
    const config = YAML.parse(
      (await core.readNamespacedConfigMap({ name: 'gpu-analyzer-config', namespace })).data?.[CONFIG_FILE] ?? '',
    ) as AnalyzerConfig;
    assert.equal(config.analysis.gpu, true);
  });

  it('refuses a status write on a stale resourceVersion (409) and the controller still converges', async () => {
    const { monitor: stale } = await runningMonitor('news');
    // Any spec write moves the resourceVersion on.
    await patchSpecReplace('news', () => ({ stream: 'news-renamed' }));
    const write = statusWriter(custom);
    const degraded: StreamMonitorStatus = { ...stale.status!, phase: 'Degraded' };
    await assert.rejects(write(stale, degraded), /status write of .*news failed/);
    // What the work queue logs of that refusal is the API server's code and words.
    const logged: string[] = [];
    const queue = new WorkQueue(() => write(stale, degraded), {
      concurrency: 1,
      baseDelayMs: 60_000,
      maxDelayMs: 60_000,
      onError: (key, err) => logged.push(`reconcile ${key} failed: ${describeError(err)}`),
    });
    queue.add(`${namespace}/news`);
    await queue.idle();
    await queue.stop();
    assert.match(
      logged[0] ?? '',
      /news failed: status write of .*news failed: HTTP 409: Operation cannot be fulfilled/,
    );
    // The controller itself converges: the renamed stream gives a new config, pod and status.
    const { monitor } = await eventually('news to be Running on the new generation', async () => {
      const r = await runningMonitor('news');
      return r.monitor.metadata.generation !== stale.metadata.generation ? r : undefined;
    });
    assert.equal(monitor.status?.phase, 'Running');
  });

  it('leaves the garbage collector to remove the pod and ConfigMap of a deleted monitor', async () => {
    await createMonitor(kc, namespace, monitorManifest('gone', { source: { url: 'rtsp://127.0.0.1/cam' } }));
    await runningMonitor('gone');
    await custom.deleteNamespacedCustomObject(ref('gone'));
    await eventually('the pod and ConfigMap of gone to be removed', async () => {
      const pods = await podsOf('gone');
      const configMaps = await core.listNamespacedConfigMap({ namespace, labelSelector: `${LABEL_MONITOR}=gone` });
      return pods.length === 0 && configMaps.items.length === 0;
    });
  });
});

/** Wakes a monitor's reconcile with a change of its labels (its watch event), not of its spec. */
async function touch(name: string): Promise<void> {
  await eventually(`${name} to be touched`, async () => {
    const m = await readMonitor(name);
    await custom.replaceNamespacedCustomObject({
      ...ref(name),
      body: { ...m, metadata: { ...m.metadata, labels: { ...m.metadata.labels, touched: String(Date.now()) } } },
    });
    return true;
  });
}

/** Replaces spec fields by read-modify-write (a 409 from a concurrent status write is retried). */
async function patchSpecReplace(
  name: string,
  change: (spec: StreamMonitorSpec) => Partial<StreamMonitorSpec>,
): Promise<void> {
  await eventually(`spec of ${name} to be updated`, async () => {
    const m = await readMonitor(name);
    await custom.replaceNamespacedCustomObject({
      ...ref(name),
      body: { ...m, spec: { ...m.spec, ...change(m.spec) } },
    });
    return true;
  });
}
