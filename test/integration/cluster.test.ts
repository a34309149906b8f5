// The test control plane behaves like a real cluster in the ways streamqc relies on.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  ApiException,
  AppsV1Api,
  ApiextensionsV1Api,
  AuthenticationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1Pod,
} from '@kubernetes/client-node';
import { sharedKubeConfig } from '../cluster/shared.js';
import { gpuResource, gpuTaint } from '../cluster/nodes.js';

const timeoutMs = 60_000;
const image = 'registry.invalid/streamqc/test:1';

let kc: KubeConfig;
let core: CoreV1Api;
let apps: AppsV1Api;
const namespaces: string[] = [];

before(() => {
  kc = sharedKubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
});

after(async () => {
  await Promise.all(namespaces.map((name) => core.deleteNamespace({ name }).catch(() => undefined)));
});

/** A fresh namespace whose default service account exists, so pods can be admitted. */
async function freshNamespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name, labels } } });
  namespaces.push(name);
  await eventually(`service account default in ${name}`, async () => {
    await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
    return true;
  });
  return name;
}

async function eventually<T>(what: string, check: () => Promise<T | false | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const value = await check();
      if (value !== false && value !== undefined) return value;
    } catch (err) {
      last = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    }
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The HTTP status and Status message of a request the API server refused. */
async function refusal(request: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await request;
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const body: unknown = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
    return { code: err.code, message: (body as { message?: string } | undefined)?.message ?? '' };
  }
  return assert.fail('the API server accepted a request it should have refused');
}

function isNotFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

function pod(name: string, spec: Partial<NonNullable<V1Pod['spec']>> = {}, containerSecurity = {}): V1Pod {
  return {
    metadata: { name },
    spec: { containers: [{ name: 'main', image, securityContext: containerSecurity }], ...spec },
  };
}

describe('test control plane', () => {
  it('runs a Deployment as a Running pod on a kwok node with a loopback pod IP', async () => {
    const namespace = await freshNamespace('deploy');
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } },
        },
      },
    });
    const running = await eventually('a Running pod of Deployment web', async () =>
      (await core.listNamespacedPod({ namespace, labelSelector: 'app=web' })).items.find(
        (p) => p.status?.phase === 'Running',
      ),
    );
    assert.match(running.spec?.nodeName ?? '', /^kwok-node-\d$/);
    assert.match(running.status?.podIP ?? '', /^127\.1\.\d+\.\d+$/);
    const deployment = await eventually('Deployment web available', async () => {
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace });
      return d.status?.availableReplicas === 1 ? d : undefined;
    });
    assert.equal(deployment.status?.readyReplicas, 1);
  });

  it('garbage-collects the ReplicaSet and pods of a deleted Deployment', async () => {
    const namespace = await freshNamespace('gc');
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'owner' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'owner' } },
          template: { metadata: { labels: { app: 'owner' } }, spec: { containers: [{ name: 'main', image }] } },
        },
      },
    });
    await eventually(
      '2 Running pods',
      async () =>
        (await core.listNamespacedPod({ namespace })).items.filter((p) => p.status?.phase === 'Running').length === 2,
    );
    const [replicaSet] = (await apps.listNamespacedReplicaSet({ namespace })).items;
    assert.equal(replicaSet?.metadata?.ownerReferences?.[0]?.name, 'owner');

    await apps.deleteNamespacedDeployment({ name: 'owner', namespace, propagationPolicy: 'Background' });
    await eventually(
      'the ReplicaSet and its pods to be gone',
      async () =>
        (await apps.listNamespacedReplicaSet({ namespace })).items.length === 0 &&
        (await core.listNamespacedPod({ namespace })).items.length === 0,
    );
  });

  it('enforces the restricted Pod Security Standard on a labelled namespace', async () => {
    const namespace = await freshNamespace('restricted', { 'pod-security.kubernetes.io/enforce': 'restricted' });
    const privileged = await refusal(
      core.createNamespacedPod({
        namespace,
        body: pod('privileged', {}, { privileged: true }),
      }),
    );
    assert.equal(privileged.code, 403);
    assert.match(privileged.message, /violates PodSecurity "restricted:latest": privileged/);

    const compliant = await core.createNamespacedPod({
      namespace,
      body: pod(
        'compliant',
        { securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } } },
        {
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        },
      ),
    });
    assert.equal(compliant.metadata?.name, 'compliant');
  });

  it('issues service account tokens that the API server authenticates', async () => {
    const namespace = await freshNamespace('token');
    const request = await core.createNamespacedServiceAccountToken({
      name: 'default',
      namespace,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const review = await kc.makeApiClient(AuthenticationV1Api).createTokenReview({
      body: { spec: { token: request.status?.token ?? '' } },
    });
    assert.equal(review.status?.authenticated, true, review.status?.error);
    assert.equal(review.status.user?.username, `system:serviceaccount:${namespace}:default`);
  });

  it('stores a custom resource that passes its CEL rule, keeps status apart, and rejects one that fails', async () => {
    const extensions = kc.makeApiClient(ApiextensionsV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const group = `it${randomBytes(3).toString('hex')}.streamqc.test`;
    const plural = 'replicaranges';
    await extensions.createCustomResourceDefinition({
      body: {
        metadata: { name: `${plural}.${group}` },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural, singular: 'replicarange', kind: 'ReplicaRange' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: {
                      type: 'object',
                      required: ['min', 'max'],
                      properties: { min: { type: 'integer' }, max: { type: 'integer' } },
                      x_kubernetes_validations: [{ rule: 'self.min <= self.max', message: 'min must not exceed max' }],
                    },
                    status: { type: 'object', properties: { observed: { type: 'integer' } } },
                  },
                },
              },
            },
          ],
        },
      },
    });
    try {
      await eventually('the CRD to be Established', async () => {
        const crd = await extensions.readCustomResourceDefinition({ name: `${plural}.${group}` });
        return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      });
      const namespace = await freshNamespace('crd');
      const ref = { group, version: 'v1', namespace, plural };
      // The discovery of a new group can lag its Established condition by a moment.
      await eventually('the valid object to be stored', async (): Promise<unknown> =>
        custom.createNamespacedCustomObject({
          ...ref,
          body: {
            apiVersion: `${group}/v1`,
            kind: 'ReplicaRange',
            metadata: { name: 'valid' },
            spec: { min: 1, max: 3 },
          },
        }),
      );
      const stored = (await custom.getNamespacedCustomObject({ ...ref, name: 'valid' })) as {
        spec: unknown;
        metadata: { generation: number };
      };
      assert.deepEqual(stored.spec, { min: 1, max: 3 });

      const withStatus = (await custom.replaceNamespacedCustomObjectStatus({
        ...ref,
        name: 'valid',
        body: { ...stored, spec: { min: 2, max: 2 }, status: { observed: 3 } },
      })) as { spec: unknown; status: unknown; metadata: { generation: number } };
      assert.deepEqual(withStatus.status, { observed: 3 });
      assert.deepEqual(withStatus.spec, { min: 1, max: 3 }, 'the status subresource must not change spec');
      assert.equal(withStatus.metadata.generation, stored.metadata.generation);

      const invalid = await refusal(
        custom.createNamespacedCustomObject({
          ...ref,
          body: {
            apiVersion: `${group}/v1`,
            kind: 'ReplicaRange',
            metadata: { name: 'invalid' },
            spec: { min: 5, max: 2 },
          },
        }),
      );
      assert.equal(invalid.code, 422);
      assert.match(invalid.message, /min must not exceed max/);
      await assert.rejects(custom.getNamespacedCustomObject({ ...ref, name: 'invalid' }), isNotFound);
    } finally {
      await extensions.deleteCustomResourceDefinition({ name: `${plural}.${group}` });
    }
  });

  it('places pods that request nvidia.com/gpu only on GPU nodes', async () => {
    const namespace = await freshNamespace('gpu');
    const gpuPod = (name: string, tolerate: boolean): V1Pod => ({
      metadata: { name },
      spec: {
        containers: [{ name: 'main', image, resources: { limits: { [gpuResource]: '1' } } }],
        tolerations: tolerate ? [{ key: gpuTaint.key, operator: 'Exists', effect: gpuTaint.effect }] : undefined,
      },
    });
    const names = ['gpu-a', 'gpu-b', 'gpu-c'];
    for (const name of names) await core.createNamespacedPod({ namespace, body: gpuPod(name, true) });
    await core.createNamespacedPod({ namespace, body: gpuPod('no-toleration', false) });

    const placed = await eventually('the GPU pods to be Running', async () => {
      const pods = (await core.listNamespacedPod({ namespace })).items.filter((p) =>
        names.includes(p.metadata?.name ?? ''),
      );
      return pods.length === names.length && pods.every((p) => p.status?.phase === 'Running') ? pods : undefined;
    });
    for (const p of placed)
      assert.match(p.spec?.nodeName ?? '', /^kwok-gpu-\d$/, `${p.metadata?.name} ran on ${p.spec?.nodeName}`);
    const gpuNodes = (await core.listNode({ labelSelector: 'nvidia.com/gpu.present=true' })).items.map(
      (n) => n.metadata?.name,
    );
    assert.deepEqual(gpuNodes.sort(), ['kwok-gpu-0', 'kwok-gpu-1']);

    const unschedulable = await eventually('the pod without a toleration to be marked unschedulable', async () => {
      const p = await core.readNamespacedPod({ name: 'no-toleration', namespace });
      return p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable');
    });
    assert.equal(unschedulable.status, 'False');
    assert.match(unschedulable.message ?? '', /untolerated taint.*nvidia\.com\/gpu|Insufficient nvidia\.com\/gpu/);
  });
});
