/**
 * Generates the StreamMonitor CustomResourceDefinition. The detector, ingest and analysis
 * blocks come from the analyzer's own option tables, so a new option or a changed default
 * reaches the API without a hand edit; a unit test fails when the committed YAML in crds/
 * differs from what this file produces.
 *
 *   node dist/operator/crd-gen.js           # rewrites crds/streamqc.io_streammonitors.yaml
 *   node dist/operator/crd-gen.js --check   # exits 1 when the committed file is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { analysisOptions, ingestOptions } from '../analyzer/config.js';
import { DETECTOR_OPTIONS } from '../analyzer/detectors/index.js';
import { CROSS_FIELD_RULES } from '../analyzer/cross-field-rules.js';
import { defaultsOf, schemaOf, type OptionTable } from '../analyzer/options.js';
// The config half of user models: the runner half loads onnxruntime, which the operator never needs.
import { HIGHEST, RENDITION_NAME_PATTERN, deliveryOptions } from '../analyzer/delivery/options.js';
import { MODEL_DEFECT_TYPES } from '../analyzer/features/custom-model-config.js';
import { ALLOWED_SCHEMES, API_GROUP, API_VERSION, KIND, PHASES, PLURAL } from './api.js';
import { MAX_STATUS_RENDITIONS } from './ladder.js';

export const CRD_PATH = fileURLToPath(new URL('../../crds/streamqc.io_streammonitors.yaml', import.meta.url));

type Schema = Record<string, unknown>;

/** An option table as an object the API server fills with every default when it is omitted. */
function defaultedBlock(table: OptionTable, omit: readonly string[] = []): Schema {
  const schema = schemaOf(table) as { properties: Record<string, unknown> };
  const properties = Object.fromEntries(Object.entries(schema.properties).filter(([name]) => !omit.includes(name)));
  // additionalProperties is not allowed next to properties in a structural schema; unknown fields
  // are pruned by the API server instead (and rejected by kubectl's field validation).
  // The full defaults, not {}: the API server checks a default against the CEL rules as it is.
  const defaults = Object.fromEntries(Object.entries(defaultsOf(table)).filter(([name]) => !omit.includes(name)));
  return { type: 'object', default: defaults, properties };
}

/** The HLS/DASH client's options, and the rendition it decodes (a name, so not in the option table). */
function deliveryBlock(): Schema {
  const block = defaultedBlock(deliveryOptions) as { default: Schema; properties: Schema };
  return {
    type: 'object',
    description: "The analyzer's own HLS/DASH client: delivery checks on every rendition, one decoded",
    default: { ...block.default, rendition: HIGHEST },
    properties: {
      ...block.properties,
      rendition: string(`the rendition decoded: ${HIGHEST} (largest BANDWIDTH) or a rendition name (e.g. 720p)`, {
        pattern: RENDITION_NAME_PATTERN,
        default: HIGHEST,
      }),
    },
  };
}

function rule(rule: string, message: string, fieldPath?: string): Schema {
  return fieldPath ? { rule, message, fieldPath } : { rule, message };
}

const string = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
const preserved = (description: string): Schema => ({
  type: 'object',
  description,
  'x-kubernetes-preserve-unknown-fields': true,
});

function detectorsSchema(): Schema {
  const properties: Record<string, Schema> = {};
  for (const [type, table] of Object.entries(DETECTOR_OPTIONS)) properties[type] = defaultedBlock(table);
  return { type: 'object', default: {}, description: 'Per-detector options; every field has a default.', properties };
}

/**
 * The analyzer's cross-field rules as CEL on the block each one judges: the same table the
 * analyzer's resolveConfig runs, so both refuse the same documents.
 */
function withCrossFieldRules(spec: Schema): Schema {
  for (const { block, field, cel, message } of CROSS_FIELD_RULES) {
    let node = spec;
    for (const key of block) {
      const child = (node.properties as Record<string, Schema> | undefined)?.[key];
      if (child === undefined) throw new Error(`cross-field rule on ${block.join('.')}: the schema has no ${key}`);
      node = child;
    }
    const rules = (node['x-kubernetes-validations'] ??= []) as Schema[];
    rules.push(rule(cel, message, `.${field}`));
  }
  return spec;
}

const CONFIGMAP_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

function modelSchema(): Schema {
  const num = (description: string, min?: number, max?: number): Schema => ({
    type: 'number',
    description,
    ...(min !== undefined ? { minimum: min } : {}),
    ...(max !== undefined ? { maximum: max } : {}),
  });
  return {
    type: 'object',
    required: ['name', 'configMapRef', 'input', 'defect'],
    properties: {
      name: string('Names the model in logs, metrics and model:<name> defect types', {
        pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$',
      }),
      configMapRef: {
        type: 'object',
        description: 'ConfigMap (binaryData) that holds the .onnx file',
        required: ['name', 'key'],
        properties: {
          // What the API server itself requires of a ConfigMap name and key, checked here so that a
          // monitor is refused when applied rather than leaving a pod that can never be created.
          name: string('ConfigMap name (a DNS subdomain)', { maxLength: 253, pattern: CONFIGMAP_NAME_PATTERN }),
          key: string('key of the .onnx file', {
            maxLength: 253,
            pattern: '^[-._a-zA-Z0-9]+$',
            'x-kubernetes-validations': [
              rule("self != '.' && !self.startsWith('..')", "key must not be '.' or start with '..'"),
            ],
          }),
        },
      },
      input: {
        type: 'object',
        required: ['width', 'height'],
        properties: {
          name: string('model input to feed; default: the only input'),
          width: { type: 'integer', minimum: 1, maximum: 4096 },
          height: { type: 'integer', minimum: 1, maximum: 4096 },
          layout: string('tensor layout', { enum: ['NCHW', 'NHWC'], default: 'NCHW' }),
          channels: { type: 'integer', enum: [1, 3], default: 1, description: '3 replicates luma into every channel' },
          scale: num('pixel (0..255) multiplier; default 1/255'),
          mean: num('subtracted after scaling; default 0'),
          std: num('divides after the mean; default 1', 0),
        },
      },
      output: {
        type: 'object',
        default: {},
        properties: {
          name: string('model output with the score; default: the first output'),
          index: {
            type: 'integer',
            minimum: 0,
            description: "which value of one frame's output is the score; default 0",
          },
        },
      },
      defect: {
        type: 'object',
        required: ['type', 'threshold'],
        properties: {
          type: string(`one of ${MODEL_DEFECT_TYPES.join(', ')} or model:<name>`, { maxLength: 70 }),
          threshold: num('score threshold'),
          above: { type: 'boolean', default: true, description: 'true: a score above the threshold is defective' },
          minDuration: num('seconds the score must stay defective', 0, 3600),
        },
        'x-kubernetes-validations': [
          rule(
            `self.type in [${MODEL_DEFECT_TYPES.map((t) => `'${t}'`).join(', ')}] || self.type.matches('^model:[a-z0-9][a-z0-9_-]{0,62}$')`,
            `type must be one of ${MODEL_DEFECT_TYPES.join(', ')} or model:<name> (lower case)`,
            '.type',
          ),
        ],
      },
    },
  };
}

const schemes = ALLOWED_SCHEMES.join('|');

function specSchema(): Schema {
  return withCrossFieldRules({
    type: 'object',
    required: ['source'],
    properties: {
      source: {
        type: 'object',
        required: ['url'],
        properties: {
          url: string(`Stream URL; schemes: ${ALLOWED_SCHEMES.join(', ')}`, { minLength: 1, maxLength: 2048 }),
          live: { type: 'boolean', description: 'force live (true) or finite (false) handling; default: by the URL' },
          credentialsSecretRef: {
            type: 'object',
            description: 'Secret with the source credentials (never put them in the URL)',
            required: ['name'],
            properties: {
              name: string('Secret name', { maxLength: 253 }),
              usernameKey: string('key of the user name', { default: 'username' }),
              passwordKey: string('key of the password', { default: 'password' }),
            },
          },
        },
        'x-kubernetes-validations': [
          rule(
            `self.url.matches('^(${schemes})://')`,
            `url must start with one of ${ALLOWED_SCHEMES.map((s) => `${s}://`).join(', ')}`,
            '.url',
          ),
          rule(
            `!self.url.matches('^[a-z]+://[^/?#]*@')`,
            'url must not carry credentials (user:password@); put them in a Secret named by source.credentialsSecretRef',
            '.url',
          ),
        ],
      },
      stream: string('The stream label on every metric; default: the monitor name', { minLength: 1, maxLength: 253 }),
      detectors: detectorsSchema(),
      ingest: defaultedBlock(ingestOptions),
      analysis: defaultedBlock(analysisOptions, ['gpu']),
      delivery: deliveryBlock(),
      models: {
        type: 'array',
        maxItems: 8,
        description: 'User ONNX models; each name at most once (it names the mount, metrics and defects)',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        items: modelSchema(),
      },
      // No default here: the installation's images (the chart's analyzer.image, analyzer.gpuImage
      // with gpu: 1) apply, and a stored image is always the author's override, which the
      // chart's admission policy judges.
      image: string("Analyzer image; default: the installation's (the CUDA one with gpu: 1)", { minLength: 1 }),
      resources: {
        type: 'object',
        description: 'Analyzer container resources (corev1.ResourceRequirements)',
        properties: {
          limits: {
            type: 'object',
            additionalProperties: {
              'x-kubernetes-int-or-string': true,
              anyOf: [{ type: 'integer' }, { type: 'string' }],
            },
          },
          requests: {
            type: 'object',
            additionalProperties: {
              'x-kubernetes-int-or-string': true,
              anyOf: [{ type: 'integer' }, { type: 'string' }],
            },
          },
        },
      },
      gpu: {
        type: 'integer',
        default: 0,
        description: '1 requests one nvidia.com/gpu and selects the CUDA path',
        'x-kubernetes-validations': [rule('self == 0 || self == 1', 'gpu must be 0 or 1')],
      },
      nodeSelector: { type: 'object', additionalProperties: { type: 'string' } },
      tolerations: { type: 'array', items: preserved('corev1.Toleration') },
      affinity: preserved('corev1.Affinity'),
      priorityClassName: string('PriorityClass of the analyzer pod', { maxLength: 253 }),
      runtimeClassName: string('RuntimeClass of the analyzer pod', { maxLength: 253 }),
      suspend: { type: 'boolean', default: false, description: 'Stop analysis (no pod) without deleting the monitor' },
    },
  });
}

function statusSchema(): Schema {
  const condition: Schema = {
    type: 'object',
    required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
    properties: {
      type: { type: 'string' },
      status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
      reason: { type: 'string' },
      message: { type: 'string' },
      lastTransitionTime: { type: 'string', format: 'date-time' },
      observedGeneration: { type: 'integer' },
    },
  };
  return {
    type: 'object',
    properties: {
      phase: { type: 'string', enum: [...PHASES] },
      observedGeneration: { type: 'integer' },
      conditions: {
        type: 'array',
        items: condition,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      },
      analyzer: {
        type: 'object',
        properties: {
          pod: { type: 'string' },
          node: { type: 'string' },
          podIP: { type: 'string' },
          startTime: { type: 'string', format: 'date-time' },
          restarts: { type: 'integer' },
          configHash: { type: 'string' },
        },
      },
      stream: {
        type: 'object',
        properties: {
          videoCodec: { type: 'string' },
          audioCodec: { type: 'string' },
          resolution: { type: 'string' },
          frameRate: { type: 'number' },
          audioLayout: { type: 'string' },
          bitrate: { type: 'number' },
        },
      },
      defects: {
        type: 'object',
        properties: {
          active: { type: 'array', items: { type: 'string' } },
          last: { type: 'object', properties: { type: { type: 'string' }, wallclock: { type: 'string' } } },
          counts: { type: 'object', additionalProperties: { type: 'integer' } },
        },
      },
      delivery: deliveryStatusSchema(),
      signals: {
        type: 'object',
        properties: {
          count: { type: 'integer' },
          recent: {
            type: 'array',
            items: {
              type: 'object',
              properties: { type: { type: 'string' }, wallclock: { type: 'string' }, message: { type: 'string' } },
            },
          },
        },
      },
    },
  };
}

/** The HLS ladder as the monitor shows it: bounded like the analyzer's own (a ladder is cut at 16). */
function deliveryStatusSchema(): Schema {
  return {
    type: 'object',
    description: "An HLS source followed by the analyzer's own client: its ladder",
    properties: {
      rendition: string('The rendition decoded for the picture and sound checks'),
      declared: { type: 'integer', description: 'Renditions the multivariant playlist lists' },
      alive: { type: 'integer', description: 'Renditions listed whose playlist loads and advances' },
      summary: string('alive/declared (the Renditions column)'),
      renditions: {
        type: 'array',
        maxItems: MAX_STATUS_RENDITIONS,
        items: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            bandwidth: { type: 'integer', description: 'Declared BANDWIDTH, bits/s' },
            resolution: { type: 'string', description: 'Declared RESOLUTION, WIDTHxHEIGHT' },
            alive: { type: 'boolean' },
            listed: {
              type: 'boolean',
              description: 'false once the multivariant playlist no longer lists it (absent: listed)',
            },
            downSince: { type: 'string', description: 'Wall-clock time since which it is down (not alive)' },
            lastError: {
              type: 'object',
              description: 'The newest delivery defect on this rendition that the analyzer still reports',
              properties: {
                type: { type: 'string' },
                since: { type: 'string', description: 'Wall-clock start of the defect' },
                active: { type: 'boolean' },
              },
            },
          },
        },
      },
    },
  };
}

export function streamMonitorCrd(): Schema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${API_GROUP}` },
    spec: {
      group: API_GROUP,
      scope: 'Namespaced',
      names: {
        plural: PLURAL,
        singular: 'streammonitor',
        kind: KIND,
        listKind: `${KIND}List`,
        shortNames: ['sm'],
        categories: ['streamqc'],
      },
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            { name: 'Defects', type: 'string', jsonPath: '.status.defects.active' },
            { name: 'Resolution', type: 'string', jsonPath: '.status.stream.resolution' },
            { name: 'FPS', type: 'number', jsonPath: '.status.stream.frameRate' },
            { name: 'Renditions', type: 'string', jsonPath: '.status.delivery.summary' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'One live stream under quality control: one analyzer pod.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: specSchema(),
                status: statusSchema(),
              },
              'x-kubernetes-validations': [
                // The name becomes a label value (streamqc.io/monitor), which is limited to 63 characters.
                rule(
                  'size(self.metadata.name) <= 63',
                  'metadata.name must be at most 63 characters (it labels the analyzer pod)',
                ),
              ],
            },
          },
        },
      ],
    },
  };
}

export function streamMonitorCrdYaml(): string {
  return `# Generated by operator/crd-gen.ts from the analyzer's option tables; do not edit by hand.\n${YAML.stringify(streamMonitorCrd(), { lineWidth: 0 })}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = streamMonitorCrdYaml();
  if (process.argv.includes('--check')) {
    if (readFileSync(CRD_PATH, 'utf8') !== text) {
      console.error(`${CRD_PATH} is stale: run node dist/operator/crd-gen.js`);
      process.exit(1);
    }
  } else {
    writeFileSync(CRD_PATH, text);
  }
}
