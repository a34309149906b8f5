// The informer (operator/informer.ts) on the real kube-apiserver: a paged list fills the cache,
// the watch from the list's resourceVersion keeps it current, a change of fields not kept is no
// change, and when etcd has compacted past the resourceVersion (410 Gone) a relist notices what
// was deleted meanwhile. Then the controller's caches in its default scope, the whole cluster.
// A private control plane, without kube-apiserver's watch cache: compacting the shared one's
// etcd would send every other suite's watches through a relist, and a cluster-wide operator
// there would reconcile the other suites' monitors.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestCluster } from '../cluster/cluster.js';
import { clusterEnv } from '../cluster/shared.js';
import { Informer, collectionPath, type ListPage } from '../../operator/informer.js';
import { StreamMonitorController } from '../../operator/controller.js';
import { API_GROUP, API_VERSION, PLURAL, type StreamMonitor } from '../../operator/api.js';
import { LABEL_MONITOR } from '../../operator/analyzer-pod.js';
import { createMonitor, eventually, freshNamespace, installCrd, monitorManifest } from './operator-helpers.js';

let cluster: TestCluster;
let kc: KubeConfig;
let core: CoreV1Api;
let namespace: string;
const LABEL = 'streamqc.io/informer-test';

before(async () => {
  const binDir = process.env[clusterEnv.binDir];
  assert.ok(binDir, 'the test run provides the control-plane binaries');
  // Without the watch cache, etcd itself serves each watch, so a compacted resourceVersion is
  // refused at once (the cache would go on serving it from memory for a while).
  cluster = await TestCluster.start({
    binDir,
    stateDir: mkdtempSync(join(tmpdir(), 'streamqc-informer-')),
    apiServerFlags: ['--watch-cache=false'],
  });
  kc = cluster.kubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  namespace = await freshNamespace(kc, 'sm-inf', []);
});

after(async () => {
  await (cluster as TestCluster | undefined)?.stop(); // unset when before() failed
});

const configMap = (name: string, value: string): V1ConfigMap => ({
  metadata: { name, namespace, labels: { [LABEL]: 'yes' } },
  data: { value },
});

interface Change {
  key: string;
  current: string | undefined;
  previous: string | undefined;
  withObject: boolean;
}

describe('informer', () => {
  it('lists in pages, follows the watch, ignores changes of fields not kept, and relists after 410 Gone', async () => {
    const created = new Map<string, V1ConfigMap>();
    for (const name of ['a', 'b', 'c'])
      created.set(name, await core.createNamespacedConfigMap({ namespace, body: configMap(name, `${name}1`) }));
    // Not labelled: outside the selector, never seen.
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'other', namespace }, data: { value: 'x' } },
    });

    const changes: Change[] = [];
    const warnings: string[] = [];
    const listed: number[] = [];
    let lists = 0;
    const informer = new Informer<string>({
      kubeConfig: kc,
      description: 'test configmaps',
      path: collectionPath('', 'v1', 'configmaps', namespace),
      labelSelector: LABEL,
      pageSize: 2,
      list: async ({ limit, continue: token, labelSelector }): Promise<ListPage> => {
        const page = await core.listNamespacedConfigMap({ namespace, labelSelector, limit, _continue: token });
        listed.push(page.items.length);
        const last = !page.metadata?._continue;
        if (last) lists += 1;
        // The first list ends with c deleted behind its back and etcd compacted past the list's
        // resourceVersion: the watch from it is refused with 410 Gone, and only a relist can
        // tell that c is gone.
        if (last && lists === 1) {
          await core.deleteNamespacedConfigMap({ name: 'c', namespace });
          // One more write, so that the compaction passes the deletion itself too.
          await core.createNamespacedConfigMap({
            namespace,
            body: { metadata: { name: 'unlabelled', namespace }, data: {} },
          });
          await cluster.compactEtcd();
        }
        return {
          items: page.items,
          resourceVersion: page.metadata?.resourceVersion ?? '',
          continue: page.metadata?._continue,
        };
      },
      slim: (o) => (o as V1ConfigMap).data?.value ?? '',
      same: (x, y) => x === y,
      // Values by their first letter ("a1" under "a"), to check the index follows every change.
      indexBy: (value) => value.slice(0, 1),
      onChange: (key, current, previous, object) =>
        changes.push({ key, current, previous, withObject: object !== undefined }),
      log: { warn: (m) => warnings.push(m) },
      retryMs: 50,
    });
    try {
      await informer.start();
      assert.deepEqual(listed, [2, 1], 'three objects in pages of two');
      assert.deepEqual(
        changes.map((c) => [c.key, c.current]),
        [
          [`${namespace}/a`, 'a1'],
          [`${namespace}/b`, 'b1'],
          [`${namespace}/c`, 'c1'],
        ],
      );

      await eventually('the relist after 410 Gone', () => informer.relists === 2);
      assert.match(warnings.join('\n'), /410|too old/i, `the watch was refused as expired: ${warnings.join(' | ')}`);
      await eventually('c to be removed', () => informer.get(`${namespace}/c`) === undefined);
      const removal = changes.find((c) => c.key === `${namespace}/c` && c.current === undefined);
      assert.deepEqual(
        removal,
        { key: `${namespace}/c`, current: undefined, previous: 'c1', withObject: false },
        'a removal noticed on a relist has no object',
      );
      const afterRelist = changes.length;
      assert.equal(afterRelist, 4, `the relist reports only what changed: ${JSON.stringify(changes)}`);

      // The watch from the relist's resourceVersion: added, changed, unchanged and deleted.
      await core.createNamespacedConfigMap({ namespace, body: configMap('d', 'd1') });
      await core.patchNamespacedConfigMap({
        name: 'a',
        namespace,
        body: [{ op: 'add', path: '/metadata/annotations', value: { note: 'not kept' } }],
      });
      await core.patchNamespacedConfigMap({
        name: 'a',
        namespace,
        body: [{ op: 'replace', path: '/data/value', value: 'a2' }],
      });
      await core.deleteNamespacedConfigMap({ name: 'b', namespace });
      await eventually(
        'the watched changes',
        () => informer.get(`${namespace}/b`) === undefined && informer.get(`${namespace}/a`) === 'a2',
      );
      assert.deepEqual(
        changes.slice(afterRelist).map((c) => [c.key, c.current, c.previous, c.withObject]),
        [
          [`${namespace}/d`, 'd1', undefined, true],
          [`${namespace}/a`, 'a2', 'a1', true],
          [`${namespace}/b`, undefined, 'b1', true],
        ],
        'the annotation-only change of a raised nothing',
      );
      assert.deepEqual([...informer.keys()].sort(), [`${namespace}/a`, `${namespace}/d`]);
      assert.deepEqual(
        [informer.byIndex('a'), informer.byIndex('b'), informer.byIndex('c'), informer.byIndex('d')],
        [['a2'], [], [], ['d1']],
      );
      assert.equal(informer.relists, 2);

      // A create's answer arriving after the stream: it neither overwrites what the stream
      // showed since (a2) nor brings back what the stream showed deleted (b).
      informer.rememberCreated(created.get('a')!);
      informer.rememberCreated(created.get('b')!);
      assert.equal(informer.get(`${namespace}/a`), 'a2');
      assert.equal(informer.get(`${namespace}/b`), undefined);
    } finally {
      await informer.stop();
    }
    const stoppedAt = changes.length;
    await core.createNamespacedConfigMap({ namespace, body: configMap('e', 'e1') });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(changes.length, stoppedAt, 'nothing is heard after stop()');
  });

  it('keeps a secondary index in step with what it holds', () => {
    const informer = new Informer<{ owner: string }>({
      kubeConfig: kc,
      description: 'index test',
      path: collectionPath('', 'v1', 'configmaps', namespace),
      list: () => Promise.resolve({ items: [], resourceVersion: '' }),
      slim: (o) => ({ owner: o.metadata?.labels?.owner ?? '' }),
      same: (x, y) => x.owner === y.owner,
      onChange: () => undefined,
      indexBy: (v) => v.owner || undefined,
      log: { warn: () => undefined },
    });
    const object = (name: string, owner: string): KubernetesObject => ({
      metadata: { name, namespace, uid: `uid-${name}`, labels: { owner } },
    });
    informer.rememberCreated(object('p1', 'm1'));
    informer.rememberCreated(object('p2', 'm1'));
    informer.rememberCreated(object('p3', 'm2'));
    informer.rememberCreated(object('p4', ''));
    assert.deepEqual(informer.byIndex('m1'), [{ owner: 'm1' }, { owner: 'm1' }]);
    assert.deepEqual(informer.byIndex('m2'), [{ owner: 'm2' }]);
    assert.deepEqual(informer.byIndex('m3'), []);
    assert.equal(informer.size, 4);
    // Already held: the held value stays.
    informer.rememberCreated(object('p2', 'm2'));
    assert.equal(informer.byIndex('m1').length, 2);
  });
});

describe('controller watching the whole cluster', () => {
  it('runs the monitors of every namespace from cluster-wide caches, and recreates a deleted pod', async () => {
    await installCrd(kc);
    const spaces = [await freshNamespace(kc, 'sm-all-a', []), await freshNamespace(kc, 'sm-all-b', [])];
    const controller = new StreamMonitorController({
      kubeConfig: kc,
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: (m) => console.error(`operator: ${m}`),
        error: (m) => console.error(`operator: ${m}`),
      },
      namespaces: [],
      concurrency: 4,
      resyncMs: 60_000,
      pollIntervalMs: 0,
      retryBaseMs: 100,
      retryMaxMs: 2_000,
    });
    const custom = kc.makeApiClient(CustomObjectsApi);
    // Pod uids: a recreated pod has the same name (named by its config hash).
    const livePods = async (ns: string): Promise<string[]> =>
      (await core.listNamespacedPod({ namespace: ns, labelSelector: `${LABEL_MONITOR}=cam` })).items
        .filter((p) => !p.metadata?.deletionTimestamp)
        .map((p) => p.metadata?.uid ?? '');
    const running = (ns: string): Promise<string> =>
      eventually(`cam in ${ns} Running with one pod`, async () => {
        const monitor = (await custom.getNamespacedCustomObject({
          group: API_GROUP,
          version: API_VERSION,
          namespace: ns,
          plural: PLURAL,
          name: 'cam',
        })) as StreamMonitor;
        const pods = await livePods(ns);
        return monitor.status?.phase === 'Running' &&
          pods.length === 1 &&
          monitor.status.analyzer?.pod?.startsWith('cam-')
          ? pods[0]
          : undefined;
      });
    // One monitor exists before the controller starts (found by its lists), one after (by its watches).
    await createMonitor(kc, spaces[0]!, monitorManifest('cam', { source: { url: 'rtsp://127.0.0.1/a' } }));
    await controller.start();
    try {
      await createMonitor(kc, spaces[1]!, monitorManifest('cam', { source: { url: 'rtsp://127.0.0.1/b' } }));
      const [first] = await Promise.all(spaces.map(running));
      const metrics = await controller.metrics.registry.metrics();
      for (const resource of ['pods', 'configmaps']) {
        assert.match(
          metrics,
          new RegExp(`^streamqc_operator_cached_objects\\{resource="${resource}"\\} 2$`, 'm'),
          `two ${resource} cached`,
        );
      }
      for (const resource of ['pods', 'configmaps', 'streammonitors']) {
        assert.match(
          metrics,
          new RegExp(`^streamqc_operator_relists_total\\{resource="${resource}"\\} 1$`, 'm'),
          `${resource} listed once`,
        );
      }
      const doomed = (await core.listNamespacedPod({ namespace: spaces[0]!, labelSelector: `${LABEL_MONITOR}=cam` }))
        .items[0]!;
      assert.equal(doomed.metadata?.uid, first);
      await core.deleteNamespacedPod({ name: doomed.metadata!.name!, namespace: spaces[0]!, gracePeriodSeconds: 0 });
      await eventually(
        'the deleted pod to be replaced',
        async () => {
          const pods = await livePods(spaces[0]!);
          return pods.length === 1 && pods[0] !== first ? true : undefined;
        },
        15_000,
      ); // by the pod watch: the resync is a minute away
      await running(spaces[0]!);
      assert.deepEqual((await livePods(spaces[1]!)).length, 1, 'the other namespace kept its one pod');
    } finally {
      await controller.shutdown();
    }
  });
});
