// The StreamMonitor CRD on a real API server: a URL alone is a complete monitor, and bad
// manifests are refused with a message that names the field.
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { sharedKubeConfig } from '../cluster/shared.js';
import { API_GROUP, API_VERSION, PLURAL, type ModelSpec, type StreamMonitor } from '../../operator/api.js';
import { defaultDetectorsConfig } from '../../analyzer/detectors/index.js';
import { CROSS_FIELD_RULES } from '../../analyzer/cross-field-rules.js';
import { defaultDeliveryConfig } from '../../analyzer/delivery/options.js';
import { CROSS_FIELD_CASES } from '../unit/cross-field-cases.js';
import {
  createMonitor,
  deleteNamespaces,
  freshNamespace,
  installCrd,
  monitorManifest,
  refusal,
} from './operator-helpers.js';

let kc: KubeConfig;
let namespace: string;
const namespaces: string[] = [];

before(async () => {
  kc = sharedKubeConfig();
  await installCrd(kc);
  namespace = await freshNamespace(kc, 'sm-crd', namespaces);
});

after(async () => deleteNamespaces(kc, namespaces));

const url = 'srt://127.0.0.1:9000';

/** A valid user model entry but for its ConfigMap reference. */
function model(name: string, configMapRef: { name: string; key: string }): ModelSpec {
  return { name, configMapRef, input: { width: 8, height: 8 }, defect: { type: 'blur', threshold: 0.5 } };
}

describe('StreamMonitor CRD', () => {
  it('fills every detector default when the spec is only a source URL', async () => {
    await createMonitor(kc, namespace, monitorManifest('minimal', { source: { url } }));
    const stored = (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace,
      plural: PLURAL,
      name: 'minimal',
    })) as StreamMonitor;
    assert.deepEqual(stored.spec.detectors, defaultDetectorsConfig());
    assert.equal(stored.spec.gpu, 0);
    assert.equal(stored.spec.suspend, false);
    assert.equal(stored.spec.ingest?.reconnectMaxDelay, 30);
    assert.deepEqual(stored.spec.delivery, defaultDeliveryConfig());
  });

  it('accepts model ConfigMap names and keys the API server accepts', async () => {
    await createMonitor(
      kc,
      namespace,
      monitorManifest('models-ok', {
        source: { url },
        models: [model('a', { name: 'team.models-1', key: 'A_b-1.onnx' }), model('b', { name: 'm', key: '.hidden' })],
      }),
    );
  });

  it('accepts every manifest in examples/', async () => {
    const dir = fileURLToPath(new URL('../../../examples/', import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 3);
    for (const file of files) {
      const body = YAML.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
      await createMonitor(kc, namespace, body);
    }
  });

  const bad: { what: string; spec: Record<string, unknown>; name?: string; field: RegExp }[] = [
    { what: 'no source', spec: { detectors: {} }, field: /spec\.source: Required value/ },
    { what: 'no source.url', spec: { source: {} }, field: /spec\.source\.url: Required value/ },
    {
      what: 'a file:// URL',
      spec: { source: { url: 'file:///etc/passwd' } },
      field: /spec\.source\.url: .*url must start with one of http:\/\//s,
    },
    {
      what: 'an ftp URL',
      spec: { source: { url: 'ftp://example.com/live.ts' } },
      field: /spec\.source\.url: .*must start with one of/s,
    },
    {
      what: 'user:password in the URL',
      spec: { source: { url: 'rtmp://bob:secret@example.com/live' } },
      field: /spec\.source\.url: .*credentialsSecretRef/s,
    },
    { what: 'gpu 2', spec: { source: { url }, gpu: 2 }, field: /spec\.gpu: .*gpu must be 0 or 1/s },
    {
      what: 'a black ratio above 1',
      spec: { source: { url }, detectors: { black: { pictureRatio: 1.5 } } },
      field: /spec\.detectors\.black\.pictureRatio: .*less than or equal to 1/s,
    },
    {
      what: 'a negative minDuration',
      spec: { source: { url }, detectors: { freeze: { minDuration: -1 } } },
      field: /spec\.detectors\.freeze\.minDuration: .*greater than or equal to 0/s,
    },
    {
      what: 'a fractional freeze motionFrames',
      spec: { source: { url }, detectors: { freeze: { motionFrames: 2.5 } } },
      field: /spec\.detectors\.freeze\.motionFrames: .*integer/s,
    },
    {
      what: 'a string where a boolean belongs',
      spec: { source: { url }, suspend: 'yes' },
      field: /spec\.suspend: .*boolean/s,
    },
    {
      what: 'a model with an unknown defect type',
      spec: {
        source: { url },
        models: [
          {
            name: 'm',
            configMapRef: { name: 'c', key: 'k' },
            input: { width: 8, height: 8 },
            defect: { type: 'Weird', threshold: 0.5 },
          },
        ],
      },
      field: /spec\.models\[0\]\.defect\.type: .*model:<name>/s,
    },
    {
      what: 'a model ConfigMap name that is not a DNS subdomain',
      spec: { source: { url }, models: [model('m', { name: 'My_Models', key: 'm.onnx' })] },
      field: /spec\.models\[0\]\.configMapRef\.name: Invalid value: "My_Models": .*should match/s,
    },
    {
      what: 'a model ConfigMap key with a slash',
      spec: { source: { url }, models: [model('m', { name: 'models', key: 'a/m.onnx' })] },
      field: /spec\.models\[0\]\.configMapRef\.key: Invalid value: "a\/m\.onnx": .*should match/s,
    },
    {
      what: "a model ConfigMap key that climbs out with '..'",
      spec: { source: { url }, models: [model('m', { name: 'models', key: '..m.onnx' })] },
      field: /spec\.models\[0\]\.configMapRef\.key: Invalid value: .*must not be '\.' or start with '\.\.'/s,
    },
    {
      what: 'two models with the same name',
      spec: {
        source: { url },
        models: [model('m', { name: 'a', key: 'a.onnx' }), model('m', { name: 'b', key: 'b.onnx' })],
      },
      field: /spec\.models\[1\]: Duplicate value: .*"name":"m"/s,
    },
    {
      what: 'a delivery rendition that is no rendition name',
      spec: { source: { url }, delivery: { rendition: '720p video' } },
      field: /spec\.delivery\.rendition: Invalid value: "720p video": .*should match/s,
    },
    {
      what: 'an unknown delivery segmentChecks',
      spec: { source: { url }, delivery: { segmentChecks: 'some' } },
      field: /spec\.delivery\.segmentChecks: Unsupported value: "some"/s,
    },
    {
      what: 'a name too long for the pod label',
      name: 'x'.repeat(64),
      spec: { source: { url } },
      field: /metadata\.name must be at most 63/,
    },
  ];

  for (const { what, spec, name, field } of bad) {
    it(`refuses ${what}, naming the field`, async () => {
      const { code, message } = await refusal(kc, namespace, monitorManifest(name ?? 'bad', spec));
      assert.equal(code, 422, message);
      assert.match(message, field);
    });
  }

  // The same cases the unit test runs through the analyzer's resolveConfig: both sides agree.
  for (const [index, rule] of CROSS_FIELD_RULES.entries()) {
    it(`judges ${rule.cel} as the analyzer does: refuses what breaks it, keeps its boundary`, async () => {
      const { breaks, keeps } = CROSS_FIELD_CASES[rule.cel]!;
      for (const fragment of breaks) {
        const { code, message } = await refusal(
          kc,
          namespace,
          monitorManifest('cross-field', { source: { url }, ...fragment }),
        );
        assert.equal(code, 422, `${JSON.stringify(fragment)}: ${message}`);
        assert.ok(
          message.includes(`spec.${[...rule.block, rule.field].join('.')}: Invalid value: ${rule.message}`),
          message,
        );
      }
      for (const [i, fragment] of keeps.entries()) {
        await createMonitor(
          kc,
          namespace,
          monitorManifest(`cross-field-keeps-${index}-${i}`, { source: { url }, ...fragment }),
        );
      }
    });
  }
});
