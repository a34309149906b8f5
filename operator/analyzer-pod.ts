/**
 * What a StreamMonitor owns, rendered from its spec: the analyzer config (validated and
 * defaulted by the analyzer's own resolveConfig), the ConfigMap that carries it, and the
 * analyzer Pod. The config hash covers everything the pod is made of, so any spec change that
 * matters gives a new hash and thereby a new pod.
 */
import { createHash } from 'node:crypto';
import type {
  V1ConfigMap,
  V1OwnerReference,
  V1Pod,
  V1Toleration,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import YAML from 'yaml';
import { resolveConfig, type AnalyzerConfig } from '../analyzer/config.js';
import type { StreamMonitor } from './api.js';

export const LABEL_MONITOR = 'streamqc.io/monitor';
export const ANNOTATION_CONFIG_HASH = 'streamqc.io/config-hash';
export const GPU_RESOURCE = 'nvidia.com/gpu';
export const CONFIG_DIR = '/etc/streamqc';
export const CONFIG_FILE = 'config.yaml';
const MODELS_DIR = '/models';
/** The analyzer images' own USER (images/analyzer/Dockerfile). */
const ANALYZER_UID = 10001;
export const ANALYZER_PORT = 9090;

/** Stable JSON: keys sorted, so equal values hash equally whatever order the API server used. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The analyzer config for a monitor; throws the analyzer's ConfigError when the spec cannot be one. */
export function analyzerConfigFor(monitor: StreamMonitor): AnalyzerConfig {
  const { spec } = monitor;
  return resolveConfig({
    stream: spec.stream ?? monitor.metadata.name,
    live: spec.source.live ?? null,
    listenAddress: '0.0.0.0',
    // The analyzer serves nothing by default; in a pod it must serve probes, metrics and /status.
    http: { port: ANALYZER_PORT },
    analysis: { ...spec.analysis, gpu: spec.gpu === 1 },
    ingest: spec.ingest ?? {},
    delivery: spec.delivery ?? {},
    detectors: spec.detectors ?? {},
    models: (spec.models ?? []).map(({ configMapRef, output, ...model }) => ({
      ...model,
      output: output ?? {},
      path: `${MODELS_DIR}/${model.name}/${configMapRef.key}`,
    })),
  });
}

export function ownerReferenceTo(monitor: StreamMonitor): V1OwnerReference {
  return {
    apiVersion: monitor.apiVersion,
    kind: monitor.kind,
    name: monitor.metadata.name,
    uid: monitor.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function labelsFor(monitor: StreamMonitor): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'streamqc-analyzer',
    'app.kubernetes.io/instance': monitor.metadata.name,
    'app.kubernetes.io/component': 'analyzer',
    'app.kubernetes.io/part-of': 'streamqc',
    'app.kubernetes.io/managed-by': 'streamqc-operator',
    [LABEL_MONITOR]: monitor.metadata.name,
  };
}

export function configMapNameFor(monitor: StreamMonitor): string {
  return `${monitor.metadata.name}-analyzer-config`;
}

export function configMapFor(monitor: StreamMonitor, configYaml: string): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: configMapNameFor(monitor),
      namespace: monitor.metadata.namespace,
      labels: labelsFor(monitor),
      ownerReferences: [ownerReferenceTo(monitor)],
    },
    data: { [CONFIG_FILE]: configYaml },
  };
}

export interface RenderedAnalyzer {
  /** The monitor's namespace, where the pod and the ConfigMap live. */
  namespace: string;
  podName: string;
  configMapName: string;
  config: AnalyzerConfig;
  configYaml: string;
  configMap: V1ConfigMap;
  pod: V1Pod;
  hash: string;
}

/** The CRD accepts 2 as well as "2" (int-or-string); the pod API wants strings. */
function quantities(values: Record<string, string | number> | undefined): Record<string, string> | undefined {
  return values === undefined ? undefined : Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
}

type Resources = NonNullable<StreamMonitor['spec']['resources']>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `{"requests": {name: quantity}, "limits": {name: quantity}}`, either part optional. */
function isResources(v: unknown): v is Resources {
  const quantities = (q: unknown): boolean =>
    q === undefined ||
    (isPlainObject(q) && Object.values(q).every((x) => typeof x === 'string' || typeof x === 'number'));
  return (
    isPlainObject(v) &&
    Object.keys(v).every((k) => k === 'requests' || k === 'limits') &&
    quantities(v.requests) &&
    quantities(v.limits)
  );
}

/** What a monitor gets when its spec does not say: set per installation (the chart's values). */
export interface AnalyzerDefaults {
  image: string;
  /** The CUDA build of the analyzer, for monitors with gpu: 1. */
  gpuImage: string;
  resources: Resources;
}

export const BUILT_IN_ANALYZER_DEFAULTS: AnalyzerDefaults = {
  image: 'ghcr.io/streamqc/analyzer:0.1.0',
  gpuImage: 'ghcr.io/streamqc/analyzer-cuda:0.1.0',
  resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { memory: '1Gi' } },
};

/**
 * Installation defaults from the operator's environment (the chart sets them):
 * STREAMQC_ANALYZER_IMAGE, STREAMQC_ANALYZER_GPU_IMAGE, STREAMQC_ANALYZER_RESOURCES (JSON of
 * requests/limits). A malformed value is an error naming the variable.
 */
export function analyzerDefaultsFromEnv(env: NodeJS.ProcessEnv): AnalyzerDefaults {
  const defaults = { ...BUILT_IN_ANALYZER_DEFAULTS };
  if (env.STREAMQC_ANALYZER_IMAGE) defaults.image = env.STREAMQC_ANALYZER_IMAGE;
  if (env.STREAMQC_ANALYZER_GPU_IMAGE) defaults.gpuImage = env.STREAMQC_ANALYZER_GPU_IMAGE;
  const raw = env.STREAMQC_ANALYZER_RESOURCES;
  if (raw) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new Error(
        `STREAMQC_ANALYZER_RESOURCES: ${JSON.stringify(raw)} is not JSON; expected {"requests": {...}, "limits": {...}}`,
      );
    }
    if (!isResources(parsed)) {
      throw new Error(
        `STREAMQC_ANALYZER_RESOURCES: ${raw} is not {"requests": {name: quantity}, "limits": {name: quantity}}`,
      );
    }
    defaults.resources = parsed;
  }
  return defaults;
}

/** Everything the monitor owns, with the hash that names the pod. Throws ConfigError on a bad spec. */
export function renderAnalyzer(
  monitor: StreamMonitor,
  defaults: AnalyzerDefaults = BUILT_IN_ANALYZER_DEFAULTS,
): RenderedAnalyzer {
  const { spec } = monitor;
  const config = analyzerConfigFor(monitor);
  const configYaml = YAML.stringify(config);
  const gpu = spec.gpu === 1;
  const resources = spec.resources ?? defaults.resources;
  const limits = { ...quantities(resources.limits), ...(gpu ? { [GPU_RESOURCE]: '1' } : {}) };
  const tolerations: V1Toleration[] = [
    ...(spec.tolerations ?? []),
    ...(gpu ? [{ key: GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' }] : []),
  ];
  const credentials = spec.source.credentialsSecretRef;
  const models = spec.models ?? [];
  const volumes: V1Volume[] = [
    { name: 'config', configMap: { name: configMapNameFor(monitor) } },
    // The root filesystem is read-only; ffmpeg and onnxruntime may still want a scratch dir.
    { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
    ...models.map((m, i) => ({
      name: `model-${i}`,
      configMap: { name: m.configMapRef.name, items: [{ key: m.configMapRef.key, path: m.configMapRef.key }] },
    })),
  ];
  const volumeMounts: V1VolumeMount[] = [
    { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
    ...models.map((m, i) => ({ name: `model-${i}`, mountPath: `${MODELS_DIR}/${m.name}`, readOnly: true })),
  ];
  const port = config.http.port;
  const podSpec: V1Pod['spec'] = {
    // The analyzer parses untrusted media and needs no Kubernetes access: no token, restricted PSS.
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 15,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: ANALYZER_UID,
      runAsGroup: ANALYZER_UID,
      fsGroup: ANALYZER_UID,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [
      {
        name: 'analyzer',
        image: spec.image ?? (gpu ? defaults.gpuImage : defaults.image),
        args: ['analyze', spec.source.url, '--config', `${CONFIG_DIR}/${CONFIG_FILE}`],
        ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
        env:
          credentials === undefined
            ? undefined
            : [
                {
                  name: 'STREAMQC_SOURCE_USERNAME',
                  valueFrom: { secretKeyRef: { name: credentials.name, key: credentials.usernameKey ?? 'username' } },
                },
                {
                  name: 'STREAMQC_SOURCE_PASSWORD',
                  valueFrom: { secretKeyRef: { name: credentials.name, key: credentials.passwordKey ?? 'password' } },
                },
              ],
        resources: {
          requests: quantities(resources.requests),
          limits: Object.keys(limits).length > 0 ? limits : undefined,
        },
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        },
        volumeMounts,
        readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5 },
        livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, failureThreshold: 6 },
      },
    ],
    volumes,
    nodeSelector: spec.nodeSelector,
    tolerations: tolerations.length > 0 ? tolerations : undefined,
    affinity: spec.affinity,
    priorityClassName: spec.priorityClassName,
    runtimeClassName: spec.runtimeClassName,
  };
  const hash = createHash('sha256').update(stableJson({ configYaml, podSpec })).digest('hex').slice(0, 16);
  // Named by the hash: two operators racing (or one retrying) cannot create two pods of one config.
  const podName = `${monitor.metadata.name}-${hash.slice(0, 10)}`;
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName,
      namespace: monitor.metadata.namespace,
      labels: labelsFor(monitor),
      annotations: { [ANNOTATION_CONFIG_HASH]: hash },
      ownerReferences: [ownerReferenceTo(monitor)],
    },
    spec: podSpec,
  };
  return {
    namespace: monitor.metadata.namespace,
    podName,
    configMapName: configMapNameFor(monitor),
    config,
    configYaml,
    configMap: configMapFor(monitor, configYaml),
    pod,
    hash,
  };
}
