// The helm and kubectl binaries built with the test control plane, as the chart's tests run them.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterTool, sharedKubeconfigPath } from '../cluster/shared.js';

export const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const chartDir = join(projectRoot, 'helm', 'streamqc');

export interface ToolRun {
  code: number | null;
  out: string;
  stderr: string;
}

export function runTool(tool: string, args: string[], input?: string): ToolRun {
  const r = spawnSync(clusterTool(tool), args, { cwd: projectRoot, encoding: 'utf8', input, timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, out: `${r.stdout}${r.stderr}`, stderr: r.stderr };
}

/** kubectl on the run's shared control plane, as its admin (system:masters) unless args say --as. */
export function kubectl(args: string[], input?: string): ToolRun {
  return runTool('kubectl', ['--kubeconfig', sharedKubeconfigPath(), ...args], input);
}

/** `helm template` of the chart as release `release`; fails the test with helm's message when it does not render. */
export function renderChart(release: string, namespace: string, args: string[] = []): string {
  const r = spawnSync(clusterTool('helm'), ['template', release, chartDir, '--namespace', namespace, ...args], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `helm template ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}
