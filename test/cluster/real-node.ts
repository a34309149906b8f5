// A real Kubernetes node on this machine for the end-to-end tests: Debian's containerd 1.6 and
// runc, the `bridge` CNI plugin on a private bridge (10.250.0.1/24, no default route in pods, no
// masquerade, no forwarding: nothing leaves the machine), and a kubelet from the same Kubernetes
// build as the test control plane (streamqc-k8s kubelet), registered as node `localhost`,
// tainted so that only pods that ask for it land there (see nodes.ts).
//
// One real node per machine: the bridge, the sysctls and the cgroups are the machine's, so a
// second test run (another work tree) waits for the first one's node to stop. Everything it
// changes on the machine is undone by stop(), and by the next start after a crash: pods (CRI
// sandboxes, their veths and network namespaces), mounts, cgroups, the bridge, and the sysctls
// the kubelet rewrites. containerd's root (its image store) is kept in the cache directory so a
// warm run does not import images again.
//
// Needs root, containerd, runc, ctr, podman, setpriv and the CNI plugins (scripts/setup.sh
// installs them with STREAMQC_NEED_REAL_NODE=1).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Server } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { sleep, tail } from './cluster.js';
import { realNode } from './nodes.js';

const execFileAsync = promisify(execFile);

/** Where the machine-wide state of the one real node lives (tmpfs: a reboot clears it with the rest). */
const runDir = '/run/streamqc-real-node';
const bridge = { name: 'streamqc0', address: '10.250.0.1', prefix: 24, subnet: '10.250.0.0/24' } as const;
/** Host settings the kubelet rewrites at start (setupKernelTunables); put back on stop. */
const kubeletSysctls = ['vm/overcommit_memory', 'kernel/panic', 'kernel/panic_on_oops'] as const;
const cniPluginDir = '/usr/lib/cni';
const requiredCommands = ['containerd', 'containerd-shim-runc-v2', 'runc', 'ctr', 'podman', 'setpriv', 'ip'] as const;
const requiredCniPlugins = ['bridge', 'host-local', 'loopback'] as const;
const cgroupV1Root = '/sys/fs/cgroup';

/** What test processes are told about the real node (global-setup passes it on as env). */
export const realNodeEnv = {
  /** host:port on the bridge where pods reach the API server (a forwarder to its loopback port). */
  apiServer: 'STREAMQC_REAL_NODE_API',
  /** containerd's socket, for importing images (importImageArchive). */
  containerd: 'STREAMQC_REAL_NODE_CONTAINERD',
  /** The test image (FROM scratch, the `probe` program) as containerd knows it. */
  probeImage: 'STREAMQC_REAL_NODE_PROBE_IMAGE',
} as const;

export interface RealNodeOptions {
  /** Directory holding streamqc-k8s, probe and pause (from scripts/cluster-tools.sh). */
  binDir: string;
  /** The control plane's PKI: ca.crt, node.crt, node.key (test/cluster/tools/pki.go). */
  pkiDir: string;
  apiServerURL: string;
  /** An admin client of that control plane, to see the node become Ready. */
  kubeConfig: KubeConfig;
  /** Where the logs of containerd and the kubelet go; created if missing. */
  logsDir: string;
  /** Home of containerd's image store, kept between runs; default ~/.cache/streamqc/real-node. */
  cacheDir?: string;
  log?: (line: string) => void;
  /** Limit for the node to become Ready, and for waiting on another run's node. */
  readyTimeoutMs?: number;
}

interface OwnerRecord {
  ownerPid: number;
  containerdPid?: number;
  kubeletPid?: number;
  cacheDir: string;
}

export class RealNode {
  readonly containerdAddress = join(runDir, 'containerd.sock');
  /** Where in-cluster clients (pods on the bridge) reach the API server. */
  apiServerOnBridge = '';
  probeImage = '';
  private containerd: ChildProcess | undefined;
  private kubelet: ChildProcess | undefined;
  private forwarder: Server | undefined;
  private stopping: Promise<void> | undefined;
  private readonly killOnExit = (): void => {
    for (const child of [this.kubelet, this.containerd]) {
      if (child?.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    }
  };

  private constructor(
    private readonly options: Required<Omit<RealNodeOptions, 'log'>> & Pick<RealNodeOptions, 'log'>,
  ) {}

  /** Starts containerd and the kubelet; resolves once the node is Ready. Throws naming what is missing. */
  static async start(options: RealNodeOptions): Promise<RealNode> {
    const opts = {
      cacheDir: join(process.env.STREAMQC_CACHE_DIR ?? join(homedir(), '.cache', 'streamqc'), 'real-node'),
      readyTimeoutMs: 180_000,
      ...options,
    };
    checkPrerequisites(opts.binDir);
    const node = new RealNode(opts);
    await node.takeOwnership();
    process.on('exit', node.killOnExit);
    try {
      await node.boot();
      return node;
    } catch (err) {
      await node.stop();
      throw err;
    }
  }

  /** Stops the kubelet and every pod, then undoes what the node changed on the machine. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.forwarder?.close();
      await stopChild(this.kubelet);
      await reset(
        this.options.binDir,
        this.options.cacheDir,
        this.containerdAddress,
        this.containerd,
        this.options.log,
      );
      process.off('exit', this.killOnExit);
      rmSync(join(runDir, 'owner.json'), { force: true });
      this.log('stopped');
    })();
    return this.stopping;
  }

  private log(line: string): void {
    this.options.log?.(`real node: ${line}`);
  }

  /** One node per machine: waits while another live process owns it, reaps what a dead one left. */
  private async takeOwnership(): Promise<void> {
    mkdirSync(runDir, { recursive: true });
    const lock = join(runDir, 'owner.json');
    const deadline = Date.now() + this.options.readyTimeoutMs * 5;
    let told = false;
    for (;;) {
      const record = readOwner();
      if (record === undefined || !isAlive(record.ownerPid, 'node')) {
        if (record !== undefined) {
          this.log(`reaping the node of dead test run ${record.ownerPid}`);
          await reapDeadOwner(this.options.binDir, this.containerdAddress, record, this.options.log);
        }
        try {
          // Exclusive create: of two runs reaping at once, one wins and the other goes on waiting.
          closeSync(openSync(lock, 'wx'));
        } catch {
          await sleep(500);
          continue;
        }
        this.writeOwner();
        return;
      }
      if (!told) {
        this.log(`waiting for the real node of test run pid ${record.ownerPid} (another work tree) to stop`);
        told = true;
      }
      if (Date.now() > deadline) {
        throw new Error(`the real node is held by test run pid ${record.ownerPid}; ${lock} names it`);
      }
      await sleep(2000);
    }
  }

  private writeOwner(): void {
    const record: OwnerRecord = {
      ownerPid: process.pid,
      containerdPid: this.containerd?.pid,
      kubeletPid: this.kubelet?.pid,
      cacheDir: this.options.cacheDir,
    };
    writeFileSync(join(runDir, 'owner.json'), JSON.stringify(record, null, 2));
  }

  private async boot(): Promise<void> {
    const started = Date.now();
    const { cacheDir, logsDir } = this.options;
    mkdirSync(logsDir, { recursive: true });
    mkdirSync(cacheDir, { recursive: true });
    saveSysctls();
    await createBridge();
    const images = imageRefs(this.options.binDir);
    this.containerd = this.spawnLogged(
      'containerd',
      'setpriv',
      // containerd is not ours to build, so the kernel is asked to kill it with its owner here.
      ['--pdeathsig', 'KILL', '--', 'containerd', '--config', this.writeContainerdConfig(images.pause)],
    );
    this.writeOwner();
    await this.waitUntil('containerd serving', async () => {
      await this.ctr(['version']);
      return true;
    });
    // What a crashed run may have left running in this containerd (its root is kept).
    await criReset(this.options.binDir, this.containerdAddress);
    await this.ensureImages(images);
    this.probeImage = images.probe;
    this.forwarder = await forwardToApiServer(this.options.apiServerURL);
    this.apiServerOnBridge = `${bridge.address}:${(this.forwarder.address() as AddressInfo).port}`;
    this.kubelet = this.spawnLogged('kubelet', join(this.options.binDir, 'streamqc-k8s'), this.kubeletArgs(), {
      STREAMQC_PARENT_PID: String(process.pid),
    });
    this.writeOwner();
    await this.waitForReady();
    this.log(`Ready in ${((Date.now() - started) / 1000).toFixed(1)}s (pods on ${bridge.subnet})`);
  }

  private spawnLogged(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const logFile = join(this.options.logsDir, `real-node-${name}.log`);
    const fd = openSync(logFile, 'w');
    const child = spawn(command, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
    closeSync(fd);
    child.on('exit', (code, signal) => {
      if (this.stopping === undefined) this.log(`${name} exited (${code ?? signal}); see ${logFile}`);
    });
    return child;
  }

  private async ctr(args: string[]): Promise<string> {
    return (await execFileAsync('ctr', ['--address', this.containerdAddress, '--namespace', 'k8s.io', ...args])).stdout;
  }

  /** The sandbox (pause) and probe images, built FROM scratch with podman once per tools build. */
  private async ensureImages(images: { pause: string; probe: string }): Promise<void> {
    const present = new Set((await this.ctr(['images', 'ls', '-q'])).split('\n'));
    for (const [program, ref] of [
      ['pause', images.pause],
      ['probe', images.probe],
    ] as const) {
      if (present.has(ref)) continue;
      const started = Date.now();
      const context = mkdtempSync(join(tmpdir(), `streamqc-${program}-image-`));
      try {
        const binary = readFileSync(join(this.options.binDir, program));
        writeFileSync(join(context, program), binary, { mode: 0o755 });
        // 65535 is the user upstream's pause image runs as; the probe runs as the analyzer's non-root uid.
        const user = program === 'pause' ? '65535:65535' : '65532:65532';
        writeFileSync(
          join(context, 'Containerfile'),
          `FROM scratch\nCOPY ${program} /${program}\nUSER ${user}\nENTRYPOINT ["/${program}"]\n`,
        );
        await execFileAsync('podman', ['build', '--quiet', '--tag', ref, context]);
        const archive = join(context, 'image.tar');
        await execFileAsync('podman', ['save', '--format', 'docker-archive', '--output', archive, ref]);
        await importImageArchive(this.containerdAddress, archive, ref);
      } finally {
        rmSync(context, { recursive: true, force: true });
      }
      this.log(`${ref} built and imported in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    }
  }

  private writeContainerdConfig(sandboxImage: string): string {
    const cniConfDir = join(runDir, 'cni', 'net.d');
    mkdirSync(cniConfDir, { recursive: true });
    writeFileSync(
      join(cniConfDir, '10-streamqc.conflist'),
      JSON.stringify({
        cniVersion: '1.0.0',
        name: 'streamqc',
        plugins: [
          {
            type: 'bridge',
            bridge: bridge.name,
            // The bridge already has its address; not a gateway, so the plugin neither turns on IP
            // forwarding nor gives pods a default route: they reach the bridge's subnet and nothing else.
            isGateway: false,
            ipMasq: false,
            ipam: {
              type: 'host-local',
              ranges: [[{ subnet: bridge.subnet, rangeStart: '10.250.0.10', rangeEnd: '10.250.0.250' }]],
              dataDir: join(runDir, 'cni', 'ipam'),
            },
          },
          { type: 'loopback' },
        ],
      }),
    );
    const config = join(runDir, 'containerd.toml');
    // TOML by hand: the few keys containerd 1.6's CRI plugin needs here (config version 2).
    const cri = 'plugins."io.containerd.grpc.v1.cri"';
    writeFileSync(
      config,
      [
        'version = 2',
        `root = ${JSON.stringify(join(this.options.cacheDir, 'containerd'))}`,
        `state = ${JSON.stringify(join(runDir, 'containerd'))}`,
        '[grpc]',
        `  address = ${JSON.stringify(this.containerdAddress)}`,
        `[${cri}]`,
        `  sandbox_image = ${JSON.stringify(sandboxImage)}`,
        // These VMs drop CAP_SYS_RESOURCE: without this, runc cannot lower the sandbox's
        // oom_score_adj and sandbox creation fails ("can't get final child's PID from pipe").
        '  restrict_oom_score_adj = true',
        '  stream_server_address = "127.0.0.1"',
        '  stream_server_port = "0"',
        `[${cri}.containerd]`,
        '  snapshotter = "overlayfs"',
        '  default_runtime_name = "runc"',
        `[${cri}.containerd.runtimes.runc]`,
        '  runtime_type = "io.containerd.runc.v2"',
        `[${cri}.containerd.runtimes.runc.options]`,
        // The kubelet's cgroupDriver is cgroupfs: both must agree.
        '  SystemdCgroup = false',
        `[${cri}.cni]`,
        `  bin_dir = ${JSON.stringify(cniPluginDir)}`,
        `  conf_dir = ${JSON.stringify(cniConfDir)}`,
        '',
      ].join('\n'),
    );
    return config;
  }

  private kubeletArgs(): string[] {
    const dir = join(runDir, 'kubelet');
    mkdirSync(dir, { recursive: true });
    const pki = (name: string): string => join(this.options.pkiDir, name);
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: 'streamqc', cluster: { server: this.options.apiServerURL, 'certificate-authority': pki('ca.crt') } },
        ],
        users: [
          { name: realNode.name, user: { 'client-certificate': pki('node.crt'), 'client-key': pki('node.key') } },
        ],
        contexts: [{ name: 'streamqc', context: { cluster: 'streamqc', user: realNode.name } }],
        'current-context': 'streamqc',
      }),
      { mode: 0o600 },
    );
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      stringify({
        apiVersion: 'kubelet.config.k8s.io/v1beta1',
        kind: 'KubeletConfiguration',
        // Only the API server (on loopback) talks to the kubelet, with its kubelet-client certificate.
        address: '127.0.0.1',
        port: 10250,
        readOnlyPort: 0,
        healthzPort: 0,
        authentication: {
          anonymous: { enabled: false },
          webhook: { enabled: false },
          x509: { clientCAFile: pki('ca.crt') },
        },
        authorization: { mode: 'AlwaysAllow' },
        containerRuntimeEndpoint: `unix://${this.containerdAddress}`,
        // This machine: cgroup v1 (hybrid), swap allowed, containerd without the systemd driver.
        cgroupDriver: 'cgroupfs',
        failCgroupV1: false,
        failSwapOn: false,
        registerWithTaints: [realNode.taint],
        podLogsDir: join(this.options.cacheDir, 'pod-logs'),
        // No cluster DNS and no host resolver: pods reach addresses on the bridge only.
        resolvConf: '',
        // The machine is shared: never evict or garbage-collect images because of others' disk use.
        evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
        imageGCHighThresholdPercent: 100,
        imageGCLowThresholdPercent: 99,
        maxPods: 30,
        // No iptables chains (KUBE-FIREWALL, canaries): nothing here needs them, and the host's firewall stays as it was.
        makeIPTablesUtilChains: false,
        serializeImagePulls: false,
      }),
    );
    return [
      'kubelet',
      `--config=${config}`,
      `--kubeconfig=${kubeconfig}`,
      `--root-dir=${join(dir, 'root')}`,
      `--cert-dir=${join(dir, 'pki')}`,
      `--hostname-override=${realNode.name}`,
      `--node-ip=${bridge.address}`,
      `--node-labels=${realNode.label.key}=${realNode.label.value}`,
      '--v=1',
    ];
  }

  private async waitForReady(): Promise<void> {
    const core = this.options.kubeConfig.makeApiClient(CoreV1Api);
    await this.waitUntil(`node ${realNode.name} Ready`, async () =>
      isReady(await core.readNode({ name: realNode.name })),
    );
  }

  private async waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + this.options.readyTimeoutMs;
    let lastError = '';
    for (;;) {
      for (const [name, child] of [
        ['containerd', this.containerd],
        ['kubelet', this.kubelet],
      ] as const) {
        if (child !== undefined && child.exitCode !== null) {
          const log = join(this.options.logsDir, `real-node-${name}.log`);
          throw new Error(`${name} exited while waiting for ${what}; last log lines:\n${tail(log, 30)}`);
        }
      }
      try {
        if (await check()) return;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() > deadline) {
        const kubeletLog = join(this.options.logsDir, 'real-node-kubelet.log');
        throw new Error(
          `timed out after ${this.options.readyTimeoutMs / 1000}s waiting for ${what}${lastError ? `: ${lastError}` : ''}\n` +
            `kubelet log tail:\n${tail(kubeletLog, 30)}`,
        );
      }
      await sleep(500);
    }
  }
}

/** Imports a docker-archive (podman save) into the node's containerd under `ref`, unless it is there. */
export async function importImageArchive(containerdAddress: string, archive: string, ref: string): Promise<boolean> {
  const ctr = ['--address', containerdAddress, '--namespace', 'k8s.io'];
  const { stdout } = await execFileAsync('ctr', [...ctr, 'images', 'ls', '-q']);
  if (stdout.split('\n').includes(ref)) return false;
  if (!existsSync(archive)) throw new Error(`image archive ${archive} for ${ref} does not exist`);
  // --no-unpack off: the CRI plugin runs images unpacked into its snapshotter (overlayfs).
  const importArchive = () =>
    execFileAsync('ctr', [...ctr, 'images', 'import', '--index-name', ref, archive], { maxBuffer: 16 << 20 });
  try {
    await importArchive();
  } catch (err) {
    // Seen once, in a cold run on an empty store right after another image sharing its base was
    // imported: "unpacking <ref> (sha256:X)... ctr: content digest sha256:X: not found" (cause not
    // known; containerd 1.6). The same import again is what a person would do; anything else fails.
    if (!/content digest sha256:[0-9a-f]+: not found/.test(String((err as { stderr?: unknown }).stderr))) throw err;
    await execFileAsync('ctr', [...ctr, 'images', 'rm', ref]).catch(() => undefined);
    await importArchive();
  }
  const after = (await execFileAsync('ctr', [...ctr, 'images', 'ls', '-q'])).stdout.split('\n');
  if (!after.includes(ref)) {
    throw new Error(`ctr imported ${archive} but containerd has no image ${ref} (it has: ${after.join(' ')})`);
  }
  return true;
}

/** Image names derive from the tools build (its directory names the Kubernetes version and input hash). */
function imageRefs(binDir: string): { pause: string; probe: string } {
  const tag = basename(dirname(binDir)).replace(/^k8s-/, '');
  return { pause: `localhost/streamqc-pause:${tag}`, probe: `localhost/streamqc-probe:${tag}` };
}

/** Every missing piece at once, with how to get it. */
/** Throws one error naming every missing prerequisite; `uid` is the user the node would run as. */
export function checkPrerequisites(binDir: string, uid: number | undefined = process.getuid?.()): void {
  const missing: string[] = [];
  if (uid !== 0) missing.push('root (the kubelet and containerd manage cgroups, mounts and the bridge)');
  const path = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  for (const command of requiredCommands) {
    if (!path.some((dir) => existsSync(join(dir, command)))) missing.push(`the \`${command}\` command`);
  }
  for (const plugin of requiredCniPlugins) {
    if (!existsSync(join(cniPluginDir, plugin))) missing.push(`the CNI plugin ${join(cniPluginDir, plugin)}`);
  }
  for (const program of ['streamqc-k8s', 'probe', 'pause']) {
    if (!existsSync(join(binDir, program)))
      missing.push(`${join(binDir, program)} (scripts/cluster-tools.sh builds it)`);
  }
  if (!existsSync(join(cgroupV1Root, 'memory'))) {
    missing.push(`the cgroup v1 memory controller at ${cgroupV1Root}/memory (this harness drives cgroupfs on v1)`);
  }
  if (missing.length > 0) {
    throw new Error(
      `the real node cannot start; missing: ${missing.join('; ')}. ` +
        'Install the packages with `STREAMQC_NEED_REAL_NODE=1 bash scripts/setup.sh` ' +
        '(apt-get install containerd runc containernetworking-plugins podman) and run as root.',
    );
  }
}

function readOwner(): OwnerRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(runDir, 'owner.json'), 'utf8')) as OwnerRecord;
  } catch {
    return undefined;
  }
}

async function reapDeadOwner(
  binDir: string,
  containerdAddress: string,
  record: OwnerRecord,
  log?: (line: string) => void,
): Promise<void> {
  if (record.kubeletPid !== undefined && isAlive(record.kubeletPid, 'streamqc-k8s')) {
    process.kill(record.kubeletPid, 'SIGKILL');
  }
  // Its containerd died with it (pdeathsig); its containers may not have: a containerd on the
  // same state finds their shims again, and reset() removes them.
  const containerd =
    record.containerdPid !== undefined && isAlive(record.containerdPid, 'containerd') ? undefined : 'restart';
  if (containerd === 'restart' && existsSync(join(runDir, 'containerd.toml'))) {
    const child = spawn(
      'setpriv',
      ['--pdeathsig', 'KILL', '--', 'containerd', '--config', join(runDir, 'containerd.toml')],
      {
        stdio: 'ignore',
      },
    );
    await reset(binDir, record.cacheDir, containerdAddress, child, log);
  } else {
    await reset(binDir, record.cacheDir, containerdAddress, undefined, log);
  }
  rmSync(join(runDir, 'owner.json'), { force: true });
}

/**
 * Removes every pod (through CRI, so CNI tears down veths and namespaces), stops containerd, and
 * undoes the machine changes: mounts under the node's directories, kubepods cgroups, the bridge,
 * the sysctls. Failures are collected and thrown together after every step has been tried.
 */
async function reset(
  binDir: string,
  cacheDir: string,
  containerdAddress: string,
  containerd: ChildProcess | undefined,
  log?: (line: string) => void,
): Promise<void> {
  const problems: string[] = [];
  if (containerd !== undefined) {
    const serving = await waitFor(async () => {
      await execFileAsync('ctr', ['--address', containerdAddress, 'version']);
      return true;
    }, 30_000);
    if (serving) {
      await criReset(binDir, containerdAddress).catch((err: unknown) => problems.push(String(err)));
    } else {
      problems.push(`containerd at ${containerdAddress} did not answer: pods may be left running`);
    }
    await stopChild(containerd);
  }
  for (const mount of mountsUnder([runDir, cacheDir])) {
    await execFileAsync('umount', ['--lazy', mount]).catch((err: unknown) =>
      problems.push(`umount ${mount}: ${String(err)}`),
    );
  }
  problems.push(...removeCgroups('kubepods'));
  await execFileAsync('ip', ['link', 'delete', bridge.name]).catch(() => undefined);
  restoreSysctls();
  for (const dir of ['kubelet', 'cni', 'containerd']) rmSync(join(runDir, dir), { recursive: true, force: true });
  rmSync(join(cacheDir, 'pod-logs'), { recursive: true, force: true });
  if (problems.length > 0) {
    const message = `real node clean-up left problems: ${problems.join('; ')}`;
    log?.(message);
    throw new Error(message);
  }
}

async function criReset(binDir: string, containerdAddress: string): Promise<void> {
  await execFileAsync(join(binDir, 'streamqc-k8s'), ['cri-reset', `--endpoint=unix://${containerdAddress}`]);
}

async function createBridge(): Promise<void> {
  await execFileAsync('ip', ['link', 'delete', bridge.name]).catch(() => undefined);
  await execFileAsync('ip', ['link', 'add', bridge.name, 'type', 'bridge']);
  await execFileAsync('ip', ['address', 'add', `${bridge.address}/${bridge.prefix}`, 'dev', bridge.name]);
  await execFileAsync('ip', ['link', 'set', bridge.name, 'up']);
}

/** A TCP forwarder from the bridge address to the API server's loopback port, for in-cluster clients. */
async function forwardToApiServer(apiServerURL: string): Promise<Server> {
  const target = new URL(apiServerURL);
  const server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    client.pipe(upstream).pipe(client);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, bridge.address, resolve);
  });
  server.unref();
  return server;
}

const sysctlRecord = join(runDir, 'sysctls.json');

/** Records the kubelet-rewritten sysctls once: a crashed run's record (the true originals) wins. */
function saveSysctls(): void {
  if (existsSync(sysctlRecord)) return;
  const values = Object.fromEntries(
    kubeletSysctls.map((name) => [name, readFileSync(join('/proc/sys', name), 'utf8').trim()]),
  );
  writeFileSync(sysctlRecord, JSON.stringify(values));
}

function restoreSysctls(): void {
  if (!existsSync(sysctlRecord)) return;
  const values = JSON.parse(readFileSync(sysctlRecord, 'utf8')) as Record<string, string>;
  for (const [name, value] of Object.entries(values)) writeFileSync(join('/proc/sys', name), value);
  rmSync(sysctlRecord);
}

/** Mount points at or below any of dirs, deepest first. */
function mountsUnder(dirs: string[]): string[] {
  const mountInfo = readFileSync('/proc/self/mountinfo', 'utf8');
  const points = mountInfo
    .split('\n')
    .map((line) => (line.split(' ')[4] ?? '').replace(/\\040/g, ' '))
    .filter((p) => dirs.some((d) => p === d || p.startsWith(`${d}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** rmdir of `name` in every cgroup v1 hierarchy, children first; returns what could not be removed. */
function removeCgroups(name: string): string[] {
  const problems: string[] = [];
  const removeTree = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) removeTree(join(dir, entry.name));
    }
    try {
      // rmdir(2) removes a cgroup (its control files go with it) once no process is left in it.
      rmdirSync(dir);
    } catch (err) {
      problems.push(`cgroup ${dir}: ${String(err)}`);
    }
  };
  if (!existsSync(cgroupV1Root)) return problems;
  for (const hierarchy of readdirSync(cgroupV1Root)) {
    const dir = join(cgroupV1Root, hierarchy, name);
    if (existsSync(dir) && statSync(dir).isDirectory()) removeTree(dir);
  }
  return problems;
}

async function stopChild(child: ChildProcess | undefined, graceMs = 15_000): Promise<void> {
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function isAlive(pid: number, commandContains: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(commandContains);
  } catch {
    return false;
  }
}

function isReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      if (await check()) return true;
    } catch {
      // not yet
    }
    await sleep(250);
  }
  return false;
}
