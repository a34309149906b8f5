// An analyzer's /status is untrusted (it parses untrusted media): a fake analyzer serves, on its
// pod's loopback IP, answers that are malformed, huge, slow and lying, and the operator stays up
// (a second, healthy monitor keeps getting its correct status), says why in the liar's
// conditions, counts it in its metrics, keeps unknown defect types out of status, and
// rate-limits the liar's Events.
import { strict as assert } from 'node:assert';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { sharedKubeConfig } from '../cluster/shared.js';
import { Analyzer } from '../../analyzer/pipeline.js';
import { resolveConfig } from '../../analyzer/config.js';
import { DEFECT_TYPES } from '../../analyzer/detectors/types.js';
import { STATUS_LIMITS, type AnalyzerStatus, type ReportedEvent } from '../../analyzer/contract/status.js';
import { API_GROUP, API_VERSION, PLURAL, type Condition, type StreamMonitor } from '../../operator/api.js';
import { ANALYZER_PORT, LABEL_MONITOR } from '../../operator/analyzer-pod.js';
import { analyzerStatusReader } from '../../operator/analyzer-status.js';
import { EVENT_RATE_LIMIT } from '../../operator/event-rate-limit.js';
import {
  controllerInFreshNamespace,
  type ControllerUnderTest,
  createMonitor,
  deleteNamespaces,
  eventually,
  monitorManifest,
} from './operator-helpers.js';

/** The reader's deadline for one whole answer; a slow answer is slower than this. */
const STATUS_TIMEOUT_MS = 1_000;
const POLL_MS = 300;

let t: ControllerUnderTest;
const namespaces: string[] = [];
const servers: Server[] = [];
const quiet = {
  debug: (): void => undefined,
  info: (): void => undefined,
  warn: (): void => undefined,
  error: (m: string): void => console.error(`operator: ${m}`),
};

/** A fake analyzer: answers /status on the pod's IP with whatever `answer` does now. */
interface FakeAnalyzer {
  answer: (res: ServerResponse) => void;
}

const json =
  (body: unknown) =>
  (res: ServerResponse): void => {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(typeof body === 'string' ? body : JSON.stringify(body));
  };

async function serveAt(ip: string): Promise<FakeAnalyzer> {
  const fake: FakeAnalyzer = { answer: json({}) };
  const server = createServer((_req, res) => fake.answer(res));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(ANALYZER_PORT, ip, () => resolve()));
  servers.push(server);
  return fake;
}

/** A status as a real analyzer writes it, streaming 1280x720 with the given defects active. */
function validStatus(active: string[], extra: Partial<AnalyzerStatus> = {}): AnalyzerStatus {
  const base = new Analyzer(resolveConfig({ stream: 's' }), 'udp://127.0.0.1:5000', {
    log: pino({ level: 'silent' }),
  }).status();
  const at = (type: string): ReportedEvent =>
    ({ type, start: 1, end: null, wallclock: '2026-11-30T00:00:00.000Z' }) as unknown as ReportedEvent;
  return {
    ...base,
    phase: 'running',
    mediaFlowing: true,
    format: { ...base.format, videoCodec: 'h264', width: 1280, height: 720, frameRate: 25 },
    activeDefects: active.map(at),
    counters: { ...base.counters, defects: Object.fromEntries(active.map((t) => [t, 1])) },
    ...extra,
  };
}

before(async () => {
  t = await controllerInFreshNamespace(sharedKubeConfig(), 'sm-liar', namespaces, {
    logger: quiet,
    concurrency: 4,
    resyncMs: 30_000,
    pollIntervalMs: POLL_MS,
    fetchAnalyzerStatus: analyzerStatusReader(STATUS_TIMEOUT_MS),
  });
});

after(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
  const started = t as ControllerUnderTest | undefined; // unset when before() failed
  await started?.controller.shutdown();
  if (started) await deleteNamespaces(started.kc, namespaces);
});

async function readMonitor(name: string): Promise<StreamMonitor> {
  return (await t.custom.getNamespacedCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    namespace: t.namespace,
    plural: PLURAL,
    name,
  })) as StreamMonitor;
}

function condition(monitor: StreamMonitor, type: string): Condition | undefined {
  return monitor.status?.conditions?.find((c) => c.type === type);
}

async function eventsOf(name: string): Promise<CoreV1Event[]> {
  return (await t.core.listNamespacedEvent({ namespace: t.namespace, fieldSelector: `involvedObject.name=${name}` }))
    .items;
}

/** The operator's counter value for these labels (0 when never counted). */
async function counter(name: string, labels: Record<string, string> = {}): Promise<number> {
  const values = (await t.controller.metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((n, v) => n + v.value, 0);
}

async function runningPodIP(name: string): Promise<string> {
  return eventually(
    `a Running pod with an IP for ${name}`,
    async () =>
      (
        await t.core.listNamespacedPod({ namespace: t.namespace, labelSelector: `${LABEL_MONITOR}=${name}` })
      ).items.find((p: V1Pod) => p.status?.phase === 'Running' && p.status.podIP)?.status?.podIP,
  );
}

let liar: FakeAnalyzer;
let healthy: FakeAnalyzer;
let liarCreatedAt = 0;
let healthyToggles = 0;

/** The healthy monitor follows a change of its analyzer: the controller still reconciles. */
async function healthyStillFollows(): Promise<void> {
  const active = healthyToggles++ % 2 === 0 ? ['black'] : [];
  healthy.answer = json(validStatus(active));
  await eventually(
    `the healthy monitor to report active ${JSON.stringify(active)}`,
    async () => {
      const m = await readMonitor('healthy');
      return (
        JSON.stringify(m.status?.defects?.active ?? []) === JSON.stringify(active) &&
        condition(m, 'DefectFree')?.status === (active.length ? 'False' : 'True')
      );
    },
    20_000,
  );
}

describe('an operator facing an untrusted analyzer', () => {
  it(
    'starts with a liar and a healthy monitor, both with a fake analyzer on their pod IP',
    { timeout: 120_000 },
    async () => {
      liarCreatedAt = Date.now();
      await createMonitor(t.kc, t.namespace, monitorManifest('liar', { source: { url: 'udp://127.0.0.1:5000' } }));
      await createMonitor(t.kc, t.namespace, monitorManifest('healthy', { source: { url: 'udp://127.0.0.1:5001' } }));
      liar = await serveAt(await runningPodIP('liar'));
      healthy = await serveAt(await runningPodIP('healthy'));
      liar.answer = json(validStatus([]));
      await healthyStillFollows();
      await eventually(
        'the liar to be Running and DefectFree',
        async () => condition(await readMonitor('liar'), 'DefectFree')?.status === 'True',
      );
    },
  );

  const valid = (): AnalyzerStatus => validStatus([]);
  const wrongAnswers: {
    what: string;
    answer: () => (res: ServerResponse) => void;
    metric: string;
    reason: string;
    message: RegExp;
  }[] = [
    {
      what: 'malformed JSON',
      answer: () => json('{"mediaFlowing": tru'),
      metric: 'malformed_json',
      reason: 'AnalyzerStatusInvalid',
      message: /not JSON/,
    },
    {
      what: 'missing recentEvents and counters',
      answer: () => json('{"mediaFlowing":true,"activeDefects":[],"format":{}}'),
      metric: 'schema',
      reason: 'AnalyzerStatusInvalid',
      message: /must have required property/,
    },
    {
      what: 'wrong types',
      answer: () => json({ ...valid(), mediaFlowing: 'yes' }),
      metric: 'schema',
      reason: 'AnalyzerStatusInvalid',
      message: /\/mediaFlowing must be boolean/,
    },
    {
      what: 'a body over the 1 MiB cap',
      answer: () => json({ ...valid(), pad: 'x'.repeat(2 << 20) }),
      metric: 'too_large',
      reason: 'AnalyzerStatusInvalid',
      message: /larger than 1048576 bytes/,
    },
    {
      what: 'a slow-drip body (one byte per 100 ms)',
      metric: 'timeout',
      reason: 'AnalyzerStatusUnavailable',
      message: /did not answer: no complete answer within 1000 ms/,
      answer: () => (res) => {
        const body = JSON.stringify(valid());
        res.writeHead(200, { 'content-type': 'application/json' });
        let i = 0;
        const drip = setInterval(
          () => (i < body.length && !res.destroyed ? res.write(body[i++]) : (clearInterval(drip), res.end())),
          100,
        );
        res.on('close', () => clearInterval(drip));
      },
    },
    {
      what: 'headers and then nothing, ever',
      answer: () => (res) => res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders(),
      metric: 'timeout',
      reason: 'AnalyzerStatusUnavailable',
      message: /within 1000 ms/,
    },
    {
      what: '10,000 active defects',
      answer: () => json(validStatus(Array.from({ length: 10_000 }, () => 'black'))),
      metric: 'schema',
      reason: 'AnalyzerStatusInvalid',
      message: new RegExp(`/activeDefects must NOT have more than ${STATUS_LIMITS.maxActiveDefects} items`),
    },
    {
      what: 'a negative count',
      answer: () => json({ ...valid(), counters: { ...valid().counters, defects: { black: -5 } } }),
      metric: 'schema',
      reason: 'AnalyzerStatusInvalid',
      message: /\/counters\/defects\/black must be >= 0/,
    },
    {
      what: 'a NaN count',
      answer: () => json(JSON.stringify(valid()).replace('"defects":{}', '"defects":{"black":NaN}')),
      metric: 'malformed_json',
      reason: 'AnalyzerStatusInvalid',
      message: /not JSON/,
    },
    {
      what: 'a 1e308 count',
      answer: () => json(JSON.stringify(valid()).replace('"defects":{}', '"defects":{"black":1e308}')),
      metric: 'schema',
      reason: 'AnalyzerStatusInvalid',
      message: /\/counters\/defects\/black must be <= 9007199254740991/,
    },
    {
      what: 'a 1 MB string',
      answer: () => json({ ...valid(), source: 's'.repeat(1_000_000) }),
      metric: 'schema',
      reason: 'AnalyzerStatusInvalid',
      message: /\/source must NOT have more than 4096 characters/,
    },
  ];

  for (const wrong of wrongAnswers) {
    it(
      `reports ${wrong.what} as ${wrong.reason}, counts it, and keeps reconciling others`,
      { timeout: 90_000 },
      async () => {
        const before = await counter('streamqc_operator_analyzer_status_invalid_total', { reason: wrong.metric });
        liar.answer = wrong.answer();
        const defectFree = await eventually(
          `the liar's DefectFree to say ${wrong.reason}`,
          async () => {
            const c = condition(await readMonitor('liar'), 'DefectFree');
            return c?.reason === wrong.reason && wrong.message.test(c.message) ? c : undefined;
          },
          30_000,
        );
        assert.equal(defectFree.status, 'Unknown');
        assert.ok(defectFree.message.length < 400, `a bounded message (${defectFree.message.length} characters)`);
        await eventually(
          `streamqc_operator_analyzer_status_invalid_total{reason="${wrong.metric}"} to grow`,
          async () =>
            (await counter('streamqc_operator_analyzer_status_invalid_total', { reason: wrong.metric })) > before,
          10_000,
        );
        await healthyStillFollows();
        assert.equal(t.controller.ready, true);
      },
    );
  }

  it('keeps unknown defect types out of status and Events, counting what it drops', { timeout: 60_000 }, async () => {
    const before = await counter('streamqc_operator_analyzer_defects_dropped_total');
    liar.answer = json(
      validStatus(['pwned', 'model:evil', 'black', '<img src=x>'], {
        counters: { ...valid().counters, defects: { pwned: 5, black: 1 } },
      }),
    );
    const m = await eventually(
      'the liar to report black only',
      async () => {
        const monitor = await readMonitor('liar');
        return JSON.stringify(monitor.status?.defects?.active) === '["black"]' ? monitor : undefined;
      },
      30_000,
    );
    assert.deepEqual(m.status?.defects?.counts, { black: 1 });
    assert.ok((await counter('streamqc_operator_analyzer_defects_dropped_total')) >= before + 4);
    const words = JSON.stringify(m.status) + JSON.stringify((await eventsOf('liar')).map((e) => e.message));
    assert.doesNotMatch(words, /pwned|evil|img/);
  });

  it(
    'masks URL query tokens an analyzer reports in its source, in conditions and Events (before the flood spends its Event budget)',
    { timeout: 60_000 },
    async () => {
      const source = 'https://cdn.example/live/master.m3u8?token=SECRET-TOKEN&Key-Pair-Id=SECRET-KEY';
      liar.answer = json(validStatus([], { source, mediaFlowing: true }));
      await eventually(
        'SourceConnected True',
        async () => condition(await readMonitor('liar'), 'SourceConnected')?.status === 'True',
        30_000,
      );
      liar.answer = json(validStatus([], { source, mediaFlowing: false, phase: 'reconnecting' }));
      const m = await eventually(
        'SourceConnected False',
        async () => {
          const monitor = await readMonitor('liar');
          return condition(monitor, 'SourceConnected')?.status === 'False' ? monitor : undefined;
        },
        30_000,
      );
      assert.match(condition(m, 'SourceConnected')?.message ?? '', /token=\*\*\*&Key-Pair-Id=\*\*\*/);
      const lost = await eventually(
        'a SourceLost Event',
        async () => (await eventsOf('liar')).find((e) => e.reason === 'SourceLost'),
        10_000,
      );
      assert.match(lost.message ?? '', /master\.m3u8\?token=\*\*\*/);
      const words = JSON.stringify(m.status) + JSON.stringify((await eventsOf('liar')).map((e) => e.message));
      assert.doesNotMatch(words, /SECRET/);
    },
  );
  it('rate-limits the Events of an analyzer that flaps thousands of defects', { timeout: 90_000 }, async () => {
    const droppedBefore = await counter('streamqc_operator_events_dropped_total');
    // Every answer a new set of active defects (and made-up types): each poll is a change.
    let flip = 0;
    liar.answer = (res) => {
      flip++;
      const active = DEFECT_TYPES.filter((_, i) => ((flip >> (i % 4)) + i) % 2 === 0);
      json(validStatus([...active, `made-up-${flip}`]))(res);
    };
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    liar.answer = json(validStatus([]));
    await eventually(
      'the liar to settle',
      async () => condition(await readMonitor('liar'), 'DefectFree')?.status === 'True',
      30_000,
    );
    const events = await eventsOf('liar');
    const written = events.length;
    const dropped = (await counter('streamqc_operator_events_dropped_total')) - droppedBefore;
    const allowed = EVENT_RATE_LIMIT.burst + Math.ceil((Date.now() - liarCreatedAt) / EVENT_RATE_LIMIT.refillMs);
    console.log(
      `flood: ${flip} answers, ${written} Events written on the liar in ${Math.round((Date.now() - liarCreatedAt) / 1000)} s, ${dropped} refused by the rate limit`,
    );
    assert.ok(written <= allowed, `${written} Events written, at most ${allowed} allowed`);
    assert.ok(dropped > 50, `${dropped} Events refused`);
    assert.ok(events.every((e) => !(e.message ?? '').includes('made-up')));
    await healthyStillFollows();
  });
});
