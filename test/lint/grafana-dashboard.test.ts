// The shipped Grafana dashboard against Grafana's own dashboard schema (Grafana's CUE kinds as
// generated into the Grafana Foundation SDK, run by test/lint-tools/dashboard-check): unknown
// fields, wrong types, missing required fields and out-of-range values are findings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lintToolsBin, projectRoot, runTool } from './lint-tools.js';

const DASHBOARD = join(projectRoot, 'helm/streamqc/dashboards/streamqc.json');

type Json = Record<string, unknown>;

function dashboardCheck(file: string): { status: number | null; output: string } {
  return runTool(join(lintToolsBin(), 'dashboard-check'), [file]);
}

/** Writes the shipped dashboard with one change made to its first stat panel; returns the file. */
function brokenCopy(dir: string, name: string, breakPanel: (panel: Json) => void): string {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Json[] };
  const stat = dashboard.panels.find((p) => p.type === 'stat');
  assert.ok(stat, 'the dashboard has a stat panel');
  breakPanel(stat);
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(dashboard));
  return file;
}

test("the shipped dashboard conforms to Grafana's dashboard schema", () => {
  const { status, output } = dashboardCheck(DASHBOARD);
  assert.equal(status, 0, `dashboard-check found problems:\n${output}`);
});

test('a broken panel is named: gridPos of the wrong type, wider than the grid, an unknown field', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'streamqc-dashboard-'));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const index = (JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Json[] }).panels.findIndex(
    (p) => p.type === 'stat',
  );
  const cases: [string, (panel: Json) => void, RegExp][] = [
    ['string-width.json', (p) => (p.gridPos = { x: 0, y: 1, w: '6', h: 4 }), /gridPos\.w: .*cannot unmarshal string/],
    ['too-wide.json', (p) => (p.gridPos = { x: 0, y: 1, w: 30, h: 4 }), /gridPos\.w: must be <= 24/],
    ['typo.json', (p) => (p.titel = 'Streams'), /unexpected field 'titel'/],
    ['bad-option.json', (p) => (p.options = { ...(p.options as Json), graphMode: 3 }), /options\.graphMode/],
  ];
  for (const [name, breakPanel, finding] of cases) {
    const { status, output } = dashboardCheck(brokenCopy(dir, name, breakPanel));
    assert.equal(status, 1, `${name}: ${output}`);
    assert.match(output, new RegExp(`panels\\[${String(index)}\\]`), `${name} names the panel`);
    assert.match(output, finding, name);
  }
});
