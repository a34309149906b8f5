// Two operator processes share one Lease: exactly one reconciles; when it is killed the other
// takes over within the lease time, and no monitor ever has two analyzer pods.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { sharedKubeConfig, sharedKubeconfigPath } from '../cluster/shared.js';
import { API_GROUP, API_VERSION, PLURAL, type StreamMonitor } from '../../operator/api.js';
import { LABEL_MONITOR } from '../../operator/analyzer-pod.js';
import {
  createMonitor,
  deleteNamespaces,
  eventually,
  freshNamespace,
  installCrd,
  monitorManifest,
} from './operator-helpers.js';
import { freeTcpPort } from '../net.js';

const mainJs = fileURLToPath(new URL('../../operator/main.js', import.meta.url));
const leaseSeconds = 3;
let kc: KubeConfig;
let namespace: string;
const namespaces: string[] = [];
const replicas: { child: ChildProcess; port: number; name: string }[] = [];

async function metrics(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

const isLeader = async (port: number): Promise<boolean> => /^streamqc_operator_leader 1$/m.test(await metrics(port));
const reconciled = async (port: number): Promise<boolean> =>
  /^streamqc_operator_reconciles_total\{result="success"\} [1-9]/m.test(await metrics(port));

before(async () => {
  kc = sharedKubeConfig();
  await installCrd(kc);
  namespace = await freshNamespace(kc, 'sm-ha', namespaces);
  for (const name of ['a', 'b']) {
    const port = await freeTcpPort();
    const child = spawn(
      process.execPath,
      [
        mainJs,
        '--kubeconfig',
        sharedKubeconfigPath(),
        '--http-port',
        String(port),
        '--namespaces',
        namespace,
        '--poll-seconds',
        '0',
        '--leader-elect',
        '--lease-namespace',
        namespace,
        '--lease-name',
        'streamqc-operator',
        '--lease-duration-seconds',
        String(leaseSeconds),
      ],
      {
        env: { ...process.env, POD_NAME: `operator-${name}`, STREAMQC_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    replicas.push({ child, port, name });
  }
});

after(async () => {
  for (const { child } of replicas) child.kill('SIGKILL');
  await deleteNamespaces(kc, namespaces);
});

async function runningWithOnePod(name: string): Promise<void> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
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
  const pods = (await core.listNamespacedPod({ namespace, labelSelector: `${LABEL_MONITOR}=${name}` })).items;
  assert.equal(pods.length, 1, `pods of ${name}: ${pods.map((p) => p.metadata?.name).join(', ')}`);
}

describe('operator leader election', () => {
  it('lets exactly one of two replicas reconcile, and the other take over within the lease time', async () => {
    const leader = await eventually('one leader', async () => {
      const states = await Promise.all(replicas.map(async (r) => ({ r, leading: await isLeader(r.port) })));
      const leading = states.filter((s) => s.leading);
      return leading.length === 1 ? leading[0]!.r : undefined;
    });
    const standby = replicas.find((r) => r !== leader)!;
    await createMonitor(kc, namespace, monitorManifest('first', { source: { url: 'udp://127.0.0.1:6000' } }));
    await runningWithOnePod('first');
    assert.equal(await reconciled(leader.port), true);
    assert.equal(await reconciled(standby.port), false, 'the standby reconciled');
    assert.equal(await isLeader(standby.port), false);

    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    await eventually('the standby to lead', async () => isLeader(standby.port));
    const takeover = Date.now() - killedAt;
    // A lease duration unobserved, plus a retry period or two and requests; generous for a loaded machine.
    assert.ok(takeover < (2 * leaseSeconds + 2) * 1000, `took over after ${takeover} ms`);

    await createMonitor(kc, namespace, monitorManifest('second', { source: { url: 'udp://127.0.0.1:6001' } }));
    await runningWithOnePod('second');
    await runningWithOnePod('first');
    assert.equal(await reconciled(standby.port), true);
  });
});
