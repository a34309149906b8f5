// A real Kubernetes control plane on loopback for integration and end-to-end tests: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and kwok (simulated nodes), all from
// the streamqc-k8s binary that scripts/cluster-tools.sh builds from Kubernetes' Go modules.
//
// Every component runs in its own process group on free 127.0.0.1 ports and is asked by the
// kernel to die with the process that started it (PR_SET_PDEATHSIG), so no control plane can
// outlive its owner even when the owner is killed outright. A pidfile lets the next start reap
// what a crashed owner left behind.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { defaultFleet, kwokNodeAnnotation, nodeManifest, podNetwork, realNode, type SimulatedNode } from './nodes.js';

const execFileAsync = promisify(execFile);

export const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** Git-ignored home of every cluster started from this work tree. */
export const clusterHome = join(projectRoot, '.cluster');

/** Binary that holds every component; see test/cluster/tools/main.go. */
const multiCallBinary = 'streamqc-k8s';
/** Services get ClusterIPs from loopback too, so nothing ever points off this machine. */
const serviceCIDR = '127.2.0.0/16';

/**
 * Every write request, once, with who sent it (user and user agent): the API server's own
 * record, so a test can attribute writes to one client where request metrics cannot.
 */
const auditPolicy = {
  apiVersion: 'audit.k8s.io/v1',
  kind: 'Policy',
  omitStages: ['RequestReceived', 'ResponseStarted'],
  rules: [{ level: 'Metadata', verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'] }, { level: 'None' }],
};

/** Where the audit log of the cluster whose kubeconfig is at `kubeconfigPath` is written. */
export function auditLogOf(kubeconfigPath: string): string {
  return join(dirname(kubeconfigPath), 'logs', 'audit.log');
}

export interface ClusterOptions {
  /** Directory holding streamqc-k8s (from scripts/cluster-tools.sh). */
  binDir: string;
  /** Directory for the kubeconfig, logs and pidfile; created if missing. */
  stateDir: string;
  fleet?: readonly SimulatedNode[];
  /** Where progress lines go; silent when absent. */
  log?: (line: string) => void;
  /** Limit for each start-up phase (etcd, API server, controllers, nodes). */
  phaseTimeoutMs?: number;
  /** More kube-apiserver flags (e.g. --watch-cache=false, so that watches are served by etcd). */
  apiServerFlags?: string[];
}

interface PidRecord {
  ownerPid: number;
  dataDir: string;
  processes: { name: string; pid: number }[];
}

interface Pki {
  dir: string;
  ca: string;
  adminCert: string;
  adminKey: string;
}

interface Running {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<void>;
  exitCode: number | null | undefined;
}

export class TestCluster {
  readonly kubeconfigPath: string;
  readonly apiServerURL: string;
  /** kube-apiserver's audit log of write requests (JSON lines); see auditPolicy. */
  readonly auditLogPath: string;
  private readonly processes: Running[] = [];
  private readonly pidFile: string;
  private stopping: Promise<void> | undefined;
  private apiServerArgs: string[] = [];
  private pki: Pki | undefined;
  private readonly killOnExit = (): void => this.killAllNow();

  private constructor(
    private readonly options: Required<Omit<ClusterOptions, 'log'>> & Pick<ClusterOptions, 'log'>,
    private readonly dataDir: string,
    private readonly ports: Ports,
  ) {
    this.kubeconfigPath = join(options.stateDir, 'kubeconfig');
    this.apiServerURL = `https://127.0.0.1:${ports.apiServer}`;
    this.pidFile = join(options.stateDir, 'pids.json');
    this.auditLogPath = auditLogOf(this.kubeconfigPath);
  }

  /** Starts a control plane and returns once nodes are Ready and service accounts work. */
  static async start(options: ClusterOptions): Promise<TestCluster> {
    const opts = { fleet: defaultFleet, phaseTimeoutMs: 120_000, apiServerFlags: [], ...options };
    const owner = reapAbandoned(opts.stateDir);
    if (owner !== undefined) {
      throw new Error(`a cluster is already running from ${opts.stateDir} (owner pid ${owner}); stop it first`);
    }
    mkdirSync(join(opts.stateDir, 'logs'), { recursive: true });
    const dataDir = mkdtempSync(join(tmpdir(), 'streamqc-cluster-'));
    const cluster = new TestCluster(opts, dataDir, await freePorts());
    process.on('exit', cluster.killOnExit);
    try {
      await cluster.boot();
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  /** Stops every component (SIGTERM, then SIGKILL after a grace period) and removes the data. */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  /** The CA, client certificates and keys of this cluster (see test/cluster/tools/pki.go). */
  get pkiDir(): string {
    return join(this.dataDir, 'pki');
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfigPath);
    return kc;
  }

  private log(line: string): void {
    this.options.log?.(`cluster: ${line}`);
  }

  private async boot(): Promise<void> {
    const started = Date.now();
    this.writePidFile();
    const bin = join(this.options.binDir, multiCallBinary);
    const pkiDir = this.pkiDir;
    await execFileAsync(bin, ['pki', `--dir=${pkiDir}`, `--node-name=${realNode.name}`]);
    const pki: Pki = {
      dir: pkiDir,
      ca: readFileSync(join(pkiDir, 'ca.crt'), 'utf8'),
      adminCert: readFileSync(join(pkiDir, 'admin.crt'), 'utf8'),
      adminKey: readFileSync(join(pkiDir, 'admin.key'), 'utf8'),
    };
    writeFileSync(this.kubeconfigPath, kubeconfigYaml(this.apiServerURL, pki), { mode: 0o600 });
    const { stdout: stages } = await execFileAsync(bin, ['kwok-stages']);
    writeFileSync(join(this.dataDir, 'kwok-stages.yaml'), stages);

    const p = this.ports;
    const etcdURL = `http://127.0.0.1:${p.etcdClient}`;
    this.spawn('etcd', [
      '--name=streamqc',
      `--data-dir=${join(this.dataDir, 'etcd')}`,
      `--listen-client-urls=${etcdURL}`,
      `--advertise-client-urls=${etcdURL}`,
      `--listen-peer-urls=http://127.0.0.1:${p.etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${p.etcdPeer}`,
      `--initial-cluster=streamqc=http://127.0.0.1:${p.etcdPeer}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    await this.waitUntil('etcd healthy', async () => (await probe(`${etcdURL}/health`)).includes('"health":"true"'));

    const pkiFile = (name: string): string => join(pki.dir, name);
    this.pki = pki;
    const auditPolicyFile = join(this.dataDir, 'audit-policy.yaml');
    writeFileSync(auditPolicyFile, stringify(auditPolicy));
    rmSync(this.auditLogPath, { force: true });
    this.apiServerArgs = [
      `--etcd-servers=${etcdURL}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${p.apiServer}`,
      `--cert-dir=${join(this.dataDir, 'apiserver')}`,
      `--tls-cert-file=${pkiFile('apiserver.crt')}`,
      `--tls-private-key-file=${pkiFile('apiserver.key')}`,
      `--client-ca-file=${pkiFile('ca.crt')}`,
      // How the API server authenticates to a real kubelet (logs, exec, port-forward); see real-node.ts.
      `--kubelet-client-certificate=${pkiFile('kubelet-client.crt')}`,
      `--kubelet-client-key=${pkiFile('kubelet-client.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pkiFile('sa.pub')}`,
      `--service-account-signing-key-file=${pkiFile('sa.key')}`,
      `--service-cluster-ip-range=${serviceCIDR}`,
      '--authorization-mode=Node,RBAC',
      // Admission runs the default plugin set, PodSecurity and ServiceAccount included;
      // privileged pods must be allowed by the cluster so that PodSecurity is what decides.
      '--allow-privileged=true',
      // Endpoints may not hold loopback addresses, so the apiserver's own endpoint is not published.
      '--endpoint-reconciler-type=none',
      '--profiling=false',
      `--audit-policy-file=${auditPolicyFile}`,
      `--audit-log-path=${this.auditLogPath}`,
      '--audit-log-format=json',
      ...this.options.apiServerFlags,
    ];
    this.spawn('kube-apiserver', this.apiServerArgs);
    await this.waitForApiServer();

    const kubeconfig = `--kubeconfig=${this.kubeconfigPath}`;
    const delegated = [
      `--authentication-kubeconfig=${this.kubeconfigPath}`,
      `--authorization-kubeconfig=${this.kubeconfigPath}`,
    ];
    this.spawn('kube-controller-manager', [
      kubeconfig,
      ...delegated,
      '--bind-address=127.0.0.1',
      `--secure-port=${p.controllerManager}`,
      `--cert-dir=${join(this.dataDir, 'controller-manager')}`,
      '--leader-elect=false',
      '--controllers=*',
      `--service-account-private-key-file=${pkiFile('sa.key')}`,
      `--root-ca-file=${pkiFile('ca.crt')}`,
      `--cluster-signing-cert-file=${pkiFile('ca.crt')}`,
      `--cluster-signing-key-file=${pkiFile('ca.key')}`,
    ]);
    this.spawn('kube-scheduler', [
      kubeconfig,
      ...delegated,
      '--bind-address=127.0.0.1',
      `--secure-port=${p.scheduler}`,
      `--cert-dir=${join(this.dataDir, 'scheduler')}`,
      '--leader-elect=false',
    ]);
    this.spawn('kwok', [
      kubeconfig,
      `--config=${join(this.dataDir, 'kwok-stages.yaml')}`,
      '--manage-all-nodes=false',
      `--manage-nodes-with-annotation-selector=${kwokNodeAnnotation.key}=${kwokNodeAnnotation.value}`,
      `--cidr=${podNetwork.fallbackCIDR}`,
      '--node-ip=127.0.0.1',
      '--node-lease-duration-seconds=40',
      `--server-address=127.0.0.1:${p.kwok}`,
    ]);
    const insecure = { insecure: true };
    await Promise.all([
      this.waitUntil(
        'kube-controller-manager healthy',
        async () => (await probe(`https://127.0.0.1:${p.controllerManager}/healthz`, insecure)) === 'ok',
      ),
      this.waitUntil(
        'kube-scheduler healthy',
        async () => (await probe(`https://127.0.0.1:${p.scheduler}/healthz`, insecure)) === 'ok',
      ),
      this.waitUntil('kwok healthy', async () => (await probe(`http://127.0.0.1:${p.kwok}/healthz`)) === 'ok'),
    ]);

    const core = this.kubeConfig().makeApiClient(CoreV1Api);
    for (const [index, node] of this.options.fleet.entries()) {
      await core.createNode({ body: nodeManifest(node, index) });
    }
    await this.waitUntil(`${this.options.fleet.length} nodes Ready`, async () => {
      const nodes = (await core.listNode()).items;
      return nodes.length === this.options.fleet.length && nodes.every(isSchedulable);
    });
    // The service-account controller has run once this exists; pods need it to be admitted.
    await this.waitUntil('default service account', async () => {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
      return true;
    });
    this.log(
      `ready in ${((Date.now() - started) / 1000).toFixed(1)}s at ${this.apiServerURL}, kubeconfig ${this.kubeconfigPath}`,
    );
  }

  /**
   * Compacts etcd's history up to its current revision (what kube-apiserver does every few
   * minutes), so that a watch from any older resourceVersion is refused with 410 Gone.
   * Returns the revision compacted at.
   */
  async compactEtcd(): Promise<number> {
    const etcd = `http://127.0.0.1:${this.ports.etcdClient}`;
    const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
      const res = await fetch(`${etcd}${path}`, { method: 'POST', body: JSON.stringify(body) });
      const text = await res.text();
      if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
      return JSON.parse(text) as Record<string, unknown>;
    };
    const range = await post('/v3/kv/range', { key: Buffer.from('/').toString('base64') });
    const revision = Number((range.header as { revision?: string } | undefined)?.revision);
    if (!Number.isInteger(revision) || revision <= 0)
      throw new Error(`etcd gave no revision: ${JSON.stringify(range).slice(0, 200)}`);
    await post('/v3/kv/compaction', { revision: String(revision), physical: true });
    return revision;
  }

  /**
   * Stops kube-apiserver (SIGTERM, as a rolling control-plane upgrade does) and starts it
   * again on the same port and data: clients see their watches break and the API vanish
   * for a while. Resolves once it is ready again.
   */
  async restartApiServer(downMs = 0): Promise<void> {
    const index = this.processes.findIndex((p) => p.name === 'kube-apiserver');
    if (index < 0) throw new Error('kube-apiserver is not running');
    const [old] = this.processes.splice(index, 1); // its exit is expected from here on
    await terminate(old!);
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    this.spawn('kube-apiserver', this.apiServerArgs);
    await this.waitForApiServer();
  }

  private async waitForApiServer(): Promise<void> {
    const pki = this.pki;
    if (!pki) throw new Error('no PKI yet');
    await this.waitUntil(
      'kube-apiserver ready',
      async () =>
        (await probe(`${this.apiServerURL}/readyz`, { ca: pki.ca, cert: pki.adminCert, key: pki.adminKey })) === 'ok',
    );
  }

  private spawn(name: string, args: string[]): void {
    const logFile = join(this.options.stateDir, 'logs', `${name}.log`);
    const fd = openSync(logFile, 'w');
    const child = spawn(join(this.options.binDir, multiCallBinary), [name, ...args], {
      cwd: this.dataDir,
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, STREAMQC_PARENT_PID: String(process.pid) },
    });
    closeSync(fd);
    child.unref();
    const running: Running = { name, child, logFile, exitCode: undefined, exited: Promise.resolve() };
    running.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        running.exitCode = code;
        if (this.stopping === undefined && this.processes.includes(running))
          this.log(`${name} exited unexpectedly (code ${code}, signal ${signal}); see ${logFile}`);
        resolve();
      });
      child.on('error', (err) => {
        running.exitCode = -1;
        this.log(`${name} failed to start: ${err.message}`);
        resolve();
      });
    });
    this.processes.push(running);
    this.writePidFile();
  }

  /** Polls check until it returns true; fails early with the log tail when a component dies. */
  private async waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + this.options.phaseTimeoutMs;
    let lastError = '';
    for (;;) {
      const dead = this.processes.find((p) => p.exitCode !== undefined);
      if (dead !== undefined) {
        throw new Error(`${dead.name} exited while waiting for ${what}; last log lines:\n${tail(dead.logFile, 30)}`);
      }
      try {
        if (await check()) return;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${this.options.phaseTimeoutMs / 1000}s waiting for ${what}${lastError ? `: ${lastError}` : ''}`,
        );
      }
      await sleep(250);
    }
  }

  private async shutDown(): Promise<void> {
    // Controllers first, then the API server, then its storage, so each stops cleanly.
    const byName = (names: string[]): Running[] => this.processes.filter((p) => names.includes(p.name));
    await Promise.all(byName(['kwok', 'kube-scheduler', 'kube-controller-manager']).map((p) => terminate(p)));
    await Promise.all(byName(['kube-apiserver']).map((p) => terminate(p)));
    await Promise.all(byName(['etcd']).map((p) => terminate(p)));
    process.off('exit', this.killOnExit);
    rmSync(this.dataDir, { recursive: true, force: true });
    rmSync(this.pidFile, { force: true });
    this.log('stopped');
  }

  /** Last resort from a synchronous 'exit' handler: nothing may outlive the owner. */
  private killAllNow(): void {
    for (const p of this.processes) {
      if (p.exitCode === undefined) signalGroup(p.child.pid, 'SIGKILL');
    }
  }

  private writePidFile(): void {
    const record: PidRecord = {
      ownerPid: process.pid,
      dataDir: this.dataDir,
      processes: this.processes.flatMap((p) => (p.child.pid === undefined ? [] : [{ name: p.name, pid: p.child.pid }])),
    };
    writeFileSync(this.pidFile, JSON.stringify(record, null, 2));
  }
}

/**
 * Kills what a dead owner left in stateDir (components, data directory, pidfile).
 * Returns the owner's pid when the cluster there belongs to a live process, else undefined.
 */
export function reapAbandoned(stateDir: string): number | undefined {
  const file = join(stateDir, 'pids.json');
  if (!existsSync(file)) return undefined;
  let record: PidRecord;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as PidRecord;
  } catch {
    rmSync(file, { force: true });
    return undefined;
  }
  if (record.ownerPid !== process.pid && commandLineOf(record.ownerPid).includes('node')) return record.ownerPid;
  for (const p of record.processes) {
    if (commandLineOf(p.pid).includes(multiCallBinary)) signalGroup(p.pid, 'SIGKILL');
  }
  if (record.dataDir.startsWith(join(tmpdir(), 'streamqc-cluster-')))
    rmSync(record.dataDir, { recursive: true, force: true });
  rmSync(file, { force: true });
  return undefined;
}

async function terminate(p: Running, graceMs = 15_000): Promise<void> {
  if (p.exitCode !== undefined) return;
  signalGroup(p.child.pid, 'SIGTERM');
  // A referenced timer: the children are unref'd, so this keeps the owner alive until they are gone.
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const outcome = await Promise.race([p.exited.then(() => 'exited' as const), timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    signalGroup(p.child.pid, 'SIGKILL');
    await p.exited;
  }
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

function isSchedulable(node: V1Node): boolean {
  const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const notReadyTaint = node.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/')) ?? false;
  return ready && !notReadyTaint;
}

interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiServer: number;
  controllerManager: number;
  scheduler: number;
  kwok: number;
}

/** Asks the kernel for free loopback ports, holding all of them open together so none repeats. */
async function freePorts(): Promise<Ports> {
  const names = ['etcdClient', 'etcdPeer', 'apiServer', 'controllerManager', 'scheduler', 'kwok'] as const;
  const servers = await Promise.all(
    names.map(
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = Object.fromEntries(
    names.map((n, i) => [n, (servers[i]!.address() as AddressInfo).port]),
  ) as unknown as Ports;
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

interface ProbeTLS {
  ca?: string;
  cert?: string;
  key?: string;
  /** For a component's self-signed serving certificate on loopback. */
  insecure?: boolean;
}

/** GETs url and returns the body of a 200 answer; throws on anything else. */
function probe(url: string, tls: ProbeTLS = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: import('node:http').IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () =>
        res.statusCode === 200
          ? resolve(body.trim())
          : reject(new Error(`${url}: HTTP ${res.statusCode}: ${body.trim().slice(0, 300)}`)),
      );
    };
    const req = url.startsWith('https:')
      ? httpsRequest(
          url,
          { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !tls.insecure, timeout: 5000 },
          onResponse,
        )
      : httpRequest(url, { timeout: 5000 }, onResponse);
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function kubeconfigYaml(server: string, pki: Pki): string {
  const b64 = (pem: string): string => Buffer.from(pem).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'streamqc', cluster: { server, 'certificate-authority-data': b64(pki.ca) } }],
    users: [
      {
        name: 'streamqc-admin',
        user: { 'client-certificate-data': b64(pki.adminCert), 'client-key-data': b64(pki.adminKey) },
      },
    ],
    contexts: [{ name: 'streamqc', context: { cluster: 'streamqc', user: 'streamqc-admin' } }],
    'current-context': 'streamqc',
  });
}

/** The last `lines` lines of a log file, for failure messages. */
export function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
