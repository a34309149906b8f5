// A test-only "kubelet" for analyzer pods: kwok binds pods to simulated nodes and gives them
// loopback IPs (127.1.x.y) but runs nothing. This runner polls the pods of one namespace and, for
// every analyzer pod (label streamqc.io/monitor) bound to a node with a pod IP, runs the
// container's command as a local process: its ConfigMap's config.yaml is written to a temp dir
// with listenAddress set to the pod IP (so every analyzer serves port 9090 on its own IP), and
// `node dist/analyzer/cli.js` gets the container's args with the config path replaced. A pod that
// goes away (or starts terminating) has its process killed; stop() kills them all.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import YAML from 'yaml';
import { CONFIG_FILE, LABEL_MONITOR } from '../../operator/analyzer-pod.js';

const CLI = fileURLToPath(new URL('../../analyzer/cli.js', import.meta.url));

export interface RunningAnalyzer {
  pod: string;
  uid: string;
  monitor: string;
  podIP: string;
  child: ChildProcess;
  /** The last few KB of the process's stderr, for failure messages. */
  stderr: () => string;
}

export class PodRunner {
  private readonly core: CoreV1Api;
  private readonly running = new Map<string, RunningAnalyzer>();
  private readonly dir = mkdtempSync(join(tmpdir(), 'streamqc-pod-runner-'));
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;
  /** Errors met while starting pods (a failed start is retried on the next poll). */
  readonly errors: string[] = [];

  constructor(
    kc: KubeConfig,
    private readonly namespace: string,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  start(intervalMs = 300): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.polling = this.poll()
        .catch((err: unknown) => {
          this.errors.push(String(err));
        })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, intervalMs);
        });
    };
    tick();
  }

  /** The analyzers running now, by pod name. */
  analyzers(): RunningAnalyzer[] {
    return [...this.running.values()];
  }

  private async poll(): Promise<void> {
    const pods = (await this.core.listNamespacedPod({ namespace: this.namespace, labelSelector: LABEL_MONITOR })).items;
    const live = new Set<string>();
    for (const pod of pods) {
      const uid = pod.metadata?.uid ?? '';
      if (pod.metadata?.deletionTimestamp || !pod.spec?.nodeName || !pod.status?.podIP) continue;
      live.add(uid);
      if (!this.running.has(uid) && !this.stopped) await this.run(pod);
    }
    for (const [uid, a] of this.running) {
      if (!live.has(uid)) {
        this.log(`pod ${a.pod} is gone: stopping its analyzer`);
        this.running.delete(uid);
        await terminate(a.child);
      }
    }
  }

  private async run(pod: V1Pod): Promise<void> {
    const name = pod.metadata!.name!;
    const uid = pod.metadata!.uid!;
    const podIP = pod.status!.podIP!;
    const container = pod.spec!.containers[0]!;
    const volume = pod.spec!.volumes?.find((v) => v.name === 'config');
    const mount = container.volumeMounts?.find((m) => m.name === 'config');
    if (!volume?.configMap?.name || !mount) throw new Error(`pod ${name} has no config volume`);
    const cm = await this.core.readNamespacedConfigMap({ name: volume.configMap.name, namespace: this.namespace });
    const config = YAML.parse(cm.data?.[CONFIG_FILE] ?? '') as Record<string, unknown>;
    const configPath = join(this.dir, `${uid}-${CONFIG_FILE}`);
    writeFileSync(configPath, YAML.stringify({ ...config, listenAddress: podIP }));
    const mountedConfig = `${mount.mountPath}/${CONFIG_FILE}`;
    const args = (container.args ?? []).map((a) => (a === mountedConfig ? configPath : a));
    const env: NodeJS.ProcessEnv = { ...process.env, STREAMQC_LOG_LEVEL: 'warn' };
    for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    if (this.stopped) return;
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on('exit', (code, signal) => this.log(`analyzer of ${name} exited (${code ?? signal})`));
    this.running.set(uid, {
      pod: name,
      uid,
      monitor: pod.metadata?.labels?.[LABEL_MONITOR] ?? '',
      podIP,
      child,
      stderr: () => stderr,
    });
    this.log(`pod ${name}: analyzer started on ${podIP} (${args.join(' ')})`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling?.catch(() => undefined);
    await Promise.all([...this.running.values()].map((a) => terminate(a.child)));
    this.running.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** SIGTERM, then SIGKILL after 5 s; resolves when the process has exited. */
export async function terminate(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
