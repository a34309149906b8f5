/**
 * The alert rules are valid Prometheus rules, and promtool's unit tests (every alert fires
 * on its defect and stays quiet on a healthy stream; the operator alerts fire on a sustained
 * problem and not on one stray answer) pass. Uses Debian's promtool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportedMetricNames, metricNamesIn } from '../prometheus/exported-metrics.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function promtool(args: string[], cwd = root): { code: number | null; out: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool is not installed (Debian package prometheus): ${r.error.message}`);
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test('the alert rules file passes promtool check rules with all 31 alerts', () => {
  const r = promtool(['check', 'rules', 'helm/streamqc/files/streamqc-alerts.rules.yaml']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /SUCCESS: 31 rules found/);
});

test('promtool unit tests: each alert fires on its defect and not on a healthy stream', () => {
  const r = promtool(['test', 'rules', 'streamqc-alerts.test.yaml'], `${root}test/prometheus`);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /SUCCESS/);
});

test('every streamqc metric the alert rules name (expressions and annotations) is one streamqc exports', async () => {
  const exported = await exportedMetricNames();
  const rules = readFileSync(join(root, 'helm/streamqc/files/streamqc-alerts.rules.yaml'), 'utf8');
  assert.deepEqual(
    metricNamesIn(rules).filter((name) => !exported.has(name)),
    [],
  );
});
