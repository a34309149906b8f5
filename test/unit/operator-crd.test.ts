// The committed CRD is what operator/crd-gen.ts produces, and operator/api.ts has exactly the
// CRD's fields: the CRD stays the single source of truth.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CRD_PATH, streamMonitorCrd, streamMonitorCrdYaml } from '../../operator/crd-gen.js';
import type { StreamMonitorSpec, StreamMonitorStatus } from '../../operator/api.js';
import { defaultDetectorsConfig } from '../../analyzer/detectors/index.js';
import { defaultConfig } from '../../analyzer/config.js';

type DeepRequired<T> = T extends (infer U)[]
  ? DeepRequired<U>[]
  : T extends object
    ? { [K in keyof T]-?: DeepRequired<T[K]> }
    : T;

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
}

/** Every mismatch between a complete sample value of a TS type and the schema node it claims to fit. */
function drift(path: string, schema: SchemaNode, value: unknown): string[] {
  if (schema['x-kubernetes-preserve-unknown-fields'] || schema['x-kubernetes-int-or-string']) return [];
  if (schema.type === 'array') {
    if (!Array.isArray(value) || value.length === 0) return [`${path}: the sample needs one array item`];
    return drift(`${path}[]`, schema.items ?? {}, value[0]);
  }
  if (schema.type === 'object') {
    if (value === null || typeof value !== 'object') return [`${path}: the type is not an object`];
    if (schema.additionalProperties)
      return Object.entries(value).flatMap(([k, v]) => drift(`${path}.${k}`, schema.additionalProperties!, v));
    const fields = schema.properties ?? {};
    const inType = Object.keys(value);
    return [
      ...Object.keys(fields)
        .filter((k) => !inType.includes(k))
        .map((k) => `${path}.${k}: in the CRD, not in operator/api.ts`),
      ...inType.filter((k) => !(k in fields)).map((k) => `${path}.${k}: in operator/api.ts, not in the CRD`),
      ...inType
        .filter((k) => k in fields)
        .flatMap((k) => drift(`${path}.${k}`, fields[k]!, (value as Record<string, unknown>)[k])),
    ];
  }
  const expected = schema.type === 'integer' ? 'number' : schema.type;
  return typeof value === expected ? [] : [`${path}: ${typeof value} in operator/api.ts, ${schema.type} in the CRD`];
}

const analysis = defaultConfig().analysis;
const { gpu: _gpu, ...analysisWithoutGpu } = analysis;

// Complete values of the API types: the compiler insists on every field of the type, the test on
// every field of the CRD.
const spec: DeepRequired<Omit<StreamMonitorSpec, 'tolerations' | 'affinity'>> &
  Pick<StreamMonitorSpec, 'tolerations' | 'affinity'> = {
  source: { url: 'srt://x', live: true, credentialsSecretRef: { name: 's', usernameKey: 'u', passwordKey: 'p' } },
  stream: 'news',
  detectors: defaultDetectorsConfig(),
  ingest: defaultConfig().ingest,
  analysis: analysisWithoutGpu,
  delivery: defaultConfig().delivery,
  models: [
    {
      name: 'm',
      configMapRef: { name: 'c', key: 'k' },
      input: { name: 'in', width: 8, height: 8, layout: 'NCHW', channels: 1, scale: 1, mean: 0, std: 1 },
      output: { name: 'out', index: 0 },
      defect: { type: 'blur', threshold: 0.5, above: true, minDuration: 1 },
    },
  ],
  image: 'img',
  resources: { limits: { cpu: '1' }, requests: { memory: '1Gi' } },
  gpu: 0,
  nodeSelector: { zone: 'a' },
  tolerations: [{ key: 'k', operator: 'Exists' }],
  affinity: {},
  priorityClassName: 'p',
  runtimeClassName: 'r',
  suspend: false,
};

const status: DeepRequired<StreamMonitorStatus> = {
  phase: 'Running',
  observedGeneration: 1,
  conditions: [
    {
      type: 'Ready',
      status: 'True',
      reason: 'AnalyzerRunning',
      message: '',
      lastTransitionTime: 't',
      observedGeneration: 1,
    },
  ],
  analyzer: { pod: 'p', node: 'n', podIP: 'ip', startTime: 't', restarts: 0, configHash: 'h' },
  stream: {
    videoCodec: 'h264',
    audioCodec: 'aac',
    resolution: '1x1',
    frameRate: 25,
    audioLayout: 'stereo',
    bitrate: 1,
  },
  defects: { active: ['black'], last: { type: 'black', wallclock: 't' }, counts: { black: 1 } },
  delivery: {
    rendition: '720p',
    declared: 2,
    alive: 1,
    summary: '1/2',
    renditions: [
      {
        name: '720p',
        bandwidth: 3_000_000,
        resolution: '1280x720',
        alive: false,
        listed: false,
        downSince: 't',
        lastError: { type: 'playlist_stale', since: 't', active: true },
      },
    ],
  },
  signals: { count: 1, recent: [{ type: 'cue_out', wallclock: 't', message: 'cue_out at t' }] },
};

function versionSchema(): { spec: SchemaNode; status: SchemaNode } {
  const crd = streamMonitorCrd() as {
    spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: SchemaNode; status: SchemaNode } } } }[] };
  };
  return crd.spec.versions[0]!.schema.openAPIV3Schema.properties;
}

describe('StreamMonitor CRD generation', () => {
  it('the committed crds/ YAML is what operator/crd-gen.ts generates', () => {
    assert.equal(
      readFileSync(CRD_PATH, 'utf8'),
      streamMonitorCrdYaml(),
      'stale CRD: run npm run build && node dist/operator/crd-gen.js',
    );
  });

  it('every detector option of the analyzer is in the CRD with its default', () => {
    const detectors = (versionSchema().spec.properties?.detectors?.properties ?? {}) as Record<
      string,
      { default: unknown }
    >;
    assert.deepEqual(
      Object.fromEntries(Object.entries(detectors).map(([k, v]) => [k, v.default])),
      defaultDetectorsConfig(),
    );
  });

  it('operator/api.ts spec type has exactly the CRD spec fields', () => {
    assert.deepEqual(drift('spec', versionSchema().spec, spec), []);
  });

  it('operator/api.ts status type has exactly the CRD status fields', () => {
    assert.deepEqual(drift('status', versionSchema().status, status), []);
  });
});
