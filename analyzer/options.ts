/**
 * Option tables: every tunable has a name, a default, a range and one line of documentation,
 * declared once at the top of the file that uses it (ffmpeg's AVOption style). The config
 * schema, validation messages, the CRD defaults and the README tables are all derived from them.
 */

export interface NumberOption {
  readonly kind: 'number';
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly unit?: string;
  readonly integer?: boolean;
  readonly doc: string;
}

export interface BooleanOption {
  readonly kind: 'boolean';
  readonly default: boolean;
  readonly doc: string;
}

/** One of a fixed list of names (a profile, a mode). */
export interface ChoiceOption<C extends string = string> {
  readonly kind: 'choice';
  readonly default: C;
  readonly choices: readonly C[];
  readonly doc: string;
}

export type OptionSpec = NumberOption | BooleanOption | ChoiceOption;
export type OptionTable = Readonly<Record<string, OptionSpec>>;

export type OptionValues<T extends OptionTable> = {
  -readonly [K in keyof T]: T[K] extends BooleanOption ? boolean : T[K] extends ChoiceOption<infer C> ? C : number;
};

export function num(
  def: number,
  min: number,
  max: number,
  doc: string,
  extra: { unit?: string; integer?: boolean } = {},
): NumberOption {
  return { kind: 'number', default: def, min, max, doc, ...extra };
}

export function bool(def: boolean, doc: string): BooleanOption {
  return { kind: 'boolean', default: def, doc };
}

export function choice<const C extends string>(def: NoInfer<C>, choices: readonly C[], doc: string): ChoiceOption<C> {
  return { kind: 'choice', default: def, choices, doc };
}

export function defaultsOf<T extends OptionTable>(table: T): OptionValues<T> {
  const out: Record<string, number | boolean | string> = {};
  for (const [name, spec] of Object.entries(table)) out[name] = spec.default;
  return out as OptionValues<T>;
}

/** JSON Schema (draft 2020 / OpenAPI v3 compatible subset) for one option table. */
export function schemaOf(table: OptionTable): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) {
    properties[name] =
      spec.kind === 'boolean'
        ? { type: 'boolean', default: spec.default, description: spec.doc }
        : spec.kind === 'choice'
          ? { type: 'string', enum: [...spec.choices], default: spec.default, description: spec.doc }
          : {
              type: spec.integer ? 'integer' : 'number',
              default: spec.default,
              minimum: spec.min,
              maximum: spec.max,
              description: spec.unit ? `${spec.doc} (${spec.unit})` : spec.doc,
            };
  }
  return { type: 'object', additionalProperties: false, properties };
}

/** Longest value an error message echoes: enough to recognise it, never a whole pasted blob. */
export const SHOWN_VALUE_MAX = 80;

/**
 * A value as an error message shows it: JSON, except that Infinity and NaN are named (JSON
 * would print null, which is not what the user wrote), and anything longer than
 * SHOWN_VALUE_MAX is cut with its full length said.
 */
export function showValue(value: unknown): string {
  if (value === undefined) return 'missing';
  let text: string;
  try {
    // undefined for a function or a symbol, whatever the declared type says
    const json = JSON.stringify(value, (_key, v: unknown) =>
      typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
    ) as string | undefined;
    text = json ?? notJson(value);
  } catch {
    text = notJson(value);
  }
  return shortened(typeof value === 'number' ? String(value) : text);
}

/** A value JSON cannot show (a bigint, a symbol, a function, a cycle). */
function notJson(value: unknown): string {
  switch (typeof value) {
    case 'bigint':
    case 'symbol':
      return value.toString();
    case 'function':
      return 'a function';
    default:
      return 'a value with a cycle';
  }
}

/** Text cut to SHOWN_VALUE_MAX characters, saying how long it was. */
export function shortened(text: string): string {
  if (text.length <= SHOWN_VALUE_MAX) return text;
  return `${text.slice(0, SHOWN_VALUE_MAX)}... (${text.length} characters)`;
}
