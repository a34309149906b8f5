/**
 * User ONNX models, the configuration half: what a model entry in the analyzer config
 * says, its defaults, and validation with messages that name the field, the value and what
 * is allowed. Kept apart from the runner so validating a config never loads onnxruntime.
 */
import { showValue } from '../options.js';

export type InputLayout = 'NCHW' | 'NHWC';

export interface CustomModelConfig {
  /** Names the model in logs, metrics and `model:<name>` defect types. */
  name: string;
  /** Path of the .onnx file inside the analyzer pod (a mounted ConfigMap or volume). */
  path: string;
  input: {
    /** Model input to feed; default: the model's only input. */
    name?: string;
    width: number;
    height: number;
    layout: InputLayout;
    /** 3 replicates luma into every channel. */
    channels: 1 | 3;
    /** Pixel (0..255) multiplier; default 1/255. */
    scale?: number;
    /** Subtracted after scaling; default 0. */
    mean?: number;
    /** Divides after the mean; default 1. */
    std?: number;
  };
  output: {
    /** Model output that carries the score; default: the model's first output. */
    name?: string;
    /** Which of the output's values for one frame is the score; default 0. */
    index?: number;
  };
  defect: {
    /** A picture defect type (e.g. 'blur') or a custom 'model:<name>'. */
    type: string;
    threshold: number;
    /** true: a score above the threshold is defective; false: below. Default true. */
    above?: boolean;
    /** Seconds the score must stay defective before the defect starts. */
    minDuration: number;
  };
}

/** A config with every default filled in. */
export interface ResolvedCustomModelConfig extends CustomModelConfig {
  input: Required<Omit<CustomModelConfig['input'], 'name'>> & Pick<CustomModelConfig['input'], 'name'>;
  output: Required<Omit<CustomModelConfig['output'], 'name'>> & Pick<CustomModelConfig['output'], 'name'>;
  defect: Required<CustomModelConfig['defect']>;
}

export const CUSTOM_MODEL_DEFAULTS = {
  scale: 1 / 255,
  mean: 0,
  std: 1,
  index: 0,
  above: true,
} as const;

/** The picture defects a per-frame score can stand for; anything else is `model:<name>`. */
export const MODEL_DEFECT_TYPES = ['black', 'freeze', 'blockiness', 'blur'] as const;

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const CUSTOM_DEFECT_PATTERN = /^model:[a-z0-9][a-z0-9_-]{0,62}$/;
const MAX_INPUT_SIDE = 4096;
const MAX_MIN_DURATION = 3600;

export function resolveCustomModel(config: CustomModelConfig): ResolvedCustomModelConfig {
  const d = CUSTOM_MODEL_DEFAULTS;
  return {
    ...config,
    input: {
      ...config.input,
      scale: config.input.scale ?? d.scale,
      mean: config.input.mean ?? d.mean,
      std: config.input.std ?? d.std,
    },
    output: { ...config.output, index: config.output.index ?? d.index },
    defect: { ...config.defect, above: config.defect.above ?? d.above },
  };
}

// ---------------------------------------------------------------------------------------
// Field validation

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One field's rule: what is allowed (for the message) and the test. */
interface Rule {
  optional?: boolean;
  allowed: string;
  ok: (value: unknown) => boolean;
}

const integer = (min: number, max: number): Omit<Rule, 'optional'> => ({
  allowed: `an integer from ${min} to ${max}`,
  ok: (v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max,
});
const number = (allowed: string, test: (v: number) => boolean): Omit<Rule, 'optional'> => ({
  allowed,
  ok: (v) => typeof v === 'number' && Number.isFinite(v) && test(v),
});
const oneOf = (values: readonly (string | number)[]): Omit<Rule, 'optional'> => ({
  allowed: `one of ${values.join(', ')}`,
  ok: (v) => (typeof v === 'string' || typeof v === 'number') && values.includes(v),
});
const text = (pattern: RegExp, allowed: string): Omit<Rule, 'optional'> => ({
  allowed,
  ok: (v) => typeof v === 'string' && pattern.test(v),
});
const boolean: Omit<Rule, 'optional'> = { allowed: 'true or false', ok: (v) => typeof v === 'boolean' };
const defectType: Omit<Rule, 'optional'> = {
  allowed: `one of ${MODEL_DEFECT_TYPES.join(', ')}, or model:<name> (lowercase letters, digits, _ and -)`,
  ok: (v) =>
    typeof v === 'string' && ((MODEL_DEFECT_TYPES as readonly string[]).includes(v) || CUSTOM_DEFECT_PATTERN.test(v)),
};
const optional = (rule: Omit<Rule, 'optional'>): Rule => ({ ...rule, optional: true });

const SECTIONS: Record<'input' | 'output' | 'defect', Record<string, Rule>> = {
  input: {
    name: optional(text(/^.+$/s, 'a non-empty string')),
    width: integer(1, MAX_INPUT_SIDE),
    height: integer(1, MAX_INPUT_SIDE),
    layout: oneOf(['NCHW', 'NHWC']),
    channels: oneOf([1, 3]),
    scale: optional(number('a number > 0', (v) => v > 0)),
    mean: optional(number('a finite number', () => true)),
    std: optional(number('a number > 0', (v) => v > 0)),
  },
  output: {
    name: optional(text(/^.+$/s, 'a non-empty string')),
    index: optional(integer(0, 2 ** 31 - 1)),
  },
  defect: {
    type: defectType,
    threshold: number('a finite number', () => true),
    above: optional(boolean),
    minDuration: number(`a number of seconds from 0 to ${MAX_MIN_DURATION}`, (v) => v >= 0 && v <= MAX_MIN_DURATION),
  },
};

const TOP: Record<string, Rule> = {
  name: text(NAME_PATTERN, 'a name of 1 to 63 letters, digits, _, . and - starting with a letter or digit'),
  path: text(/^.+$/s, 'a non-empty file path'),
};

function checkFields(
  value: Record<string, unknown>,
  rules: Record<string, Rule>,
  field: string,
  allowedExtra: readonly string[],
): string[] {
  const errors: string[] = [];
  for (const [key, rule] of Object.entries(rules)) {
    const v = value[key];
    if (v === undefined) {
      if (!rule.optional) errors.push(`${field}.${key}: missing; expected ${rule.allowed}`);
    } else if (!rule.ok(v)) {
      errors.push(`${field}.${key}: ${showValue(v)} is not ${rule.allowed}`);
    }
  }
  const known = [...Object.keys(rules), ...allowedExtra];
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) errors.push(`${field}.${key}: unknown field; allowed: ${known.join(', ')}`);
  }
  return errors;
}

/** Errors of one model entry (empty when valid); `field` prefixes them, e.g. 'models[0]'. */
export function validateCustomModel(value: unknown, field: string): string[] {
  if (!isMapping(value))
    return [`${field}: ${showValue(value)} is not a mapping of name, path, input, output and defect`];
  const sections = Object.keys(SECTIONS);
  const errors = checkFields(value, TOP, field, sections);
  for (const [section, rules] of Object.entries(SECTIONS)) {
    const v = value[section];
    if (v === undefined)
      errors.push(`${field}.${section}: missing; expected a mapping of ${Object.keys(rules).join(', ')}`);
    else if (!isMapping(v))
      errors.push(`${field}.${section}: ${showValue(v)} is not a mapping of ${Object.keys(rules).join(', ')}`);
    else errors.push(...checkFields(v, rules, `${field}.${section}`, []));
  }
  return errors;
}

/** Errors of the config's `models` list (empty when valid), including names used twice. */
export function validateCustomModels(value: unknown, field = 'models'): string[] {
  if (!Array.isArray(value)) return [`${field}: ${showValue(value)} is not a list of models`];
  const errors: string[] = [];
  const firstUse = new Map<string, number>();
  value.forEach((entry: unknown, i) => {
    errors.push(...validateCustomModel(entry, `${field}[${i}]`));
    const name = isMapping(entry) ? entry.name : undefined;
    if (typeof name !== 'string') return;
    const first = firstUse.get(name);
    if (first === undefined) firstUse.set(name, i);
    else errors.push(`${field}[${i}].name: ${showValue(name)} is already the name of ${field}[${first}]`);
  });
  return errors;
}

// ---------------------------------------------------------------------------------------
// Resampling the luma plane to the model input
