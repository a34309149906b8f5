/**
 * Operator benchmark on the kwok control plane: prints figures, asserts nothing. For each
 * count it creates that many StreamMonitors and measures the time until every one has a
 * scheduled pod and phase Running; the operator's peak RSS (VmHWM of its process) and CPU time; and, over
 * a steady-state window afterwards, the write requests kube-apiserver counted on the
 * resources the operator writes (pods, configmaps, events, streammonitors) from every client,
 * the writes kube-apiserver's audit log attributes to the operator by its User-Agent (lease
 * renewals excluded: the figure the target is judged on), and the operator's own status-write
 * counter.
 *
 *   node dist/test/bench/operator.js [--counts 1000,5000] [--steady-seconds 60] [--concurrency 32] [--poll-seconds 15]
 *                                    [--json FILE]
 *
 * --json FILE also writes every count's figures as one OperatorBenchResult (results.ts).
 *
 * Uses the cluster of `npm run cluster:up` when STREAMQC_KUBECONFIG and STREAMQC_CLUSTER_BIN
 * are set, else starts its own.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CoreV1Api, CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import { TestCluster, auditLogOf, clusterHome } from '../cluster/cluster.js';
import { clusterToolsBinDir } from '../cluster/tools.js';
import { nodeManifest } from '../cluster/nodes.js';
import { API_GROUP, API_VERSION, PLURAL, type StreamMonitor } from '../../operator/api.js';
import { installCrd, monitorManifest } from '../integration/operator-helpers.js';
import { auditedWrites } from '../cluster/audit.js';
import { OPERATOR_USER_AGENT } from '../../operator/user-agent.js';
import { writeResultJson, type OperatorBenchResult, type OperatorScaleRow } from './results.js';
import { readProc } from './bench-util.js';

const { values } = parseArgs({
  options: {
    counts: { type: 'string', default: '1000' },
    'steady-seconds': { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '32' },
    // As deployed (the operator's default). kwok runs no analyzers, so every poll is refused
    // at once; 0 leaves the poller out altogether.
    'poll-seconds': { type: 'string', default: '15' },
    json: { type: 'string' },
  },
});
const counts = values.counts.split(',').map(Number);
const steadySeconds = Number(values['steady-seconds']);
const mainJs = fileURLToPath(new URL('../../operator/main.js', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let cluster: TestCluster | undefined;
const benchStateDir = join(clusterHome, 'runs', `bench-${process.pid}`);
let kubeconfigPath = process.env.STREAMQC_KUBECONFIG;
let binDir = process.env.STREAMQC_CLUSTER_BIN;
if (!kubeconfigPath || !binDir) {
  binDir = await clusterToolsBinDir();
  cluster = await TestCluster.start({ binDir, stateDir: benchStateDir, log: (l) => console.error(l) });
  kubeconfigPath = cluster.kubeconfigPath;
}
const kc = new KubeConfig();
kc.loadFromFile(kubeconfigPath);
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
await installCrd(kc);

const WRITE_VERBS = ['POST', 'PUT', 'PATCH', 'DELETE'];
const READ_VERBS = ['GET', 'LIST'];

/** kube-apiserver's own /metrics, once per edge of the steady window. */
function apiServerMetrics(): string {
  return execFileSync(join(binDir!, 'kubectl'), ['--kubeconfig', kubeconfigPath!, 'get', '--raw', '/metrics'], {
    maxBuffer: 256 << 20,
  }).toString();
}

/** Sum of apiserver_request_total for `verbs` on the resources the operator reads and writes. */
function operatorResourceRequests(text: string, verbs: readonly string[]): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
    const verb = /verb="([A-Z]+)"/.exec(labels)?.[1] ?? '';
    const resource = /resource="([^"]*)"/.exec(labels)?.[1] ?? '';
    const subresource = /subresource="([^"]*)"/.exec(labels)?.[1] ?? '';
    if (!verbs.includes(verb)) continue;
    // Pod status and binding are written by kwok and the scheduler, not by the operator.
    if (resource === 'pods' && subresource !== '') continue;
    if (['pods', 'configmaps', 'events', 'streammonitors'].includes(resource))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
}

/**
 * Every monitor's phase in `namespace`, kept current by one watch. Listing thousands of
 * monitors every second to count them made kube-apiserver serialize megabytes per poll and
 * slowed the very convergence being measured; a watch costs it one event per change.
 */
async function watchPhases(namespace: string): Promise<{ phases: Map<string, string | undefined>; stop: () => void }> {
  const phases = new Map<string, string | undefined>();
  let stopped = false;
  let abort: AbortController | undefined;
  const path = `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace}/${PLURAL}`;
  const start = async (): Promise<void> => {
    // A restarted watch begins with a fresh list, so nothing changed in between is missed.
    const list = (await custom.listNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace,
      plural: PLURAL,
    })) as { items: StreamMonitor[]; metadata?: { resourceVersion?: string } };
    for (const m of list.items) phases.set(m.metadata.name, m.status?.phase);
    abort = await new Watch(kc).watch(
      path,
      { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
      (type, object: StreamMonitor) => {
        if (type === 'DELETED') phases.delete(object.metadata.name);
        else if (type === 'ADDED' || type === 'MODIFIED') phases.set(object.metadata.name, object.status?.phase);
      },
      () => {
        if (!stopped)
          setTimeout(
            () => void start().catch((err: unknown) => console.error(`phase watch restart failed: ${String(err)}`)),
            500,
          );
      },
    );
  };
  await start();
  return {
    phases,
    stop: () => {
      stopped = true;
      abort?.abort();
    },
  };
}

// The default fleet holds 330 plain pods (110 per node); the bench adds kwok nodes of 250 pods
// (a /24 pod CIDR each) so that every monitor can get a pod.
const PODS_PER_BENCH_NODE = 250;
const benchNodes: string[] = [];
async function ensureCapacity(pods: number): Promise<void> {
  const needed = Math.ceil(pods / PODS_PER_BENCH_NODE);
  while (benchNodes.length < needed) {
    const i = benchNodes.length;
    const node = nodeManifest({ name: `kwok-bench-${i}`, gpus: 0 }, 20 + i);
    const capacity = { cpu: '1000', memory: '4Ti', pods: String(PODS_PER_BENCH_NODE), 'ephemeral-storage': '1Ti' };
    await core.createNode({ body: { ...node, status: { capacity, allocatable: capacity } } });
    benchNodes.push(node.metadata!.name!);
  }
}

/** kube-apiserver's gitVersion for the report's versions line; null when it cannot be read. */
function kubeApiserverVersion(): string | null {
  try {
    const out = execFileSync(join(binDir!, 'kubectl'), ['--kubeconfig', kubeconfigPath!, 'version', '-o', 'json'], {
      encoding: 'utf8',
    });
    return (JSON.parse(out) as { serverVersion?: { gitVersion?: string } }).serverVersion?.gitVersion ?? null;
  } catch {
    return null;
  }
}

const startedAt = new Date().toISOString();
const rows: OperatorScaleRow[] = [];
for (const count of counts) {
  await ensureCapacity(count);
  const namespace = `bench-${count}-${Date.now() % 100000}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const port = 20000 + Math.floor(Math.random() * 20000);
  const operator = spawn(
    process.execPath,
    [
      mainJs,
      '--kubeconfig',
      kubeconfigPath,
      '--namespaces',
      namespace,
      '--http-port',
      String(port),
      '--concurrency',
      values.concurrency,
      '--poll-seconds',
      values['poll-seconds'],
      '--resync-seconds',
      '3600',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, STREAMQC_LOG_LEVEL: 'error' } },
  );
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) break;
    } catch {
      /* not up yet */
    }
    await sleep(100);
  }
  const { phases, stop: stopWatching } = await watchPhases(namespace);
  const started = Date.now();
  const names = Array.from({ length: count }, (_, i) => `m${i}`);
  for (let i = 0; i < names.length; i += 50) {
    await Promise.all(
      names.slice(i, i + 50).map((name) =>
        custom.createNamespacedCustomObject({
          group: API_GROUP,
          version: API_VERSION,
          namespace,
          plural: PLURAL,
          body: monitorManifest(name, {
            source: { url: `udp://127.0.0.1:${5000 + (Number(name.slice(1)) % 1000)}` },
            resources: { requests: { cpu: '10m', memory: '32Mi' } },
          }),
        }),
      ),
    );
  }
  const created = Date.now();
  let running = 0;
  let lastProgress = '';
  while (running < count) {
    await sleep(1000);
    running = [...phases.values()].filter((p) => p === 'Running').length;
    const progress = `${count} monitors: ${running} Running after ${((Date.now() - started) / 1000).toFixed(0)} s`;
    if (progress.split(' after')[0] !== lastProgress) console.error(progress);
    lastProgress = progress.split(' after')[0]!;
    if (Date.now() - started > 15 * 60_000) break;
  }
  stopWatching();
  const convergedAt = Date.now();
  const pods = (await core.listNamespacedPod({ namespace })).items;
  const scheduled = pods.filter((p) => p.spec?.nodeName).length;

  // Steady state: settle for a few seconds, then count writes over the window.
  await sleep(5000);
  const windowStart = new Date();
  const before = apiServerMetrics();
  const statusBefore = await metric(port, 'streamqc_operator_status_writes_total');
  await sleep(steadySeconds * 1000);
  const after = apiServerMetrics();
  const writes = operatorResourceRequests(after, WRITE_VERBS) - operatorResourceRequests(before, WRITE_VERBS);
  const reads = operatorResourceRequests(after, READ_VERBS) - operatorResourceRequests(before, READ_VERBS);
  console.error(
    `${count} monitors, --poll-seconds ${values['poll-seconds']}: ${reads} reads (GET/LIST, all clients) in ${steadySeconds} s of steady state`,
  );
  const operatorWrites = auditedWrites(auditLogOf(kubeconfigPath), {
    userAgentPrefix: OPERATOR_USER_AGENT,
    since: windowStart,
  }).filter((w) => w.resource !== 'leases');
  const statusWrites = (await metric(port, 'streamqc_operator_status_writes_total')) - statusBefore;
  const rss = peakRssMiB(operator.pid!);
  const cpu = readProc(operator.pid!)?.cpu ?? Number.NaN;
  const row: OperatorScaleRow = {
    monitors: count,
    createSeconds: (created - started) / 1000,
    allRunningSeconds: (convergedAt - started) / 1000,
    running,
    pods: pods.length,
    scheduled,
    operatorPeakRssMiB: Math.round(rss),
    operatorCpuSeconds: Math.round(cpu * 10) / 10,
    steadyWindowSeconds: steadySeconds,
    steadyWritesOnOperatorResources: writes,
    steadyOperatorStatusWrites: statusWrites,
    steadyReadsAllClients: reads,
    steadyOperatorWrites: operatorWrites.length,
    steadyOperatorWriteSample: operatorWrites
      .slice(0, 3)
      .map(
        (w) =>
          `${w.verb} ${w.resource}${w.subresource ? `/${w.subresource}` : ''} ${w.namespace ?? ''}/${w.name ?? ''}`,
      ),
  };
  rows.push(row);
  console.log(JSON.stringify(row));
  operator.kill('SIGTERM');
  await new Promise((resolve) => operator.on('exit', resolve));
  await core.deleteNamespace({ name: namespace });
}
if (values.json) {
  const result: OperatorBenchResult = {
    startedAt,
    finishedAt: new Date().toISOString(),
    kubeApiserverVersion: kubeApiserverVersion(),
    concurrency: Number(values.concurrency),
    pollSeconds: Number(values['poll-seconds']),
    rows,
  };
  writeResultJson(values.json, result);
  console.error(`figures written to ${values.json}`);
}
for (const name of benchNodes) await core.deleteNode({ name }).catch(() => undefined);
if (cluster) {
  await cluster.stop();
  // Its logs (an audit log of every write: ~40 MB at 5,000 monitors) served the figures above.
  rmSync(benchStateDir, { recursive: true, force: true });
}
