// The operator as a process: flags, /readyz /metrics, reconciling, its requests named in
// kube-apiserver's audit log and none written in a steady state, and a clean exit on SIGTERM.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { auditedWrites } from '../cluster/audit.js';
import { sharedAuditLogPath, sharedKubeConfig, sharedKubeconfigPath } from '../cluster/shared.js';
import { OPERATOR_USER_AGENT } from '../../operator/user-agent.js';
import { API_GROUP, API_VERSION, PLURAL, type StreamMonitor } from '../../operator/api.js';
import {
  createMonitor,
  deleteNamespaces,
  eventually,
  freshNamespace,
  installCrd,
  monitorManifest,
} from './operator-helpers.js';
import { freeTcpPort } from '../net.js';

const mainJs = fileURLToPath(new URL('../../operator/main.js', import.meta.url));
let kc: KubeConfig;
let namespace: string;
const namespaces: string[] = [];
let child: ChildProcess | undefined;
let stderr = '';

before(async () => {
  kc = sharedKubeConfig();
  await installCrd(kc);
  namespace = await freshNamespace(kc, 'sm-proc', namespaces);
});

after(async () => {
  child?.kill('SIGKILL');
  await deleteNamespaces(kc, namespaces);
});

describe('operator process', () => {
  it('serves /readyz and /metrics, reconciles its namespace, writes nothing in a steady state, and exits 0 on SIGTERM', async () => {
    const port = await freeTcpPort();
    child = spawn(
      process.execPath,
      [
        mainJs,
        '--kubeconfig',
        sharedKubeconfigPath(),
        '--http-port',
        String(port),
        '--poll-seconds',
        '1',
        '--resync-seconds',
        '1',
      ],
      {
        env: { ...process.env, STREAMQC_WATCH_NAMESPACES: namespace, STREAMQC_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const base = `http://127.0.0.1:${port}`;
    await eventually('/readyz to answer 200', async () => (await fetch(`${base}/readyz`)).status === 200);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    // The same probe server as the analyzer's: read-only, GET and HEAD only.
    const post = await fetch(`${base}/healthz`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assert.equal((await fetch(`${base}/metrics`, { method: 'HEAD' })).status, 200);

    await createMonitor(
      kc,
      namespace,
      monitorManifest('proc', { source: { url: 'https://example.invalid/live.m3u8' } }),
    );
    const custom = kc.makeApiClient(CustomObjectsApi);
    await eventually(
      'proc to be Running',
      async () =>
        (
          (await custom.getNamespacedCustomObject({
            group: API_GROUP,
            version: API_VERSION,
            namespace,
            plural: PLURAL,
            name: 'proc',
          })) as StreamMonitor
        ).status?.phase === 'Running',
    );
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /streamqc_operator_reconciles_total\{result="success"\} [1-9]/);
    assert.match(metrics, /streamqc_operator_status_writes_total [1-9]/);
    assert.match(metrics, /streamqc_operator_queue_depth \d/);
    assert.match(metrics, /^process_resident_memory_bytes \d+/m, 'the process figures are served too');
    assert.match(metrics, /^nodejs_heap_size_used_bytes \d+/m);

    // kube-apiserver's own record: every write the operator sent names it, on both of its
    // request paths (the client's API calls and the framework's status requests).
    const mine = (since?: Date) =>
      auditedWrites(sharedAuditLogPath(), { userAgentPrefix: OPERATOR_USER_AGENT, since }).filter(
        (w) => w.namespace === namespace,
      );
    const written = new Set(mine().map((w) => `${w.verb} ${w.resource}${w.subresource ? `/${w.subresource}` : ''}`));
    for (const kind of ['create pods', 'create configmaps', 'create events', 'update streammonitors/status']) {
      assert.ok(written.has(kind), `audit log has the operator's "${kind}" (it has: ${[...written].join(', ')})`);
    }
    // Steady state: the monitor is reconciled every second (--resync-seconds 1), its analyzer
    // polled every second (--poll-seconds 1), and nothing changes.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const since = new Date();
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const reconciled = Number(
      /streamqc_operator_reconciles_total\{result="success"\} (\d+)/.exec(
        await (await fetch(`${base}/metrics`)).text(),
      )?.[1],
    );
    const steady = mine(since);
    assert.deepEqual(
      steady.map((w) => `${w.verb} ${w.resource} ${w.name}`),
      [],
      'no writes in a steady state',
    );
    const reconciledBefore = Number(/streamqc_operator_reconciles_total\{result="success"\} (\d+)/.exec(metrics)?.[1]);
    assert.ok(reconciled >= reconciledBefore + 3, `the window saw reconciles (${reconciledBefore} -> ${reconciled})`);

    const started = Date.now();
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const code = await exited;
    assert.equal(code, 0, stderr);
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms to stop`);
  });

  it('refuses a bad flag with exit code 2 and names it', async () => {
    const bad = spawn(process.execPath, [mainJs, '--concurrency', 'many'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let text = '';
    bad.stderr.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => bad.on('exit', resolve));
    assert.equal(code, 2);
    const line = JSON.parse(text.trim()) as { msg: string; exitCode: number };
    assert.equal(line.exitCode, 2);
    assert.match(line.msg, /--concurrency: "many"/);
  });
});
