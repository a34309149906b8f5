/**
 * reconcileMonitor's order (operator/reconcile.ts): the Events that tell of a status change are
 * emitted after the status write succeeded, so a write refused with a 409 and retried tells of
 * the change once. The world is handed in: a monitor, its cached pod and ConfigMap, an analyzer
 * answer, and a status writer that refuses the first write as the API server does on a stale
 * resourceVersion.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException, type CoreV1Api, type CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import type { AnalyzerStatus, SignalEvent } from '../../analyzer/contract/status.js';
import { renderAnalyzer } from '../../operator/analyzer-pod.js';
import { boundedStatus, type AnalyzerAnswer } from '../../operator/analyzer-status.js';
import type { StreamMonitor, StreamMonitorStatus } from '../../operator/api.js';
import { configMapFacts } from '../../operator/owned-objects.js';
import { reconcileMonitor, type ReconcileDeps } from '../../operator/reconcile.js';
import { analyzerFacts, observedStatus } from '../../operator/status.js';

function analyzerStatus(mediaFlowing: boolean, active: string[]): AnalyzerStatus {
  return {
    stream: 'news',
    source: 'udp://127.0.0.1:5000',
    phase: mediaFlowing ? 'running' : 'reconnecting',
    mediaFlowing,
    format: { videoCodec: 'h264', audioCodec: 'aac', width: 1280, height: 720, frameRate: 25, channelLayout: 'stereo' },
    bitrate: 3_000_000,
    activeDefects: active.map((type) => ({ type, start: 1, end: null, wallclock: 'w' })),
    recentEvents: [],
    counters: { frames: 1, defects: {} },
  } as unknown as AnalyzerStatus;
}

/** A monitor whose analyzer runs and reported a healthy stream at the last status write. */
function world(): {
  monitor: StreamMonitor;
  pod: V1Pod;
  deps: (answer: AnalyzerAnswer, writeStatus: ReconcileDeps['writeStatus']) => ReconcileDeps;
  events: string[];
} {
  const bare: StreamMonitor = {
    apiVersion: 'streamqc.io/v1alpha1',
    kind: 'StreamMonitor',
    metadata: { name: 'news', namespace: 'ns', uid: 'u1', generation: 1, resourceVersion: '7' },
    spec: { source: { url: 'udp://127.0.0.1:5000' } },
  };
  const rendered = renderAnalyzer(bare);
  const pod: V1Pod = {
    ...rendered.pod,
    // eslint-disable-next-line @typescript-eslint/no-misused-spread -- V1ObjectMeta is allowed (eslint.config.js); the option misses it when optional
    metadata: { ...rendered.pod.metadata, uid: 'p1' },
    status: { phase: 'Running', podIP: '10.0.0.5', conditions: [{ type: 'Ready', status: 'True' }] },
  };
  const monitor: StreamMonitor = {
    ...bare,
    status: observedStatus({ monitor: bare, pod, analyzer: analyzerStatus(true, []), now: new Date(0) }),
  };
  const events: string[] = [];
  const deps = (answer: AnalyzerAnswer, writeStatus: ReconcileDeps['writeStatus']): ReconcileDeps => ({
    // Everything reconcile needs is cached and current: no call may reach these.
    core: {} as CoreV1Api,
    custom: {
      getNamespacedCustomObject: () => Promise.resolve(structuredClone(monitor)),
    } as unknown as CustomObjectsApi,
    owned: {
      podsOf: () => [pod],
      configMap: () => configMapFacts(rendered.configMap),
      createdPod: () => undefined,
      createdConfigMap: () => undefined,
    },
    writeStatus,
    recordEvent: (_monitor, type, reason, message) => {
      events.push(`${type} ${reason}: ${message}`);
      return Promise.resolve();
    },
    analyzers: { track: () => undefined, latest: () => answer },
    now: () => new Date(1_000),
  });
  return { monitor, pod, deps, events };
}

test('a status write refused once with a 409, then stored, tells of the lost source and the new defect once', async () => {
  const { deps, events } = world();
  const written: StreamMonitorStatus[] = [];
  let attempts = 0;
  // eslint-disable-next-line @typescript-eslint/require-await -- async so that its throw is a rejection, as from the real status write
  const d = deps({ status: analyzerStatus(false, ['stall']) }, async (_monitor, status) => {
    attempts += 1;
    if (attempts === 1) throw new ApiException(409, 'Conflict', { message: 'the object has been modified' }, {});
    written.push(status);
  });
  await assert.rejects(
    reconcileMonitor(d, 'ns/news'),
    (err: unknown) => err instanceof ApiException && err.code === 409,
  );
  assert.equal(events.length, 0, 'nothing is news before the status that says it is stored');
  await reconcileMonitor(d, 'ns/news');
  assert.equal(written.length, 1);
  assert.deepEqual(
    events.map((e) => e.split(':')[0]),
    ['Warning SourceLost', 'Warning DefectStarted'],
  );
  assert.match(events[1]!, /stall defect started/);
});

test('a steady analyzer writes no status and emits no Event', async () => {
  const { deps, events } = world();
  let writes = 0;
  await reconcileMonitor(
    deps({ status: analyzerStatus(true, []) }, () => {
      writes += 1;
      return Promise.resolve();
    }),
    'ns/news',
  );
  assert.equal(writes, 0);
  assert.equal(events.length, 0);
});

test('a pod deleted by someone else and still terminating: status says so, and the pod created after it is a recreation', async () => {
  const { monitor, pod, deps, events } = world();
  let stored: StreamMonitorStatus | undefined;
  // eslint-disable-next-line @typescript-eslint/no-misused-spread -- V1ObjectMeta is allowed (eslint.config.js); the option misses it when optional
  let cached: V1Pod[] = [{ ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date(500) } }];
  const created: V1Pod[] = [];
  const base = deps({ status: analyzerStatus(true, []) }, (_monitor, status) => {
    stored = status;
    return Promise.resolve();
  });
  const d: ReconcileDeps = {
    ...base,
    custom: {
      getNamespacedCustomObject: () =>
        Promise.resolve({ ...structuredClone(monitor), status: stored ?? monitor.status }),
    } as unknown as CustomObjectsApi,
    core: {
      createNamespacedPod: ({ body }: { body: V1Pod }) => {
        created.push(body);
        return Promise.resolve(body);
      },
    } as unknown as CoreV1Api,
    owned: { ...base.owned, podsOf: () => cached },
  };
  // The new pod's name is still held by the terminating one: wait, and say why.
  assert.ok((await reconcileMonitor(d, 'ns/news')).requeueAfterMs !== undefined);
  assert.equal(created.length, 0);
  assert.equal(stored?.phase, 'Pending');
  assert.equal(stored.analyzer, undefined);
  assert.match(stored.conditions?.find((c) => c.type === 'Ready')?.reason ?? '', /^AnalyzerPodTerminating$/);
  // Gone now: the new pod is created and told of as a recreation, not as a first analyzer.
  cached = [];
  await reconcileMonitor(d, 'ns/news');
  assert.equal(created.length, 1);
  assert.deepEqual(
    events.map((e) => e.split(':')[0]),
    ['Warning AnalyzerRecreated'],
  );
});

/** An analyzer that has reported `count` signal events, of which `kept` are in its recentEvents. */
function withSignals(count: number, kept: SignalEvent[]): AnalyzerStatus {
  const status = analyzerStatus(true, []);
  return {
    ...status,
    recentEvents: [{ type: 'black', start: 0, end: 1, wallclock: 'w0' }, ...kept],
    counters: { ...status.counters, signals: count },
  };
}

const cueOut: SignalEvent = {
  type: 'cue_out',
  start: 2,
  end: 2,
  wallclock: '2026-12-01T00:00:02.000Z',
  detail: { source: 'ts', command: 'splice_insert', pid: 500, spliceEventId: 7, breakDuration: 30, ptsTime: 1 },
};
const pidGone: SignalEvent = {
  type: 'pid_disappeared',
  start: 3,
  end: 3,
  wallclock: '2026-12-01T00:00:03.000Z',
  detail: { pid: 257, role: 'audio' },
};
const cueIn: SignalEvent = {
  type: 'cue_in',
  start: 4,
  end: 4,
  wallclock: '2026-12-01T00:00:04.000Z',
  // An untrusted analyzer's extra fields and long values: left out, cut.
  detail: { source: 'hls', command: 'ext_x_daterange_in', id: 'x'.repeat(500), nested: { a: 1 } } as never,
};

test('signal events become one Normal Event each, once: only those counted since the stored status', async () => {
  const { monitor, deps, events } = world();
  let stored = monitor;
  const d = (status: AnalyzerStatus): ReconcileDeps => {
    const base = deps({ status: boundedStatus(status, ['black']).status }, (_m, written) => {
      stored = { ...stored, status: written };
      return Promise.resolve();
    });
    return {
      ...base,
      custom: {
        getNamespacedCustomObject: () => Promise.resolve(structuredClone(stored)),
      } as unknown as CustomObjectsApi,
    };
  };
  await reconcileMonitor(d(withSignals(2, [cueOut, pidGone])), 'ns/news');
  assert.deepEqual(events, [
    'Normal CueSignalled: cue_out at 2026-12-01T00:00:02.000Z: source ts, command splice_insert, pid 500, spliceEventId 7, breakDuration 30',
    'Normal PidChanged: pid_disappeared at 2026-12-01T00:00:03.000Z: pid 257, role audio',
  ]);
  assert.deepEqual(stored.status?.defects?.last, { type: 'black', wallclock: 'w0' }, 'signals are not the last defect');
  events.length = 0;
  await reconcileMonitor(d(withSignals(2, [cueOut, pidGone])), 'ns/news');
  assert.deepEqual(events, [], 'nothing new');
  await reconcileMonitor(d(withSignals(3, [cueOut, pidGone, cueIn])), 'ns/news');
  assert.deepEqual(events, [
    `Normal CueSignalled: cue_in at 2026-12-01T00:00:04.000Z: source hls, command ext_x_daterange_in, id ${'x'.repeat(64)}`,
  ]);
  events.length = 0;
  // A new analyzer counts from zero again: what it kept is new.
  await reconcileMonitor(d(withSignals(1, [pidGone])), 'ns/news');
  assert.deepEqual(events, ['Normal PidChanged: pid_disappeared at 2026-12-01T00:00:03.000Z: pid 257, role audio']);
});

test("a new signal changes the analyzer's facts (the poll wakes reconcile); signals are not dropped as unknown defects", () => {
  const before = analyzerFacts({ status: withSignals(2, [cueOut, pidGone]) });
  assert.notEqual(analyzerFacts({ status: withSignals(3, [cueOut, pidGone, cueIn]) }), before);
  assert.equal(analyzerFacts({ status: withSignals(2, [cueOut, pidGone]) }), before);
  const { status, dropped } = boundedStatus(withSignals(3, [cueOut, pidGone, cueIn]), ['black']);
  assert.equal(dropped, 0);
  assert.deepEqual(
    status.recentEvents.map((e) => e.type),
    ['black', 'cue_out', 'pid_disappeared', 'cue_in'],
  );
});
