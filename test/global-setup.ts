// Global set-up for scripts/run-tests.mjs: one shared control plane per test run, started only
// when a selected test file lives under dist/test/integration/ or dist/test/e2e/, and stopped
// in teardown() whatever the tests did. Its components die with this process if it is killed.
// With an e2e/ test selected, a real node (a kubelet on this machine, see cluster/real-node.ts)
// joins that control plane too.
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join, sep } from 'node:path';
import { TestCluster, clusterHome, reapAbandoned } from './cluster/cluster.js';
import { clusterToolsBinDir } from './cluster/tools.js';
import { clusterEnv } from './cluster/shared.js';
import { RealNode, realNodeEnv } from './cluster/real-node.js';

const runsDir = join(clusterHome, 'runs');
const lastRunLogs = join(clusterHome, 'last-test-run-logs');
let cluster: TestCluster | undefined;
let stateDir: string | undefined;
let realNode: RealNode | undefined;

function needsRealNode(files: string[]): boolean {
  return files.some((f) => f.includes(`${sep}dist${sep}test${sep}e2e${sep}`));
}

function needsCluster(files: string[]): boolean {
  return files.some((f) =>
    [`${sep}dist${sep}test${sep}integration${sep}`, `${sep}dist${sep}test${sep}e2e${sep}`].some((d) => f.includes(d)),
  );
}

/** Clears what earlier runs that crashed left under .cluster/runs/. */
function reapEarlierRuns(): void {
  if (!existsSync(runsDir)) return;
  for (const entry of readdirSync(runsDir)) {
    const dir = join(runsDir, entry);
    if (reapAbandoned(dir) === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

export async function setup(files: string[]): Promise<Record<string, string>> {
  if (!needsCluster(files)) return {};
  reapEarlierRuns();
  const binDir = await clusterToolsBinDir();
  stateDir = join(runsDir, String(process.pid));
  cluster = await TestCluster.start({ binDir, stateDir, log: (line) => console.error(line) });
  const env = { [clusterEnv.kubeconfig]: cluster.kubeconfigPath, [clusterEnv.binDir]: binDir };
  if (!needsRealNode(files)) return env;
  try {
    realNode = await RealNode.start({
      binDir,
      pkiDir: cluster.pkiDir,
      apiServerURL: cluster.apiServerURL,
      kubeConfig: cluster.kubeConfig(),
      logsDir: join(stateDir, 'logs'),
      log: (line) => console.error(line),
    });
  } catch (err) {
    await teardown();
    throw err;
  }
  return {
    ...env,
    [realNodeEnv.apiServer]: realNode.apiServerOnBridge,
    [realNodeEnv.containerd]: realNode.containerdAddress,
    [realNodeEnv.probeImage]: realNode.probeImage,
  };
}

export async function teardown(): Promise<void> {
  if (cluster === undefined || stateDir === undefined) return;
  // The node first: its pods go while the API server can still see them go.
  await realNode?.stop().catch((err: unknown) => console.error(err));
  await cluster.stop();
  // Keep the components' logs of the latest run for a look after a failure.
  rmSync(lastRunLogs, { recursive: true, force: true });
  cpSync(join(stateDir, 'logs'), lastRunLogs, { recursive: true });
  rmSync(stateDir, { recursive: true, force: true });
}
