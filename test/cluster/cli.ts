// npm run cluster:up / cluster:down: a developer's control plane that outlives the command.
//
//   up     builds the tools if needed, starts a daemon that owns the cluster, waits until it is
//          ready and prints the kubeconfig path (.cluster/kubeconfig); idempotent.
//   down   stops the daemon, which stops every component; anything a killed daemon left is reaped.
//   serve  the daemon itself (started by up). Its components die with it, even on SIGKILL.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestCluster, clusterHome, reapAbandoned } from './cluster.js';
import { clusterToolsBinDir } from './tools.js';

const daemonPidFile = join(clusterHome, 'daemon.pid');
const daemonLog = join(clusterHome, 'daemon.log');
const kubeconfigPath = join(clusterHome, 'kubeconfig');

type DaemonMessage = { ready: string } | { error: string };

async function up(): Promise<number> {
  const owner = reapAbandoned(clusterHome);
  if (owner !== undefined) {
    console.log(`cluster: already running (daemon pid ${owner})`);
    printUsage();
    return 0;
  }
  const binDir = await clusterToolsBinDir();
  mkdirSync(clusterHome, { recursive: true });
  const log = openSync(daemonLog, 'w');
  const daemon = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve', binDir], {
    detached: true,
    stdio: ['ignore', log, log, 'ipc'],
  });
  const message = await new Promise<DaemonMessage>((resolve) => {
    daemon.once('message', (m) => resolve(m as DaemonMessage));
    daemon.once('exit', (code) => resolve({ error: `daemon exited with code ${code}` }));
  });
  if (daemon.connected) daemon.disconnect();
  daemon.unref();
  if ('error' in message) {
    console.error(`cluster: failed to start: ${message.error}\nsee ${daemonLog} and ${join(clusterHome, 'logs')}/`);
    return 1;
  }
  printUsage();
  return 0;
}

function printUsage(): void {
  console.log(`kubeconfig: ${kubeconfigPath}`);
  const bin = readDaemonBinDir();
  if (bin) console.log(`try:        ${join(bin, 'kubectl')} --kubeconfig ${kubeconfigPath} get nodes`);
}

function readDaemonBinDir(): string | undefined {
  try {
    return (JSON.parse(readFileSync(daemonPidFile, 'utf8')) as { binDir: string }).binDir;
  } catch {
    return undefined;
  }
}

async function serve(binDir: string): Promise<number> {
  writeFileSync(daemonPidFile, JSON.stringify({ pid: process.pid, binDir }));
  let cluster: TestCluster;
  try {
    cluster = await TestCluster.start({ binDir, stateDir: clusterHome, log: (line) => console.error(line) });
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    console.error(error);
    process.send?.({ error } satisfies DaemonMessage);
    rmSync(daemonPidFile, { force: true });
    return 1;
  }
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const stop = async (): Promise<void> => {
    clearInterval(keepAlive);
    await cluster.stop();
    rmSync(daemonPidFile, { force: true });
    rmSync(kubeconfigPath, { force: true });
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(signal, () => void stop());
  process.send?.({ ready: cluster.kubeconfigPath } satisfies DaemonMessage);
  return new Promise(() => undefined);
}

async function down(): Promise<number> {
  let pid: number | undefined;
  try {
    pid = (JSON.parse(readFileSync(daemonPidFile, 'utf8')) as { pid: number }).pid;
  } catch {
    pid = undefined;
  }
  if (pid !== undefined && isDaemon(pid)) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 60_000;
    while (isDaemon(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    if (isDaemon(pid)) process.kill(pid, 'SIGKILL');
  }
  // A daemon killed outright takes its components with it; sweep the records it left.
  reapAbandoned(clusterHome);
  rmSync(daemonPidFile, { force: true });
  rmSync(kubeconfigPath, { force: true });
  console.log('cluster: stopped');
  return 0;
}

function isDaemon(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('serve');
  } catch {
    return false;
  }
}

const [command, arg] = process.argv.slice(2);
const commands: Record<string, () => Promise<number>> = {
  up,
  down,
  serve: () => serve(arg ?? ''),
};
const run = command === undefined ? undefined : commands[command];
if (run === undefined) {
  console.error('usage: node dist/test/cluster/cli.js up|down');
  process.exit(2);
}
process.exitCode = await run();
