// Status from a real analyzer: the operator polls /status of an analyzer process that serves
// on its pod's loopback IP (as the pod would on the pod network), and the monitor's status and
// Events carry the stream facts and the defects it reports.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import YAML from 'yaml';
import { sharedKubeConfig } from '../cluster/shared.js';
import { startCli } from '../analyzer/run-cli.js';
import { freeUdpPort } from '../../analyzer/demo.js';
import { syntheticStreamArgs } from '../../analyzer/synthetic-source.js';
import { type StreamMonitor } from '../../operator/api.js';
import { CONFIG_FILE, LABEL_MONITOR } from '../../operator/analyzer-pod.js';
import { analyzerStatusReader } from '../../operator/analyzer-status.js';
import { HlsOrigin } from '../delivery/hls-origin.js';
import { ladderMedia } from '../delivery/watch.js';
import { kubectl } from './chart-tools.js';
import { StreamMonitorController } from '../../operator/controller.js';
import {
  createMonitor,
  deleteNamespaces,
  eventually,
  freshNamespace,
  installCrd,
  monitorManifest,
  readMonitor,
} from './operator-helpers.js';

let kc: KubeConfig;
let namespace: string;
let controller: StreamMonitorController;
const namespaces: string[] = [];
const processes: ChildProcess[] = [];
const quiet = {
  debug: (): void => undefined,
  info: (): void => undefined,
  warn: (m: string): void => console.error(`operator: ${m}`),
  error: (m: string): void => console.error(`operator: ${m}`),
};

before(async () => {
  kc = sharedKubeConfig();
  await installCrd(kc);
  namespace = await freshNamespace(kc, 'sm-live', namespaces);
  controller = new StreamMonitorController({
    kubeConfig: kc,
    logger: quiet,
    namespaces: [namespace],
    concurrency: 4,
    resyncMs: 30_000,
    pollIntervalMs: 300,
    fetchAnalyzerStatus: analyzerStatusReader(1_000),
  });
  await controller.start();
});

after(async () => {
  for (const p of processes) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await (controller as StreamMonitorController | undefined)?.shutdown(); // unset when before() failed
  await deleteNamespaces(kc, namespaces);
});

/**
 * Runs monitor `name`'s analyzer as its pod would: the very config the operator rendered,
 * bound to the pod's (loopback) IP, with `extra` config on top.
 */
async function startAnalyzerOf(name: string, url: string, extra: Record<string, unknown> = {}): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const pod = await eventually('a Running analyzer pod with an IP', async () =>
    (await core.listNamespacedPod({ namespace, labelSelector: `${LABEL_MONITOR}=${name}` })).items.find(
      (p: V1Pod) => p.status?.phase === 'Running' && p.status.podIP,
    ),
  );
  const rendered = YAML.parse(
    (await core.readNamespacedConfigMap({ name: `${name}-analyzer-config`, namespace })).data?.[CONFIG_FILE] ?? '',
  ) as Record<string, unknown>;
  const dir = mkdtempSync(join(tmpdir(), 'streamqc-operator-'));
  const configPath = join(dir, CONFIG_FILE);
  writeFileSync(configPath, YAML.stringify({ ...rendered, listenAddress: pod.status!.podIP, ...extra }));
  const analyzer = startCli(['analyze', url, '--config', configPath, '--format', 'jsonl']);
  processes.push(analyzer.child);
}

describe('StreamMonitor status from the analyzer', () => {
  it(
    'carries the stream facts and an active black defect reported by a real analyzer',
    { timeout: 120_000 },
    async () => {
      const udp = await freeUdpPort();
      const url = `udp://127.0.0.1:${udp}?pkt_size=1316`;
      await createMonitor(
        kc,
        namespace,
        monitorManifest('live', { source: { url }, detectors: { black: { minDuration: 1 } } }),
      );
      const read = (): Promise<StreamMonitor> => readMonitor(kc, namespace, 'live');
      const before = await eventually('phase Running', async () => {
        const m = await read();
        return m.status?.phase === 'Running' ? m : undefined;
      });
      assert.equal(before.status?.conditions?.find((c) => c.type === 'SourceConnected')?.status, 'Unknown');
      processes.push(
        spawn(
          'ffmpeg',
          syntheticStreamArgs({
            width: 320,
            height: 180,
            fps: 25,
            duration: null,
            realtime: true,
            schedule: [{ type: 'black', start: 5, end: 600 }],
            scheduleOffset: 0,
            output: url,
          }),
          { stdio: 'ignore' },
        ),
      );
      await startAnalyzerOf('live', url);

      const connected = await eventually(
        'SourceConnected True with the stream facts',
        async () => {
          const m = await read();
          return m.status?.conditions?.find((c) => c.type === 'SourceConnected')?.status === 'True' &&
            m.status.stream?.resolution
            ? m
            : undefined;
        },
        60_000,
      );
      assert.equal(connected.status?.stream?.resolution, '320x180');
      assert.equal(connected.status.stream.frameRate, 25);

      const degraded = await eventually(
        'the black defect in status',
        async () => {
          const m = await read();
          return m.status?.phase === 'Degraded' && m.status.defects?.active?.includes('black') ? m : undefined;
        },
        60_000,
      );
      assert.equal(degraded.status?.conditions?.find((c) => c.type === 'DefectFree')?.status, 'False');
      const core = kc.makeApiClient(CoreV1Api);
      const reasons = (
        await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=live' })
      ).items.map((e) => `${e.reason}: ${e.message}`);
      assert.ok(reasons.includes('DefectStarted: black defect started'), reasons.join('\n'));
    },
  );

  it(
    'carries the HLS ladder: renditions alive of declared (the Renditions column), a stale one with its last error',
    { timeout: 180_000 },
    async () => {
      const { media, remove } = await ladderMedia();
      const origin = new HlsOrigin(media);
      const url = await origin.listen();
      try {
        await createMonitor(kc, namespace, monitorManifest('ladder', { source: { url } }));
        // The StreamMonitor has no delivery field yet: the analyzer's own config turns the client on.
        await startAnalyzerOf('ladder', url, { delivery: { enabled: true, multivariantReload: 1 } });
        const read = (): Promise<StreamMonitor> => readMonitor(kc, namespace, 'ladder');
        const followed = await eventually(
          'the whole ladder alive in status',
          async () => {
            const m = await read();
            return m.status?.delivery?.summary === '3/3' ? m : undefined;
          },
          120_000,
        );
        assert.equal(followed.status?.delivery?.rendition, '180p');
        assert.deepEqual(
          followed.status.delivery.renditions?.map((r) => [r.name, r.resolution, r.alive, r.bandwidth !== undefined]),
          [
            ['180p', '320x180', true, true],
            ['144p', '256x144', true, true],
            ['96p', '160x96', true, true],
          ],
        );
        const table = kubectl(['get', 'streammonitors', 'ladder', '-n', namespace]);
        assert.equal(table.code, 0, table.out);
        assert.match(table.out, /RENDITIONS/);
        assert.match(table.out, /\s3\/3\s/);

        origin.inject('r1', { frozenAt: origin.liveMsn() });
        const stale = await eventually(
          '144p stale in status',
          async () => {
            const m = await read();
            return m.status?.delivery?.summary === '2/3' ? m : undefined;
          },
          60_000,
        );
        const r144 = stale.status?.delivery?.renditions?.find((r) => r.name === '144p');
        assert.deepEqual(
          [r144?.alive, r144?.lastError?.type, r144?.lastError?.active],
          [false, 'playlist_stale', true],
        );
        assert.match(r144?.lastError?.since ?? '', /^\d{4}-\d\d-\d\dT/);
        assert.match(kubectl(['get', 'streammonitors', 'ladder', '-n', namespace]).out, /\s2\/3\s/);
      } finally {
        await origin.close();
        remove();
      }
    },
  );
});
