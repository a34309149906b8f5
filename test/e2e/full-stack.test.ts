// The whole stack on the test control plane: the chart rendered by `helm template` and applied
// (server-side dry-run, then for real), the operator as a local process, analyzer pods run by a
// test-only runner on their loopback pod IPs, two live MPEG-TS sources over UDP (one turns black),
// and a real Prometheus discovering the analyzer pods from the API server (pod-sd.ts) with
// the chart's alert rules (short `for`). Asserts status, Events, metrics, alerts, and that a
// deleted monitor's pod, analyzer and series go away.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import YAML from 'yaml';
import { clusterTool, sharedKubeConfig, sharedKubeconfigPath } from '../cluster/shared.js';
import { deleteNamespaces, eventually, freshNamespace } from '../integration/operator-helpers.js';
import { freeUdpPort } from '../../analyzer/demo.js';
import { syntheticStreamArgs } from '../../analyzer/synthetic-source.js';
import { API_GROUP, API_VERSION, PLURAL, type StreamMonitor } from '../../operator/api.js';
import { LABEL_MONITOR } from '../../operator/analyzer-pod.js';
import { PodRunner, terminate } from './pod-runner.js';
import { startPodSd } from './pod-sd.js';
import { freeTcpPort } from '../net.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const chart = join(root, 'helm', 'streamqc');
const rulesFile = join(chart, 'files', 'streamqc-alerts.rules.yaml');
const examplesDir = join(root, 'examples');
const operatorJs = fileURLToPath(new URL('../../operator/main.js', import.meta.url));
const RELEASE = 'sq';

let kc: KubeConfig;
let namespace: string;
let work: string;
const namespaces: string[] = [];
const processes: ChildProcess[] = [];
let runner: PodRunner | undefined;
let sdServer: Server | undefined;
let operatorLog = '';
let prometheusLog = '';
const runnerLog: string[] = [];

/**
 * Runs an idempotent kubectl command, retried for up to 60 s: another test file sharing the
 * control plane may be restarting the API server (operator-apiserver-restart.test).
 */
async function kubectl(args: string[], input?: string): Promise<string> {
  return eventually(
    `kubectl ${args.join(' ')}`,
    () => {
      const r = spawnSync(clusterTool('kubectl'), ['--kubeconfig', sharedKubeconfigPath(), ...args], {
        encoding: 'utf8',
        input,
        timeout: 60_000,
      });
      if (r.error) throw r.error;
      if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stdout}${r.stderr}`.replace(/\n/g, ' '));
      return r.stdout;
    },
    60_000,
  );
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

/** A StreamMonitor built from examples/minimal.yaml: its name and URL replaced, black reported after 1 s. */
function exampleMonitor(name: string, url: string): Record<string, unknown> {
  const manifest = YAML.parse(readFileSync(join(examplesDir, 'minimal.yaml'), 'utf8')) as {
    metadata: Record<string, unknown>;
    spec: { source: { url: string }; [k: string]: unknown };
  };
  return {
    ...manifest,
    metadata: { ...manifest.metadata, name, namespace },
    spec: { ...manifest.spec, source: { ...manifest.spec.source, url }, detectors: { black: { minDuration: 1 } } },
  };
}

function diagnostics(): string {
  const analyzers =
    runner
      ?.analyzers()
      .map((a) => `--- analyzer ${a.pod} (${a.podIP}):\n${a.stderr()}`)
      .join('\n') ?? '';
  return `\n--- runner:\n${runnerLog.slice(-20).join('\n')}\n${runner?.errors.slice(-5).join('\n') ?? ''}\n--- operator:\n${operatorLog.slice(-3000)}\n--- prometheus:\n${prometheusLog.slice(-2000)}\n${analyzers}`;
}

before(async () => {
  kc = sharedKubeConfig();
  work = mkdtempSync(join(tmpdir(), 'streamqc-e2e-'));
  namespace = await freshNamespace(kc, 'e2e', namespaces);
});

after(async () => {
  await runner?.stop().catch(() => undefined);
  await Promise.all(processes.map((p) => terminate(p).catch(() => undefined)));
  sdServer?.closeAllConnections();
  sdServer?.close();
  if (namespaces.length > 0) await deleteNamespaces(kc, namespaces);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('full stack', () => {
  it(
    'chart + operator + analyzers + Prometheus: status, events, metrics, alerts, and clean removal',
    { timeout: 240_000 },
    async (t) => {
      const core = kc.makeApiClient(CoreV1Api);
      const custom = kc.makeApiClient(CustomObjectsApi);

      // 1. The chart, namespaced mode watching the fresh namespace; Prometheus-operator objects off.
      const rendered = spawnSync(
        clusterTool('helm'),
        [
          'template',
          RELEASE,
          chart,
          '--namespace',
          namespace,
          '--include-crds',
          '--set',
          `watchNamespaces={${namespace}}`,
          // The chart's admission policy judges this namespace only: other test files share the control plane.
          '--set',
          `admissionPolicy.namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=${namespace}`,
          '--set',
          'monitoring.analyzerPodMonitor.enabled=false',
          '--set',
          'monitoring.operatorMonitor.enabled=false',
          '--set',
          'monitoring.prometheusRule.enabled=false',
        ],
        { encoding: 'utf8' },
      );
      assert.equal(rendered.status, 0, rendered.stderr);
      const manifests = YAML.parseAllDocuments(rendered.stdout)
        .map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec?: unknown } | null)
        .filter((m) => m !== null);
      const deployment = manifests.find((m) => m.kind === 'Deployment');
      assert.ok(deployment, 'the chart renders the operator Deployment');
      // Other test files may have installed the CRD already (with another field manager).
      await kubectl(['apply', '--server-side', '--force-conflicts', '--dry-run=server', '-f', '-'], rendered.stdout);
      await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], rendered.stdout);
      await kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${PLURAL}.${API_GROUP}`]);
      // No images run here: the operator runs as a local process instead of the Deployment's pods.
      await kubectl(['-n', namespace, 'scale', `deployment/${deployment.metadata.name}`, '--replicas=0']);

      const container = (
        deployment.spec as { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } }
      ).template.spec.containers[0]!;
      const chartEnv = Object.fromEntries(
        (container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]),
      );
      const operator = spawn(
        process.execPath,
        [
          operatorJs,
          '--kubeconfig',
          sharedKubeconfigPath(),
          '--namespaces',
          namespace,
          '--poll-seconds',
          '2',
          '--http-port',
          String(await freeTcpPort()),
        ],
        { env: { ...process.env, ...chartEnv, STREAMQC_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      processes.push(operator);
      operator.stderr.on('data', (d: Buffer) => {
        operatorLog = (operatorLog + d.toString()).slice(-20_000);
      });

      // 2. The pod runner.
      runner = new PodRunner(kc, namespace, (line) => runnerLog.push(`${new Date().toISOString()} ${line}`));
      runner.start();

      // 4. Prometheus discovering the analyzer pods through the API server; rules with `for: 1s`.
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

      // 3. Two monitors from the minimal example, pointing at two live UDP sources.
      const [portA, portB] = [await freeUdpPort(), await freeUdpPort()];
      const urlA = `udp://127.0.0.1:${portA}?pkt_size=1316`;
      const urlB = `udp://127.0.0.1:${portB}?pkt_size=1316`;
      for (const [name, url] of [
        ['stream-a', urlA],
        ['stream-b', urlB],
      ] as const) {
        await kubectl(['apply', '--server-side', '-f', '-'], YAML.stringify(exampleMonitor(name, url)));
      }
      await eventually(
        'an analyzer process for each monitor',
        () => {
          const monitors = new Set(runner!.analyzers().map((a) => a.monitor));
          return monitors.has('stream-a') && monitors.has('stream-b');
        },
        60_000,
      ).catch((err: unknown) => assert.fail(`${(err as Error).message}${diagnostics()}`));
      // The sources start once both analyzers listen. A's black begins 20 s into its stream: both
      // monitors are Running about 6 s after the start, which leaves a wide margin on a loaded machine.
      const sender = (url: string, black: boolean): ChildProcess =>
        spawn(
          'ffmpeg',
          syntheticStreamArgs({
            width: 320,
            height: 180,
            fps: 25,
            duration: null,
            realtime: true,
            output: url,
            schedule: black ? [{ type: 'black', start: 20, end: 3600 }] : [],
          }),
          { stdio: 'ignore' },
        );
      processes.push(sender(urlA, true), sender(urlB, false));
      const sendersStarted = Date.now();

      const read = async (name: string): Promise<StreamMonitor> =>
        (await custom.getNamespacedCustomObject({
          group: API_GROUP,
          version: API_VERSION,
          namespace,
          plural: PLURAL,
          name,
        })) as StreamMonitor;
      const check = async <T>(
        what: string,
        fn: () => T | false | undefined | null | Promise<T | false | undefined | null>,
        ms: number,
      ): Promise<T> =>
        eventually(what, fn, ms).catch((err: unknown) => assert.fail(`${(err as Error).message}${diagnostics()}`));

      // 5a. Both reach Running with their stream facts (A before its black starts).
      for (const name of ['stream-a', 'stream-b']) {
        const m = await check(
          `${name} Running with stream facts`,
          async () => {
            const m = await read(name);
            return m.status?.phase === 'Running' && m.status.stream?.resolution ? m : undefined;
          },
          60_000,
        );
        assert.equal(m.status?.stream?.resolution, '320x180');
        assert.equal(m.status.stream.frameRate, 25);
        assert.equal(m.status.conditions?.find((c) => c.type === 'SourceConnected')?.status, 'True');
      }
      t.diagnostic(
        `both monitors Running ${((Date.now() - sendersStarted) / 1000).toFixed(1)} s after the sources started`,
      );

      // 5b. The black on A: an Event, the metric, the alert; nothing on B.
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
      assert.match(blackA[0]!.metric.pod ?? '', /^stream-a-/);
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

      // 5c. Deleting A: the GC removes its pod, the runner stops its analyzer, its series go stale.
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
        60_000,
      );
      await check(
        'stream-a analyzer stopped',
        () => !runner!.analyzers().some((a) => a.monitor === 'stream-a'),
        30_000,
      );
      const removed = Date.now();
      await check(
        'stream-a series stale',
        async () => (await promQuery(promPort, 'streamqc_up{stream="stream-a"}')).length === 0,
        30_000,
      );
      t.diagnostic(`stream-a series stale ${((Date.now() - removed) / 1000).toFixed(1)} s after its analyzer stopped`);
      assert.ok((await promQuery(promPort, 'streamqc_up{stream="stream-b"}')).length > 0, 'stream-b is still scraped');
    },
  );
});
