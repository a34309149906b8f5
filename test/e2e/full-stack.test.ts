// The whole stack on the test control plane and its real node (test/cluster/real-node.ts): the
// chart installed with `helm install` (after a server-side dry-run of its manifests), the operator
// as a real pod from its podman-built image, analyzer pods from the analyzer image started by the
// operator and run by a real kubelet, two live MPEG-TS sources over UDP to the pods' IPs on the
// node's bridge (one turns black), and a real Prometheus on the host discovering the analyzer
// pods from the API server (pod-sd.ts) and scraping them by pod IP, with the chart's alert rules
// (short `for`). Asserts status, Events, metrics, alerts, the restricted profile and memory limit
// as the kernel holds them, recovery from a killed analyzer container, and that a deleted
// monitor's pod and series go away.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import YAML from 'yaml';
import { clusterTool, sharedKubeConfig, sharedKubeconfigPath } from '../cluster/shared.js';
import { onRealNode, realNode } from '../cluster/nodes.js';
import { importImageArchive, realNodeEnv } from '../cluster/real-node.js';
import { ensureImages, type BuiltImages } from '../images/images.js';
import { deleteNamespaces, eventually, freshNamespace } from '../integration/operator-helpers.js';
import { syntheticStreamArgs } from '../../analyzer/synthetic-source.js';
import { API_GROUP, API_VERSION, PLURAL, type StreamMonitor } from '../../operator/api.js';
import { LABEL_MONITOR } from '../../operator/analyzer-pod.js';
import { startPodSd } from './pod-sd.js';
import { freeTcpPort } from '../net.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const chart = join(root, 'helm', 'streamqc');
const rulesFile = join(chart, 'files', 'streamqc-alerts.rules.yaml');
const examplesDir = join(root, 'examples');
const RELEASE = 'sq';
/** Each analyzer pod has its own network namespace, so both listen on the same UDP port. */
const SOURCE_PORT = 5000;
/** The analyzers' resources, from the chart's values: the limit is checked in the container's cgroup. */
const ANALYZER_MEMORY_LIMIT_MIB = 768;
/** The uid both run as: the chart's securityContext for the operator, the operator's for analyzer pods. */
const OPERATOR_UID = 10001;
const ANALYZER_UID = 10001;

let kc: KubeConfig;
let namespace: string;
let work: string;
let images: BuiltImages;
const namespaces: string[] = [];
const processes: ChildProcess[] = [];
let sdServer: Server | undefined;
let helmInstalled = false;
let prometheusLog = '';

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `${name} is not set: run e2e tests through scripts/run-tests.mjs (its set-up starts the real node)`,
    );
  return value;
}

/** Runs a tool of the control-plane build against the shared cluster; throws with its output on failure. */
function tool(name: 'kubectl' | 'helm', args: string[], input?: string): string {
  const r = spawnSync(clusterTool(name), ['--kubeconfig', sharedKubeconfigPath(), ...args], {
    encoding: 'utf8',
    input,
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${name} ${args.join(' ')}: exit ${r.status}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/**
 * Runs an idempotent kubectl command, retried for up to 60 s: another test file sharing the
 * control plane may be restarting the API server (operator-apiserver-restart.test).
 */
async function kubectl(args: string[], input?: string): Promise<string> {
  return eventually(`kubectl ${args.join(' ')}`, () => tool('kubectl', args, input).replace(/\n$/, '\n'), 60_000);
}

interface PromVector {
  metric: Record<string, string>;
  value: [number, string];
}

async function promQuery(port: number, expr: string): Promise<PromVector[]> {
  const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await r.json()) as { status: string; error?: string; data?: { result: PromVector[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? r.status}`);
  return body.data?.result ?? [];
}

interface PromAlert {
  labels: Record<string, string>;
  state: string;
}

async function promAlerts(port: number): Promise<PromAlert[]> {
  const body = (await (await fetch(`http://127.0.0.1:${port}/api/v1/alerts`)).json()) as {
    data?: { alerts: PromAlert[] };
  };
  return body.data?.alerts ?? [];
}

/**
 * A StreamMonitor built from examples/minimal.yaml: its name and URL replaced, black reported
 * after 1 s, and scheduled onto the real node (its taint keeps other test files' pods off it).
 */
function exampleMonitor(name: string, url: string): Record<string, unknown> {
  const manifest = YAML.parse(readFileSync(join(examplesDir, 'minimal.yaml'), 'utf8')) as {
    metadata: Record<string, unknown>;
    spec: { source: { url: string }; [k: string]: unknown };
  };
  return {
    ...manifest,
    metadata: { ...manifest.metadata, name, namespace },
    spec: {
      ...manifest.spec,
      source: { ...manifest.spec.source, url },
      detectors: { black: { minDuration: 1 } },
      ...onRealNode,
    },
  };
}

/** The chart's values for this cluster: local images (never pulled), the real node, short polls. */
function chartValues(): Record<string, unknown> {
  const [repository, tag] = splitRef(images.operator.ref);
  return {
    watchNamespaces: [namespace],
    // The chart's admission policy judges this namespace only: other test files share the control plane.
    admissionPolicy: {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
      allowedImagePrefixes: [`${splitRef(images.analyzer.ref)[0]}:`],
    },
    operator: {
      image: { repository, tag, pullPolicy: 'Never' },
      replicas: 1,
      pollSeconds: 2,
      logLevel: 'warn',
      ...onRealNode,
    },
    analyzer: {
      image: images.analyzer.ref,
      resources: {
        requests: { cpu: '250m', memory: '256Mi' },
        limits: { memory: `${ANALYZER_MEMORY_LIMIT_MIB}Mi` },
      },
    },
    monitoring: {
      analyzerPodMonitor: { enabled: false },
      operatorMonitor: { enabled: false },
      prometheusRule: { enabled: false },
    },
  };
}

function splitRef(ref: string): [string, string] {
  const colon = ref.lastIndexOf(':');
  return [ref.slice(0, colon), ref.slice(colon + 1)];
}

/**
 * The operator reaches the API server as any in-cluster client does (KUBERNETES_SERVICE_HOST/PORT,
 * its service-account token), here through the real node's forwarder on the bridge: no kube-proxy
 * routes the `kubernetes` Service. The name is one the API server's certificate holds.
 */
function inClusterApiPatch(container: string): string {
  const [host, port] = requiredEnv(realNodeEnv.apiServer).split(':');
  return JSON.stringify({
    spec: {
      template: {
        spec: {
          hostAliases: [{ ip: host, hostnames: ['kubernetes.default.svc'] }],
          containers: [
            {
              name: container,
              env: [
                { name: 'KUBERNETES_SERVICE_HOST', value: 'kubernetes.default.svc' },
                { name: 'KUBERNETES_SERVICE_PORT', value: port },
              ],
            },
          ],
        },
      },
    },
  });
}

/** The processes of a pod's container, found through its cgroup (the kubelet's cgroupfs layout). */
/**
 * SIGKILL one process of a container; one already gone is fine: when the container's init dies first,
 * the kernel kills the rest of its PID namespace before we reach them.
 */
function killIfAlive(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

function containerPids(pod: V1Pod): number[] {
  const id = (pod.status?.containerStatuses?.[0]?.containerID ?? '').replace(/^containerd:\/\//, '');
  const uid = pod.metadata?.uid ?? '';
  for (const qos of ['', 'burstable/', 'besteffort/']) {
    const procs = `/sys/fs/cgroup/pids/kubepods/${qos}pod${uid}/${id}/cgroup.procs`;
    if (existsSync(procs)) return readFileSync(procs, 'utf8').split('\n').filter(Boolean).map(Number);
  }
  throw new Error(`no cgroup for container ${id} of pod ${pod.metadata?.name}`);
}

function cgroupFile(pod: V1Pod, controller: string, file: string): string {
  const id = (pod.status?.containerStatuses?.[0]?.containerID ?? '').replace(/^containerd:\/\//, '');
  const uid = pod.metadata?.uid ?? '';
  for (const qos of ['', 'burstable/', 'besteffort/']) {
    const path = `/sys/fs/cgroup/${controller}/kubepods/${qos}pod${uid}/${id}/${file}`;
    if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  }
  throw new Error(`no ${controller} cgroup for container ${id} of pod ${pod.metadata?.name}`);
}

/** What the kernel says of a process: uids, effective capabilities, seccomp, no_new_privs, root mount. */
interface ProcessFacts {
  uid: string;
  capEff: string;
  seccomp: string;
  noNewPrivs: string;
  rootOptions: string;
}

function processFacts(pid: number): ProcessFacts {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
  const rootMount = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
    .split('\n')
    .find((line) => line.split(' ')[4] === '/');
  return {
    uid: field('Uid').split(/\s+/)[1] ?? '',
    capEff: field('CapEff'),
    seccomp: field('Seccomp'),
    noNewPrivs: field('NoNewPrivs'),
    rootOptions: rootMount?.split(' ')[5] ?? '',
  };
}

/** The restricted profile as the kernel enforces it on every process of the pod's container. */
function assertRestricted(pod: V1Pod, uid: number): void {
  const pids = containerPids(pod);
  assert.ok(pids.length > 0, `pod ${pod.metadata?.name} has processes`);
  for (const pid of pids) {
    const facts = processFacts(pid);
    const where = `pod ${pod.metadata?.name} pid ${pid}: ${JSON.stringify(facts)}`;
    assert.equal(facts.uid, String(uid), where);
    assert.equal(facts.capEff, '0000000000000000', `every capability dropped: ${where}`);
    assert.equal(facts.seccomp, '2', `a seccomp filter (RuntimeDefault): ${where}`);
    assert.equal(facts.noNewPrivs, '1', `allowPrivilegeEscalation: false: ${where}`);
    assert.match(facts.rootOptions, /^ro(,|$)/, `read-only root filesystem: ${where}`);
  }
}

async function diagnostics(): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const pods = await core.listNamespacedPod({ namespace }).catch(() => undefined);
  const lines: string[] = [];
  for (const pod of pods?.items ?? []) {
    const name = pod.metadata?.name ?? '';
    lines.push(
      `--- pod ${name} on ${pod.spec?.nodeName} (${pod.status?.podIP}): ${JSON.stringify(pod.status?.containerStatuses?.map((c) => ({ state: c.state, restarts: c.restartCount })))}`,
    );
    const log = await core.readNamespacedPodLog({ name, namespace, tailLines: 20 }).catch((e: unknown) => String(e));
    lines.push(log);
  }
  const events = await core.listNamespacedEvent({ namespace }).catch(() => undefined);
  lines.push(
    `--- events:\n${(events?.items ?? [])
      .slice(-20)
      .map((e) => `${e.involvedObject.name} ${e.reason}: ${e.message}`)
      .join('\n')}`,
  );
  return `\n${lines.join('\n')}\n--- prometheus:\n${prometheusLog.slice(-2000)}`;
}

before(async () => {
  kc = sharedKubeConfig();
  work = mkdtempSync(join(tmpdir(), 'streamqc-e2e-'));
  namespace = await freshNamespace(kc, 'e2e', namespaces);
  // Built once per change of their inputs (scripts/images.sh), imported once per containerd store.
  const started = Date.now();
  images = await ensureImages();
  const built = Date.now();
  const containerd = requiredEnv(realNodeEnv.containerd);
  const imported: string[] = [];
  for (const image of [images.operator, images.analyzer]) {
    if (await importImageArchive(containerd, image.archive, image.ref)) imported.push(image.ref);
  }
  console.error(
    `e2e: images ready in ${((built - started) / 1000).toFixed(1)} s, ` +
      `imported into the node in ${((Date.now() - built) / 1000).toFixed(1)} s (${imported.join(', ') || 'none: cached'})`,
  );
});

after(async () => {
  await Promise.all(processes.map((p) => terminate(p).catch(() => undefined)));
  sdServer?.closeAllConnections();
  sdServer?.close();
  if (helmInstalled) {
    try {
      tool('helm', ['uninstall', RELEASE, '--namespace', namespace, '--wait', '--timeout', '60s']);
    } catch {
      // The namespace goes next anyway.
    }
  }
  if (namespaces.length > 0) await deleteNamespaces(kc, namespaces);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('full stack', () => {
  it(
    'chart + operator pod + analyzer pods on a real node + Prometheus: status, events, metrics, alerts, restart, clean removal',
    { timeout: 420_000 },
    async (t) => {
      const core = kc.makeApiClient(CoreV1Api);
      const custom = kc.makeApiClient(CustomObjectsApi);
      const check = async <T>(
        what: string,
        fn: () => T | false | undefined | null | Promise<T | false | undefined | null>,
        ms: number,
      ): Promise<T> =>
        eventually(what, fn, ms).catch(async (err: unknown) =>
          assert.fail(`${(err as Error).message}${await diagnostics()}`),
        );

      // 1. The chart, namespaced mode watching the fresh namespace; Prometheus-operator objects off.
      const valuesFile = join(work, 'values.yaml');
      writeFileSync(valuesFile, YAML.stringify(chartValues()));
      const rendered = tool('helm', [
        'template',
        RELEASE,
        chart,
        '--namespace',
        namespace,
        '--include-crds',
        '--values',
        valuesFile,
      ]);
      const manifests = YAML.parseAllDocuments(rendered)
        .map((d) => d.toJS() as { kind: string; metadata: { name: string } } | null)
        .filter((m) => m !== null);
      const deployment = manifests.find((m) => m.kind === 'Deployment');
      assert.ok(deployment, 'the chart renders the operator Deployment');
      // Every object the chart makes passes the API server's validation and admission.
      await kubectl(['apply', '--server-side', '--force-conflicts', '--dry-run=server', '-f', '-'], rendered);
      // upgrade --install: idempotent, so it can be retried while another test file restarts the API server.
      helmInstalled = true;
      await eventually(
        'helm upgrade --install',
        () => tool('helm', ['upgrade', '--install', RELEASE, chart, '--namespace', namespace, '--values', valuesFile]),
        120_000,
      );
      await kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${PLURAL}.${API_GROUP}`]);
      await kubectl([
        '-n',
        namespace,
        'patch',
        `deployment/${deployment.metadata.name}`,
        '--type=strategic',
        '-p',
        inClusterApiPatch('operator'),
      ]);
      const operatorPod = await check(
        'the operator pod (with the in-cluster API patch) Ready on the real node',
        async () =>
          (
            await core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/component=operator' })
          ).items.find(
            (p) =>
              p.metadata?.deletionTimestamp === undefined &&
              p.spec?.hostAliases !== undefined &&
              p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
          ),
        120_000,
      );
      assert.equal(operatorPod.spec?.nodeName, realNode.name);
      assert.equal(operatorPod.status?.containerStatuses?.[0]?.image, images.operator.ref);
      assertRestricted(operatorPod, OPERATOR_UID);

      // 2. Prometheus discovering the analyzer pods through the API server; rules with `for: 1s`.
      const sd = await startPodSd(kc, namespace);
      sdServer = sd.server;
      const promPort = await freeTcpPort();
      const rules = readFileSync(rulesFile, 'utf8').replace(/^(\s*)for:\s*\S+/gm, '$1for: 1s');
      writeFileSync(join(work, 'rules.yaml'), rules);
      writeFileSync(
        join(work, 'prometheus.yml'),
        YAML.stringify({
          global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '900ms' },
          rule_files: [join(work, 'rules.yaml')],
          scrape_configs: [
            {
              job_name: 'streamqc-analyzer',
              // On a cluster: kubernetes_sd_configs: [{ role: pod, namespaces: { names: [NS] } }]. Debian's
              // prometheus lacks the Kubernetes SD, so pod-sd.ts serves the same targets and meta labels.
              http_sd_configs: [{ url: `http://127.0.0.1:${sd.port}/targets`, refresh_interval: '1s' }],
              relabel_configs: [
                { source_labels: ['__meta_kubernetes_pod_label_streamqc_io_monitor'], regex: '.+', action: 'keep' },
                { source_labels: ['__meta_kubernetes_pod_ip'], regex: '(.+)', action: 'keep' },
                { source_labels: ['__meta_kubernetes_pod_ip'], target_label: '__address__', replacement: '$1:9090' },
                { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
                { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
                { target_label: 'streamqc_component', replacement: 'analyzer' },
              ],
            },
          ],
        }),
      );
      const prometheus = spawn(
        'prometheus',
        [
          `--config.file=${join(work, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(work, 'prom-data')}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
          '--log.level=warn',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      processes.push(prometheus);
      prometheus.stderr.on('data', (d: Buffer) => {
        prometheusLog = (prometheusLog + d.toString()).slice(-20_000);
      });

      // 3. Two monitors from the minimal example; each analyzer listens on UDP in its own pod.
      const url = `udp://0.0.0.0:${SOURCE_PORT}?pkt_size=1316`;
      for (const name of ['stream-a', 'stream-b']) {
        await kubectl(['apply', '--server-side', '-f', '-'], YAML.stringify(exampleMonitor(name, url)));
      }
      const analyzerPod = (name: string): Promise<V1Pod> =>
        check(
          `the analyzer pod of ${name} running on the real node`,
          async () =>
            (await core.listNamespacedPod({ namespace, labelSelector: `${LABEL_MONITOR}=${name}` })).items.find(
              (p) =>
                p.metadata?.deletionTimestamp === undefined &&
                p.status?.podIP !== undefined &&
                p.status.containerStatuses?.[0]?.state?.running !== undefined,
            ),
          180_000,
        );
      const podA = await analyzerPod('stream-a');
      const podB = await analyzerPod('stream-b');
      for (const pod of [podA, podB]) {
        assert.equal(pod.spec?.nodeName, realNode.name);
        assert.match(pod.status?.podIP ?? '', /^10\.250\.0\.\d+$/);
        assert.equal(pod.status?.containerStatuses?.[0]?.image, images.analyzer.ref);
        assertRestricted(pod, ANALYZER_UID);
        assert.equal(
          cgroupFile(pod, 'memory', 'memory.limit_in_bytes'),
          String(ANALYZER_MEMORY_LIMIT_MIB * 1024 * 1024),
          'the memory limit from the chart values is the cgroup limit',
        );
      }
      // The sources send to the pods' IPs on the bridge. A's black begins 20 s into its stream:
      // both monitors are Running a few seconds after the start, a wide margin on a loaded machine.
      const sender = (podIP: string, black: boolean): ChildProcess =>
        spawn(
          'ffmpeg',
          syntheticStreamArgs({
            width: 320,
            height: 180,
            fps: 25,
            duration: null,
            realtime: true,
            output: `udp://${podIP}:${SOURCE_PORT}?pkt_size=1316`,
            schedule: black ? [{ type: 'black', start: 20, end: 3600 }] : [],
          }),
          { stdio: 'ignore' },
        );
      processes.push(sender(podA.status?.podIP ?? '', true), sender(podB.status?.podIP ?? '', false));
      const sendersStarted = Date.now();

      const read = async (name: string): Promise<StreamMonitor> =>
        (await custom.getNamespacedCustomObject({
          group: API_GROUP,
          version: API_VERSION,
          namespace,
          plural: PLURAL,
          name,
        })) as StreamMonitor;
      const runningWithFacts = async (name: string): Promise<StreamMonitor> => {
        const m = await check(
          `${name} Running with stream facts`,
          async () => {
            const m = await read(name);
            return m.status?.phase === 'Running' && m.status.stream?.resolution ? m : undefined;
          },
          90_000,
        );
        assert.equal(m.status?.stream?.resolution, '320x180');
        assert.equal(m.status.stream.frameRate, 25);
        assert.equal(m.status.conditions?.find((c) => c.type === 'SourceConnected')?.status, 'True');
        assert.equal(m.status.analyzer?.node, realNode.name);
        return m;
      };

      // 4a. Both reach Running with their stream facts (A before its black starts).
      for (const name of ['stream-a', 'stream-b']) await runningWithFacts(name);
      t.diagnostic(
        `both monitors Running ${((Date.now() - sendersStarted) / 1000).toFixed(1)} s after the sources started`,
      );

      // 4b. The black on A: an Event, the metric, the alert; nothing on B.
      await check(
        'a DefectStarted Event for black on stream-a',
        async () => {
          const events = (await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=stream-a' }))
            .items;
          return events.some((e) => e.reason === 'DefectStarted' && (e.message ?? '').includes('black'));
        },
        60_000,
      );
      const events = await check(
        'the Events of stream-b',
        async () =>
          (await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=stream-b' })).items,
        30_000,
      );
      assert.ok(
        !events.some((e) => e.reason === 'DefectStarted' && (e.message ?? '').includes('black')),
        `no black on stream-b: ${events.map((e) => `${e.reason}: ${e.message}`).join('; ')}`,
      );

      const blackA = await check(
        'streamqc_defect_active{stream-a, black} == 1 in Prometheus',
        async () => {
          const r = await promQuery(promPort, 'streamqc_defect_active{stream="stream-a",type="black"} == 1');
          return r.length > 0 ? r : undefined;
        },
        60_000,
      );
      assert.equal(blackA[0]!.metric.namespace, namespace);
      assert.equal(blackA[0]!.metric.streamqc_component, 'analyzer');
      assert.equal(blackA[0]!.metric.pod, podA.metadata?.name);
      assert.equal(blackA[0]!.metric.instance, `${podA.status?.podIP}:9090`, 'scraped by pod IP on the bridge');
      await check(
        'stream-b scraped',
        async () => (await promQuery(promPort, 'streamqc_up{stream="stream-b"} == 1')).length > 0,
        30_000,
      );
      assert.deepEqual(
        await promQuery(promPort, 'streamqc_defect_active{stream="stream-b",type="black"} == 1'),
        [],
        'no black on stream-b',
      );

      await check(
        'StreamBlack firing for stream-a',
        async () =>
          (await promAlerts(promPort)).some(
            (a) => a.labels.alertname === 'StreamBlack' && a.labels.stream === 'stream-a' && a.state === 'firing',
          ),
        60_000,
      );
      const alerts = await promAlerts(promPort);
      assert.ok(
        !alerts.some((a) => a.labels.alertname === 'StreamBlack' && a.labels.stream === 'stream-b'),
        `no StreamBlack for stream-b: ${JSON.stringify(alerts)}`,
      );
      await check(
        'stream-a Degraded with black active in status',
        async () => {
          const m = await read('stream-a');
          return m.status?.phase === 'Degraded' && m.status.defects?.active?.includes('black');
        },
        30_000,
      );

      // 4c. B's analyzer container killed outright (as a crash or the OOM killer would): the kubelet
      // restarts it in the same pod, the source reconnects, and the status follows.
      for (const pid of containerPids(podB)) killIfAlive(pid);
      const killed = Date.now();
      await check(
        'the kubelet restarting the analyzer container of stream-b',
        async () => {
          const pod = await core.readNamespacedPod({ name: podB.metadata?.name ?? '', namespace });
          const c = pod.status?.containerStatuses?.[0];
          return (c?.restartCount ?? 0) >= 1 && c?.state?.running !== undefined ? pod : undefined;
        },
        90_000,
      );
      const restartedB = await check(
        'stream-b status showing the restart',
        async () => {
          const m = await read('stream-b');
          return (m.status?.analyzer?.restarts ?? 0) >= 1 ? m : undefined;
        },
        60_000,
      );
      assert.equal(restartedB.status?.analyzer?.podIP, podB.status?.podIP, 'the same pod, restarted in place');
      await runningWithFacts('stream-b');
      await check(
        'stream-b scraped again after the restart',
        async () => (await promQuery(promPort, 'streamqc_up{stream="stream-b"} == 1')).length > 0,
        60_000,
      );
      t.diagnostic(
        `stream-b Running again ${((Date.now() - killed) / 1000).toFixed(1)} s after its container was killed`,
      );

      // 4d. Deleting A: the GC removes its pod (the kubelet stops its container), its series go stale.
      await check(
        'stream-a deleted',
        async () => {
          await custom
            .deleteNamespacedCustomObject({
              group: API_GROUP,
              version: API_VERSION,
              namespace,
              plural: PLURAL,
              name: 'stream-a',
            })
            .catch((err: unknown) => {
              if ((err as { code?: number }).code !== 404) throw err;
            });
          return true;
        },
        30_000,
      );
      await check(
        'stream-a pod removed',
        async () =>
          (await core.listNamespacedPod({ namespace, labelSelector: `${LABEL_MONITOR}=stream-a` })).items.length === 0,
        90_000,
      );
      const removed = Date.now();
      await check(
        'stream-a series stale',
        async () => (await promQuery(promPort, 'streamqc_up{stream="stream-a"}')).length === 0,
        30_000,
      );
      t.diagnostic(`stream-a series stale ${((Date.now() - removed) / 1000).toFixed(1)} s after its pod was removed`);
      assert.ok((await promQuery(promPort, 'streamqc_up{stream="stream-b"}')).length > 0, 'stream-b is still scraped');
    },
  );
});

/** SIGTERM, then SIGKILL after 5 s; resolves when the process has exited. */
async function terminate(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
