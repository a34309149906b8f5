// The real node (test/cluster/real-node.ts) does what a user's node does: a kubelet on this
// machine registers Ready, runs a restricted pod from a podman-built image imported into
// containerd, serves its logs and exec through the API server, and enforces the container's
// memory limit through its cgroup.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { clusterTool, sharedKubeConfig, sharedKubeconfigPath } from '../cluster/shared.js';
import { onRealNode, realNode } from '../cluster/nodes.js';
import { checkPrerequisites, RealNode, realNodeEnv } from '../cluster/real-node.js';
import { deleteNamespaces, eventually, freshNamespace } from '../integration/operator-helpers.js';

let kc: KubeConfig;
let core: CoreV1Api;
let namespace: string;
const namespaces: string[] = [];
const PROBE_UID = 65532;

function probeImage(): string {
  const image = process.env[realNodeEnv.probeImage];
  if (!image) throw new Error(`${realNodeEnv.probeImage} is not set: run e2e tests through scripts/run-tests.mjs`);
  return image;
}

/** A pod of the probe image that passes the restricted Pod Security Standard, on the real node. */
function probePod(name: string, args: string[], memoryLimit: string): V1Pod {
  return {
    metadata: { name },
    spec: {
      ...onRealNode,
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 1,
      securityContext: { runAsNonRoot: true, runAsUser: PROBE_UID, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'probe',
          image: probeImage(),
          // Imported with ctr: there is no registry to pull from.
          imagePullPolicy: 'Never',
          args,
          resources: {
            requests: { cpu: '50m', memory: memoryLimit },
            limits: { cpu: '50m', memory: memoryLimit },
          },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ['ALL'] },
          },
        },
      ],
    },
  };
}

async function podWhere(name: string, what: string, ok: (pod: V1Pod) => boolean): Promise<V1Pod> {
  return eventually(
    `pod ${name} ${what}`,
    async () => {
      const pod = await core.readNamespacedPod({ name, namespace });
      return ok(pod) ? pod : undefined;
    },
    120_000,
  ).catch(async (err: unknown) => {
    const pod = await core.readNamespacedPod({ name, namespace }).catch(() => undefined);
    const events = (await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` })).items;
    assert.fail(
      `${(err as Error).message}\nstatus: ${JSON.stringify(pod?.status)}\nevents: ${events.map((e) => `${e.reason}: ${e.message}`).join('; ')}`,
    );
  });
}

const running = (pod: V1Pod): boolean =>
  pod.status?.containerStatuses?.some((c) => c.state?.running !== undefined && c.ready) ?? false;

before(async () => {
  kc = sharedKubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  namespace = await freshNamespace(kc, 'real-node', namespaces);
});

after(async () => {
  if (namespaces.length > 0) await deleteNamespaces(kc, namespaces);
});

describe('real node', () => {
  it('registers Ready with its taint, label and the bridge address', async () => {
    const node = await core.readNode({ name: realNode.name });
    assert.ok(node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    assert.equal(node.metadata?.labels?.[realNode.label.key], realNode.label.value);
    assert.ok(node.spec?.taints?.some((t) => t.key === realNode.taint.key && t.effect === realNode.taint.effect));
    assert.deepEqual(
      node.status?.addresses?.filter((a) => a.type === 'InternalIP').map((a) => a.address),
      ['10.250.0.1'],
    );
    const info = node.status.nodeInfo;
    assert.ok(info, 'the kubelet reports its node info');
    assert.match(info.containerRuntimeVersion, /^containerd:\/\/1\.6\./);
    assert.match(info.kubeletVersion, /^v1\.36\./);
  });

  it("leaves the host's firewall alone (no KUBE-* iptables chains)", () => {
    const rules = spawnSync('iptables-save', [], { encoding: 'utf8' });
    assert.equal(rules.status, 0, rules.stderr);
    assert.deepEqual(
      rules.stdout.split('\n').filter((l) => l.includes('KUBE-')),
      [],
    );
  });

  it('runs a restricted pod from a podman-built image: logs, exec and the profile enforced', async () => {
    await core.createNamespacedPod({ namespace, body: probePod('serve', ['serve'], '32Mi') });
    const pod = await podWhere('serve', 'running and ready', running);
    assert.equal(pod.spec?.nodeName, realNode.name);
    assert.match(pod.status?.podIP ?? '', /^10\.250\.0\.\d+$/);

    const logs = await eventually(
      'the log of pod serve',
      async () => {
        const text = await core.readNamespacedPodLog({ name: 'serve', namespace });
        return text.includes('probe: ready') ? text : undefined;
      },
      30_000,
    );
    assert.equal(logs.trim(), 'probe: ready');

    // exec goes API server -> kubelet (its client certificate) -> containerd's stream server.
    const exec = spawnSync(
      clusterTool('kubectl'),
      ['--kubeconfig', sharedKubeconfigPath(), '-n', namespace, 'exec', 'serve', '--', '/probe', 'whoami'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(exec.status, 0, `kubectl exec: ${exec.stderr}`);
    const facts = Object.fromEntries(
      exec.stdout
        .trim()
        .split(' ')
        .map((kv) => kv.split('=') as [string, string]),
    );
    assert.equal(facts.uid, String(PROBE_UID), exec.stdout);
    assert.equal(facts.rootfs, 'read-only', exec.stdout);
    assert.equal(facts.capEff, '0000000000000000', `every capability dropped: ${exec.stdout}`);
    assert.equal(facts.seccomp, '2', `a seccomp filter (RuntimeDefault) is in force: ${exec.stdout}`);
    assert.equal(facts.noNewPrivs, '1', `allowPrivilegeEscalation: false: ${exec.stdout}`);
  });

  it("enforces a container's memory limit through its cgroup: over it is OOMKilled, under it runs", async () => {
    await core.createNamespacedPod({ namespace, body: probePod('within', ['alloc', '16'], '48Mi') });
    await core.createNamespacedPod({ namespace, body: probePod('beyond', ['alloc', '96'], '48Mi') });

    const within = await podWhere('within', 'running with its 16 MiB', running);
    await eventually(
      'pod within to log its allocation',
      async () => (await core.readNamespacedPodLog({ name: 'within', namespace })).includes('allocated 16 MiB'),
      30_000,
    );
    // The limit as the kernel holds it: a Guaranteed pod's container cgroup under kubepods/pod<uid>/.
    const containerId = (within.status?.containerStatuses?.[0]?.containerID ?? '').replace(/^containerd:\/\//, '');
    const limitFile = `/sys/fs/cgroup/memory/kubepods/pod${within.metadata?.uid}/${containerId}/memory.limit_in_bytes`;
    assert.equal(readFileSync(limitFile, 'utf8').trim(), String(48 * 1024 * 1024));

    const beyond = await podWhere(
      'beyond',
      'terminated',
      (pod) => pod.status?.containerStatuses?.[0]?.state?.terminated !== undefined,
    );
    const terminated = beyond.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(terminated?.reason, 'OOMKilled', JSON.stringify(terminated));
    assert.equal(terminated.exitCode, 137);
  });

  it('refuses to start without its prerequisites, naming each missing one', async () => {
    const options = {
      binDir: '/nonexistent-streamqc-bin',
      pkiDir: '/nonexistent-streamqc-pki',
      apiServerURL: 'https://127.0.0.1:1',
      kubeConfig: kc,
      logsDir: '/nonexistent-streamqc-logs',
    };
    await assert.rejects(
      RealNode.start(options),
      /missing: .*\/nonexistent-streamqc-bin\/streamqc-k8s \(scripts\/cluster-tools\.sh builds it\).*STREAMQC_NEED_REAL_NODE=1/,
    );
    // The same check for an unprivileged user: root is named first (checked before anything is touched).
    // In-process: a child run as nobody cannot read a checkout under a private directory (mktemp -d).
    assert.throws(
      () => checkPrerequisites(options.binDir, 65534),
      /the real node cannot start; missing: root \(.*\/nonexistent-streamqc-bin\/streamqc-k8s/,
    );
  });
});
