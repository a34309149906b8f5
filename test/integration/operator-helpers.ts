// What the operator's integration tests share: the CRD installed on the run's control plane,
// throw-away namespaces, polling, and the message of a request the API server refused.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  loadYaml,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import {
  API_GROUP,
  API_VERSION,
  KIND,
  PLURAL,
  type StreamMonitor,
  type StreamMonitorSpec,
} from '../../operator/api.js';
import { CRD_PATH } from '../../operator/crd-gen.js';
import { StreamMonitorController, type ControllerOptions } from '../../operator/controller.js';

export const timeoutMs = 60_000;

/** Polls `check` (sync or async) every 200 ms until it returns a value other than false, undefined or null. */
export async function eventually<T>(
  what: string,
  check: () => T | false | undefined | null | Promise<T | false | undefined | null>,
  ms = timeoutMs,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last = '';
  for (;;) {
    try {
      const value = await check();
      if (value !== false && value !== undefined && value !== null) return value;
    } catch (err) {
      last = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    }
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Installs (or updates) the committed CRD and waits until the API server serves it. */
export async function installCrd(kc: KubeConfig): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  // loadYaml maps x-kubernetes-* keys to the client's field names; a plain parse would lose them.
  const body = loadYaml<V1CustomResourceDefinition>(readFileSync(CRD_PATH, 'utf8'));
  const name = body.metadata?.name ?? '';
  await eventually('the StreamMonitor CRD to be stored', async () => {
    try {
      await api.createCustomResourceDefinition({ body });
    } catch (err) {
      if (!(err instanceof ApiException) || err.code !== 409) throw err;
      const current = await api.readCustomResourceDefinition({ name });
      await api.replaceCustomResourceDefinition({
        name,
        // eslint-disable-next-line @typescript-eslint/no-misused-spread -- an API model, plain data like those eslint.config.js allows
        body: { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata?.resourceVersion } },
      });
    }
    return true;
  });
  await eventually('the StreamMonitor CRD to be Established', async () => {
    const crd = await api.readCustomResourceDefinition({ name });
    return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  });
}

/** A namespace that enforces the restricted Pod Security Standard, so every analyzer pod is checked by admission. */
export async function freshNamespace(kc: KubeConfig, prefix: string, cleanup: string[]): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({
    body: { metadata: { name, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } },
  });
  cleanup.push(name);
  await eventually(`service account default in ${name}`, async () => {
    await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
    return true;
  });
  return name;
}

export async function deleteNamespaces(kc: KubeConfig, names: string[]): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await Promise.all(names.map((name) => core.deleteNamespace({ name }).catch(() => undefined)));
}

export function monitorManifest(
  name: string,
  spec: Partial<StreamMonitorSpec> & Record<string, unknown>,
): Record<string, unknown> {
  return { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: KIND, metadata: { name }, spec };
}

export async function createMonitor(kc: KubeConfig, namespace: string, body: Record<string, unknown>): Promise<void> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  for (const deadline = Date.now() + timeoutMs; ;) {
    try {
      await custom.createNamespacedCustomObject({
        group: API_GROUP,
        version: API_VERSION,
        namespace,
        plural: PLURAL,
        body,
      });
      return;
    } catch (err) {
      // 404: the discovery of a freshly established group can lag by a moment.
      if (!(err instanceof ApiException) || err.code !== 404 || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** A monitor as the API server stores it (what the CRD's schema kept of its status). */
export async function readMonitor(kc: KubeConfig, namespace: string, name: string): Promise<StreamMonitor> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const query = { group: API_GROUP, version: API_VERSION, namespace, plural: PLURAL, name };
  return (await custom.getNamespacedCustomObject(query)) as StreamMonitor;
}

/** The HTTP status and message of a create the API server refused (fails if it accepted it). */
export async function refusal(
  kc: KubeConfig,
  namespace: string,
  body: Record<string, unknown>,
): Promise<{ code: number; message: string }> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  for (const deadline = Date.now() + timeoutMs; ;) {
    try {
      await custom.createNamespacedCustomObject({
        group: API_GROUP,
        version: API_VERSION,
        namespace,
        plural: PLURAL,
        body,
      });
    } catch (err) {
      if (!(err instanceof ApiException)) throw err;
      // 404: the group's discovery has not caught up yet.
      if (err.code === 404 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      const parsed: unknown = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
      return { code: err.code, message: (parsed as { message?: string } | undefined)?.message ?? '' };
    }
    return assert.fail(`the API server accepted ${JSON.stringify(body)}`);
  }
}

/** What a test of a running controller holds: the clients, its namespace and the controller. */
export interface ControllerUnderTest {
  kc: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  namespace: string;
  controller: StreamMonitorController;
}

/** The CRD installed, a fresh restricted namespace, and a controller watching only it, started. */
export async function controllerInFreshNamespace(
  kc: KubeConfig,
  prefix: string,
  cleanup: string[],
  options: Omit<ControllerOptions, 'kubeConfig' | 'namespaces'>,
): Promise<ControllerUnderTest> {
  await installCrd(kc);
  const namespace = await freshNamespace(kc, prefix, cleanup);
  const controller = new StreamMonitorController({ ...options, kubeConfig: kc, namespaces: [namespace] });
  await controller.start();
  return { kc, core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi), namespace, controller };
}
