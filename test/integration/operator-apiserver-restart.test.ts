// kube-apiserver restarted under a running operator (its own private control plane, so the
// shared one stays up for the other suites): the operator neither crashes nor duplicates
// pods, and its watches resume: a monitor created and a pod deleted afterwards are handled.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { TestCluster } from '../cluster/cluster.js';
import { clusterEnv } from '../cluster/shared.js';
import { API_GROUP, API_VERSION, PLURAL, type StreamMonitor } from '../../operator/api.js';
import { LABEL_MONITOR } from '../../operator/analyzer-pod.js';
import { createMonitor, eventually, freshNamespace, installCrd, monitorManifest } from './operator-helpers.js';
import { freeTcpPort } from '../net.js';

const mainJs = fileURLToPath(new URL('../../operator/main.js', import.meta.url));
let cluster: TestCluster;
let kc: KubeConfig;
let namespace: string;
let operator: ChildProcess;
let port: number;
let operatorExit: number | null | undefined;

async function podsOf(name: string): Promise<string[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const pods = (await core.listNamespacedPod({ namespace, labelSelector: `${LABEL_MONITOR}=${name}` })).items;
  return pods.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.name ?? '');
}

async function runningWithOnePod(name: string): Promise<string> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  await eventually(
    `${name} Running`,
    async () =>
      (
        (await custom.getNamespacedCustomObject({
          group: API_GROUP,
          version: API_VERSION,
          namespace,
          plural: PLURAL,
          name,
        })) as StreamMonitor
      ).status?.phase === 'Running',
  );
  const pods = await eventually(`${name} has one pod`, async () => {
    const names = await podsOf(name);
    return names.length === 1 ? names : undefined;
  });
  return pods[0]!;
}

before(async () => {
  const binDir = process.env[clusterEnv.binDir];
  assert.ok(binDir, 'the test run provides the control-plane binaries');
  cluster = await TestCluster.start({ binDir, stateDir: mkdtempSync(join(tmpdir(), 'streamqc-restart-')) });
  kc = cluster.kubeConfig();
  await installCrd(kc);
  namespace = await freshNamespace(kc, 'sm-restart', []);
  port = await freeTcpPort();
  operator = spawn(
    process.execPath,
    [
      mainJs,
      '--kubeconfig',
      cluster.kubeconfigPath,
      '--http-port',
      String(port),
      '--namespaces',
      namespace,
      '--poll-seconds',
      '0',
      // Level-triggered safety net: under load a watch opened right after the CRD was created
      // has been seen to stay silent; the periodic resync must converge regardless.
      '--resync-seconds',
      '5',
    ],
    { env: { ...process.env, STREAMQC_LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  operator.on('exit', (code) => {
    operatorExit = code;
  });
});

after(async () => {
  // Unset when before() failed.
  (operator as ChildProcess | undefined)?.kill('SIGKILL');
  await (cluster as TestCluster | undefined)?.stop();
});

describe('operator across a kube-apiserver restart', () => {
  it(
    'keeps running, creates no duplicate, and handles what changed after the restart',
    { timeout: 180_000 },
    async () => {
      await createMonitor(kc, namespace, monitorManifest('before', { source: { url: 'udp://127.0.0.1:6100' } }));
      const firstPod = await runningWithOnePod('before');

      await cluster.restartApiServer(3000);
      assert.equal(operatorExit, undefined, 'the operator survived the API server going away');

      await createMonitor(kc, namespace, monitorManifest('after', { source: { url: 'udp://127.0.0.1:6101' } }));
      await runningWithOnePod('after');

      // The pod watch resumed too: a pod deleted now is recreated.
      await kc.makeApiClient(CoreV1Api).deleteNamespacedPod({ name: firstPod, namespace, gracePeriodSeconds: 0 });
      await eventually('before recreated', async () => {
        const names = await podsOf('before');
        return names.length === 1 ? names : undefined;
      });
      assert.deepEqual((await podsOf('before')).length, 1, 'exactly one analyzer pod for before');
      assert.deepEqual((await podsOf('after')).length, 1, 'exactly one analyzer pod for after');
      assert.equal(operatorExit, undefined, 'the operator is still running');
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(health.status, 200);
      // Each watch noticed the outage and was retried (resumed, or relisted if the restarted
      // server could no longer serve its resourceVersion).
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      for (const resource of ['pods', 'configmaps', 'streammonitors']) {
        assert.match(
          metrics,
          new RegExp(`^streamqc_operator_watch_failures_total\\{resource="${resource}"\\} [1-9]`, 'm'),
          `the ${resource} watch failed and was retried`,
        );
      }
    },
  );
});
