/**
 * One source of truth for rules that relate two fields: the CRD carries exactly the table's
 * CEL rules on the blocks they judge, and the analyzer's own validation refuses every
 * document that breaks one with the rule's message (and accepts the boundary).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CROSS_FIELD_RULES } from '../../analyzer/cross-field-rules.js';
import { ConfigError, resolveConfig } from '../../analyzer/config.js';
import { streamMonitorCrd } from '../../operator/crd-gen.js';
import { CROSS_FIELD_CASES } from './cross-field-cases.js';

interface Node {
  properties?: Record<string, Node>;
  items?: Node;
  'x-kubernetes-validations'?: { rule: string; message: string; fieldPath?: string }[];
}

/** Every CEL rule of the spec whose expression reads two fields of its block, with where it sits. */
function crdCrossFieldRules(
  node: Node,
  path: string[],
): { block: string; rule: string; message: string; fieldPath?: string }[] {
  const here = (node['x-kubernetes-validations'] ?? [])
    .filter((v) => new Set([...v.rule.matchAll(/self\.(\w+)/g)].map((m) => m[1])).size >= 2)
    .map((v) => ({ block: path.join('.'), ...v }));
  const below = Object.entries(node.properties ?? {}).flatMap(([k, child]) => crdCrossFieldRules(child, [...path, k]));
  return [...here, ...below, ...(node.items ? crdCrossFieldRules(node.items, [...path, '[]']) : [])];
}

function crdSpec(): Node {
  const crd = streamMonitorCrd() as {
    spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: Node } } } }[] };
  };
  return crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec;
}

test('the CRD carries exactly the cross-field rules of the table, each on its block', () => {
  const expected = CROSS_FIELD_RULES.map((r) => ({
    block: r.block.join('.'),
    rule: r.cel,
    message: r.message,
    fieldPath: `.${r.field}`,
  }));
  const byBlock = (a: { block: string; rule: string }, b: { block: string; rule: string }): number =>
    `${a.block} ${a.rule}`.localeCompare(`${b.block} ${b.rule}`);
  assert.deepEqual(crdCrossFieldRules(crdSpec(), []).sort(byBlock), expected.sort(byBlock));
});

test('every cross-field rule has cases that break it and cases at its boundary', () => {
  assert.deepEqual(Object.keys(CROSS_FIELD_CASES).sort(), CROSS_FIELD_RULES.map((r) => r.cel).sort());
});

for (const rule of CROSS_FIELD_RULES) {
  const field = [...rule.block, rule.field].join('.');
  test(`the analyzer refuses what ${rule.cel} refuses, with the rule's message, and keeps its boundary`, () => {
    const cases = CROSS_FIELD_CASES[rule.cel]!;
    for (const doc of cases.breaks) {
      assert.throws(
        () => resolveConfig(doc),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.ok(err.message.includes(`${field}: ${rule.message} (got `), `${JSON.stringify(doc)}: ${err.message}`);
          return true;
        },
        JSON.stringify(doc),
      );
    }
    for (const doc of cases.keeps) assert.doesNotThrow(() => resolveConfig(doc), JSON.stringify(doc));
  });
}
