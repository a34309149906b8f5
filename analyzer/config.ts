/**
 * The analyzer's configuration: one document (YAML or JSON) whose every field has a
 * default, so an empty file is a complete config. The schema is derived from the option
 * tables (detectors declare theirs in their own files); validation errors name the field,
 * the value and what is allowed. The operator renders this document into a ConfigMap.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type * as YamlModule from 'yaml';
import { defaultDetectorsConfig, DETECTORS, detectorsSchemaOf, type DetectorsConfig } from './detectors/index.js';
import {
  bool,
  defaultsOf,
  num,
  schemaOf,
  shortened,
  showValue,
  type OptionTable,
  type OptionValues,
} from './options.js';
import { crossFieldErrors } from './cross-field-rules.js';
import { validateCustomModels, type CustomModelConfig } from './features/custom-model-config.js';
import { defaultDeliveryConfig, deliverySchema, type DeliveryConfig } from './delivery/options.js';

export const analysisOptions = {
  gpu: bool(false, 'run the feature graph on the CUDA execution provider (falls back to CPU when unavailable)'),
  onnx: bool(false, 'use the ONNX feature graph even without a GPU (the CPU kernel is faster on CPU)'),
  batchSize: num(8, 1, 64, 'frames per ONNX batch', { integer: true }),
  threads: num(2, 1, 64, 'ONNX Runtime intra-op threads', { integer: true }),
  minAnalysisWidth: num(320, 64, 3840, 'decimate the picture by 2 or 4 while it stays at least this wide', {
    unit: 'px',
    integer: true,
  }),
} satisfies OptionTable;

export const ingestOptions = {
  ioTimeout: num(5, 0.5, 300, 'a network source silent this long makes ffmpeg give up (then reconnect)', { unit: 's' }),
  reconnectInitialDelay: num(0.5, 0.05, 60, 'first reconnect delay', { unit: 's' }),
  reconnectMaxDelay: num(30, 0.1, 3600, 'reconnect delay cap', { unit: 's' }),
  reconnectJitter: num(0.2, 0, 1, 'random share added to or taken from each reconnect delay'),
  openTimeout: num(15, 0, 86400, 'exit 1 when a live source never opened within this long; 0 retries forever', {
    unit: 's',
  }),
  maxLag: num(2, 0.1, 60, 'live only: frames are dropped (and counted) while analysis lags real time by more', {
    unit: 's',
  }),
} satisfies OptionTable;

export const httpOptions = {
  port: num(0, 0, 65535, 'port of /metrics, /status, /healthz, /readyz; 0 (the default) serves none', {
    integer: true,
  }),
} satisfies OptionTable;

export interface AnalyzerConfig {
  /** The `stream` label on every metric; defaults to the input's display form. */
  stream: string | null;
  /** Treat the input as live (true), as finite (false), or decide by its kind (null). */
  live: boolean | null;
  /** Address the HTTP server listens on. */
  listenAddress: string;
  analysis: OptionValues<typeof analysisOptions>;
  ingest: OptionValues<typeof ingestOptions>;
  http: OptionValues<typeof httpOptions>;
  /** The HLS client: on, what it probes, which rendition is decoded. */
  delivery: DeliveryConfig;
  detectors: DetectorsConfig;
  models: CustomModelConfig[];
}

export class ConfigError extends Error {}

/** JSON Schema of the config document (also embedded into the CRD's detectors block). */
export function configSchema(): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      stream: {
        type: ['string', 'null'],
        minLength: 1,
        maxLength: 253,
        description: 'metrics label value for this stream',
      },
      live: { type: ['boolean', 'null'], description: 'force live (true) or finite (false) handling' },
      listenAddress: { type: 'string', minLength: 1, description: 'address the HTTP server binds' },
      analysis: schemaOf(analysisOptions),
      ingest: schemaOf(ingestOptions),
      http: schemaOf(httpOptions),
      delivery: deliverySchema(),
      detectors: detectorsSchemaOf(DETECTORS),
      models: { type: 'array' },
    },
  };
}

export function defaultConfig(): AnalyzerConfig {
  return {
    stream: null,
    live: null,
    listenAddress: '0.0.0.0',
    analysis: defaultsOf(analysisOptions),
    ingest: defaultsOf(ingestOptions),
    http: defaultsOf(httpOptions),
    delivery: defaultDeliveryConfig(),
    detectors: defaultDetectorsConfig(),
    models: [],
  };
}

function describeError(e: ErrorObject): string {
  const path = e.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(top level)';
  const p = e.params as Record<string, unknown>;
  const value = (): string => showValue(e.data); // not for unknown fields: there data is the whole mapping
  switch (e.keyword) {
    case 'additionalProperties': {
      const name = shortened(String(p.additionalProperty));
      return `${path === '(top level)' ? name : `${path}.${name}`}: unknown field`;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${path}: ${value()} is out of range; allowed ${e.message ?? ''}`.trim();
    case 'type':
      return `${path}: ${value()} is not of type ${String(p.type)}`;
    case 'enum':
      return `${path}: ${value()} is not allowed; allowed: ${(p.allowedValues as unknown[]).map((v) => String(v)).join(', ')}`;
    default:
      return `${path}: ${value()} ${e.message ?? 'is not allowed'}`;
  }
}

/** At most this many problems are listed; a pasted blob of unknown keys would list thousands. */
const MAX_LISTED_ERRORS = 20;

function invalidConfig(messages: readonly string[]): ConfigError {
  const unique = [...new Set(messages)];
  const listed = unique.slice(0, MAX_LISTED_ERRORS);
  if (unique.length > listed.length) listed.push(`... and ${unique.length - listed.length} more`);
  return new ConfigError(`invalid config:\n  ${listed.join('\n  ')}`);
}

function mergeDefaults(defaults: unknown, given: unknown): unknown {
  if (given === undefined) return defaults;
  if (
    defaults !== null &&
    typeof defaults === 'object' &&
    !Array.isArray(defaults) &&
    given !== null &&
    typeof given === 'object' &&
    !Array.isArray(given)
  ) {
    const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
    for (const [k, v] of Object.entries(given as Record<string, unknown>)) {
      out[k] = mergeDefaults((defaults as Record<string, unknown>)[k], v);
    }
    return out;
  }
  return given;
}

// ajv and yaml load on first use: a run without --config needs neither, and loading both costs
// about 0.13 CPU s (ajv 0.065, yaml 0.06). Compiling the schema, paid by every run with a
// --config (an analyzer pod), is cut down in resolveConfig.
const requireOnUse = createRequire(import.meta.url);
let yamlModule: typeof YamlModule | null = null;
function yaml(): typeof YamlModule {
  return (yamlModule ??= requireOnUse('yaml') as typeof YamlModule);
}

let compiled: ValidateFunction | null = null;

/** Validate a parsed document (fields may be omitted) and fill in every default. */
export function resolveConfig(document: unknown): AnalyzerConfig {
  const doc = document ?? {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`config: ${showValue(doc)} is not a mapping of fields`);
  }
  if (compiled === null) {
    const { Ajv } = requireOnUse('ajv') as typeof AjvModule;
    // The generated code checks small documents (once per analyzer, once per reconcile in the
    // operator): ajv's pass that optimizes it costs more than it saves. Without it the compile,
    // paid at every analyzer pod's start, costs about 0.07 CPU s less (0.13-0.16 s against
    // 0.19-0.30 s, medians of 3 and 4 here); the verdicts are the same.
    compiled = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, code: { optimize: false } }).compile(
      configSchema(),
    );
  }
  if (!compiled(doc)) {
    throw invalidConfig((compiled.errors ?? []).map(describeError));
  }
  const config = mergeDefaults(defaultConfig(), doc) as AnalyzerConfig;
  const modelErrors = validateCustomModels((doc as { models?: unknown }).models ?? []);
  if (modelErrors.length > 0) throw invalidConfig(modelErrors);
  // The same rules the CRD's CEL checks, so the CLI and the API server refuse the same documents.
  const crossField = crossFieldErrors(config);
  if (crossField.length > 0) throw invalidConfig(crossField);
  return config;
}

/** The tags of plain YAML and JSON; anything else (`!!js/function`, `!!binary`, `!foo`) is refused. */
const PLAIN_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

/**
 * Explicit tags outside plain YAML: the yaml library turns an unknown one into a string with
 * only a warning, and resolves some (binary, set) into objects nobody asked for. A config has
 * no use for either, and silently accepting them hides a file written for another program.
 */
function unknownTags(doc: YamlModule.Document, lines: YamlModule.LineCounter): string[] {
  const found: string[] = [];
  yaml().visit(doc, {
    Node(_key, node) {
      if (node.tag === undefined || PLAIN_TAGS.has(node.tag)) return;
      const tag = node.tag.replace(/^tag:yaml\.org,2002:/, '!!');
      found.push(`line ${node.range ? lines.linePos(node.range[0]).line : '?'}: unknown YAML tag ${shortened(tag)}`);
    },
  });
  return found;
}

function parseConfigText(text: string, path: string): unknown {
  const YAML = yaml();
  const lines = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lines });
  const [firstError] = doc.errors;
  if (firstError) {
    throw new ConfigError(`--config ${path}: not valid YAML or JSON: ${firstError.message.split('\n', 1).join('')}`);
  }
  const tags = unknownTags(doc, lines);
  if (tags.length > 0) {
    throw new ConfigError(
      `--config ${path}: ${tags.slice(0, MAX_LISTED_ERRORS).join('; ')}; allowed: plain YAML or JSON (tags ${[...PLAIN_TAGS].map((t) => t.replace(/^tag:yaml\.org,2002:/, '!!')).join(', ')})`,
    );
  }
  try {
    return doc.toJS();
  } catch (err) {
    // toJS throws on an alias bomb (more than maxAliasCount expansions).
    throw new ConfigError(`--config ${path}: not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
}

/**
 * Largest config file read: 64 KiB. A config with every field spelled out is about 1.4 KB
 * (eight models add about 2 KB), while yaml's duplicate-key check is quadratic in the keys of
 * one mapping: 50,000 keys (877 KB) took 43 s to parse, 5,571 keys (a 64 KiB file) 0.8 s.
 */
export const MAX_CONFIG_BYTES = 64 * 1024;

function tooLarge(path: string, bytes: string): ConfigError {
  return new ConfigError(
    `--config ${path}: the file is ${bytes} bytes; the limit is ${MAX_CONFIG_BYTES} bytes (64 KiB; a complete config is about 2 KB)`,
  );
}

/** The file's text, refused by its size before any of it is parsed (reads at most one byte past the limit). */
function readConfigText(path: string): string {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    if (size > MAX_CONFIG_BYTES) throw tooLarge(path, String(size));
    // A FIFO or /dev/ file reports size 0: read, but never more than the limit allows.
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    let n: number;
    do {
      n = readSync(fd, buffer, length, buffer.length - length, null);
      length += n;
    } while (n > 0 && length < buffer.length);
    if (length > MAX_CONFIG_BYTES) throw tooLarge(path, `more than ${MAX_CONFIG_BYTES}`);
    return buffer.toString('utf8', 0, length);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(
      `--config ${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export function loadConfigFile(path: string): AnalyzerConfig {
  return resolveConfig(parseConfigText(readConfigText(path), path));
}
