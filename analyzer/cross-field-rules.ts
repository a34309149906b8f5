/**
 * Rules that relate two fields of one config block, declared once: the CEL expression the
 * API server checks (operator/crd-gen.ts emits it as x-kubernetes-validations on that block)
 * and the predicate the analyzer's own validation runs on the same block, with the same
 * message. A monitor the API server refuses is a config file the CLI refuses, and back.
 */

/** Numbers of one option block, as both the API server (after defaulting) and resolveConfig see it. */
export type OptionBlock = Readonly<Record<string, number | boolean | string>>;

export interface CrossFieldRule {
  /** Where the block sits in the config document; the same path under `spec` in the CRD. */
  readonly block: readonly string[];
  /** The field the message is about (CEL's fieldPath, without the leading dot). */
  readonly field: string;
  /** CEL, with `self` the block. */
  readonly cel: string;
  readonly message: string;
  /** The CEL expression in JavaScript: true when the block is valid. */
  readonly holds: (block: OptionBlock) => boolean;
}

const n = (block: OptionBlock, field: string): number => Number(block[field]);

export const CROSS_FIELD_RULES: readonly CrossFieldRule[] = [
  {
    block: ['detectors', 'loudness'],
    field: 'toleranceLu',
    cel: 'self.targetLufs - self.toleranceLu >= -70.0',
    message:
      'targetLufs - toleranceLu must stay at or above -70 LUFS (the EBU R128 absolute gate); lower the tolerance or raise the target',
    holds: (b) => n(b, 'targetLufs') - n(b, 'toleranceLu') >= -70,
  },
  {
    block: ['detectors', 'loudness'],
    field: 'toleranceLu',
    cel: 'self.targetLufs + self.toleranceLu <= 0.0',
    message: 'targetLufs + toleranceLu must stay at or below 0 LUFS (full scale); lower the tolerance or the target',
    holds: (b) => n(b, 'targetLufs') + n(b, 'toleranceLu') <= 0,
  },
  {
    block: ['detectors', 'loudness'],
    field: 'profile',
    cel: "self.profile == 'custom' || (self.programmeTargetLufs == -23.0 && self.programmeToleranceLu == 1.0 && self.maxTruePeakDbtp == -1.0)",
    message:
      'programmeTargetLufs, programmeToleranceLu and maxTruePeakDbtp apply only to profile custom; set profile: custom, or leave them out to use the named profile',
    holds: (b) =>
      b.profile === 'custom' ||
      (n(b, 'programmeTargetLufs') === -23 && n(b, 'programmeToleranceLu') === 1 && n(b, 'maxTruePeakDbtp') === -1),
  },
  {
    block: ['detectors', 'stall'],
    field: 'reconnectAfter',
    cel: 'self.reconnectAfter >= self.minDuration',
    message: 'reconnectAfter must be at least minDuration: the analyzer reconnects only after it reported the stall',
    holds: (b) => n(b, 'reconnectAfter') >= n(b, 'minDuration'),
  },
  {
    block: ['ingest'],
    field: 'reconnectMaxDelay',
    cel: 'self.reconnectMaxDelay >= self.reconnectInitialDelay',
    message: 'reconnectMaxDelay must be at least reconnectInitialDelay',
    holds: (b) => n(b, 'reconnectMaxDelay') >= n(b, 'reconnectInitialDelay'),
  },
];

/** The fields a rule's CEL reads, in order, for showing their values next to the message. */
function fieldsRead(rule: CrossFieldRule): string[] {
  return [...new Set([...rule.cel.matchAll(/\bself\.(\w+)/g)].map((m) => m[1] ?? ''))];
}

function blockAt(document: unknown, path: readonly string[]): OptionBlock {
  let node: unknown = document;
  for (const key of path) node = (node as Record<string, unknown> | undefined)?.[key];
  return (node ?? {}) as OptionBlock;
}

/** One message per broken rule in a config with every default filled in: field, rule, the values read. */
export function crossFieldErrors(config: unknown): string[] {
  return CROSS_FIELD_RULES.flatMap((rule) => {
    const block = blockAt(config, rule.block);
    if (rule.holds(block)) return [];
    const values = fieldsRead(rule)
      .map((f) => `${f} ${String(block[f])}`)
      .join(', ');
    return [`${[...rule.block, rule.field].join('.')}: ${rule.message} (got ${values})`];
  });
}
