// What a monitor renders into (analyzer config, pod, hash) and how its status is observed.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import type { StreamMonitor, StreamMonitorSpec } from '../../operator/api.js';
import { analyzerDefaultsFromEnv, renderAnalyzer } from '../../operator/analyzer-pod.js';
import { observedStatus, sameStatus } from '../../operator/status.js';
import type { AnalyzerStatus } from '../../analyzer/pipeline.js';

function monitor(spec: StreamMonitorSpec, extra: Partial<StreamMonitor['metadata']> = {}): StreamMonitor {
  return {
    apiVersion: 'streamqc.io/v1alpha1',
    kind: 'StreamMonitor',
    metadata: { name: 'news', namespace: 'tv', uid: 'u-1', resourceVersion: '1', generation: 3, ...extra },
    spec,
  };
}

const url = 'srt://10.0.0.1:9000';

describe('analyzer rendering', () => {
  it('takes image, GPU image and resources from the installation defaults unless the spec says', () => {
    const defaults = analyzerDefaultsFromEnv({
      STREAMQC_ANALYZER_IMAGE: 'registry.local/analyzer:1',
      STREAMQC_ANALYZER_GPU_IMAGE: 'registry.local/analyzer-cuda:1',
      STREAMQC_ANALYZER_RESOURCES: '{"requests":{"cpu":"250m","memory":"200Mi"},"limits":{"memory":"512Mi"}}',
    });
    const cpu = renderAnalyzer(monitor({ source: { url } }), defaults).pod.spec!.containers[0]!;
    assert.equal(cpu.image, 'registry.local/analyzer:1');
    assert.deepEqual(cpu.resources, { requests: { cpu: '250m', memory: '200Mi' }, limits: { memory: '512Mi' } });
    const gpu = renderAnalyzer(monitor({ source: { url }, gpu: 1 }), defaults).pod.spec!.containers[0]!;
    assert.equal(gpu.image, 'registry.local/analyzer-cuda:1');
    const own = renderAnalyzer(monitor({ source: { url }, gpu: 1, image: 'mine:2' }), defaults).pod.spec!
      .containers[0]!;
    assert.equal(own.image, 'mine:2');
    assert.equal(
      renderAnalyzer(monitor({ source: { url } })).pod.spec!.containers[0]!.image,
      'ghcr.io/streamqc/analyzer:0.1.0',
    );
  });

  it('refuses malformed installation defaults naming the variable', () => {
    assert.throws(
      () => analyzerDefaultsFromEnv({ STREAMQC_ANALYZER_RESOURCES: 'cpu=1' }),
      /STREAMQC_ANALYZER_RESOURCES: "cpu=1" is not JSON/,
    );
    assert.throws(
      () => analyzerDefaultsFromEnv({ STREAMQC_ANALYZER_RESOURCES: '{"cpus": {}}' }),
      /STREAMQC_ANALYZER_RESOURCES: .* is not \{"requests"/,
    );
  });

  it('gives the same hash whatever order the spec fields come in, and a new one when an option changes', () => {
    const a = renderAnalyzer(
      monitor({
        source: { url },
        detectors: { black: { minDuration: 3, pictureRatio: 0.9 } },
        nodeSelector: { a: '1', b: '2' },
      }),
    );
    const b = renderAnalyzer(
      monitor({
        nodeSelector: { b: '2', a: '1' },
        detectors: { black: { pictureRatio: 0.9, minDuration: 3 } },
        source: { url },
      }),
    );
    const c = renderAnalyzer(
      monitor({
        source: { url },
        detectors: { black: { minDuration: 4, pictureRatio: 0.9 } },
        nodeSelector: { a: '1', b: '2' },
      }),
    );
    assert.equal(a.hash, b.hash);
    assert.notEqual(a.hash, c.hash);
    assert.equal(a.pod.metadata?.name, `news-${a.hash.slice(0, 10)}`);
  });

  it('does not replace the pod for suspend or status-only changes', () => {
    assert.equal(
      renderAnalyzer(monitor({ source: { url } })).hash,
      renderAnalyzer(monitor({ source: { url }, suspend: false })).hash,
    );
  });

  it('gpu: 1 requests one nvidia.com/gpu, tolerates the GPU taint and turns on the CUDA path', () => {
    const r = renderAnalyzer(monitor({ source: { url }, gpu: 1, resources: { limits: { cpu: 2 } } }));
    const container = r.pod.spec!.containers[0]!;
    assert.deepEqual(container.resources?.limits, { cpu: '2', 'nvidia.com/gpu': '1' });
    assert.ok(r.pod.spec?.tolerations?.some((t) => t.key === 'nvidia.com/gpu' && t.operator === 'Exists'));
    assert.equal(r.config.analysis.gpu, true);
    assert.equal(renderAnalyzer(monitor({ source: { url } })).config.analysis.gpu, false);
  });

  it('passes source credentials from the Secret as environment, never in the URL', () => {
    const r = renderAnalyzer(
      monitor({ source: { url: 'rtmp://example.com/live', credentialsSecretRef: { name: 'cam' } } }),
    );
    const env = r.pod.spec!.containers[0]!.env ?? [];
    assert.deepEqual(
      env.map((e) => [e.name, e.valueFrom?.secretKeyRef?.name, e.valueFrom?.secretKeyRef?.key]),
      [
        ['STREAMQC_SOURCE_USERNAME', 'cam', 'username'],
        ['STREAMQC_SOURCE_PASSWORD', 'cam', 'password'],
      ],
    );
    assert.equal(r.pod.spec!.containers[0]!.args?.[1], 'rtmp://example.com/live');
  });

  it('mounts a user model from its ConfigMap at the path written into the analyzer config', () => {
    const r = renderAnalyzer(
      monitor({
        source: { url },
        models: [
          {
            name: 'logo',
            configMapRef: { name: 'models', key: 'logo.onnx' },
            input: { width: 64, height: 64, layout: 'NCHW', channels: 1 },
            defect: { type: 'model:logo', threshold: 0.5, minDuration: 1 },
          },
        ],
      }),
    );
    assert.equal(r.config.models[0]?.path, '/models/logo/logo.onnx');
    const mount = r.pod.spec!.containers[0]!.volumeMounts?.find((m) => m.mountPath === '/models/logo');
    const volume = r.pod.spec!.volumes?.find((v) => v.name === mount?.name);
    assert.equal(volume?.configMap?.name, 'models');
  });

  it("passes the spec's delivery block to the analyzer, and the client's defaults without one", () => {
    const hls = 'https://cdn.example.com/live/master.m3u8';
    const named = renderAnalyzer(
      monitor({ source: { url: hls }, delivery: { rendition: '720p', segmentChecks: 'all', enabled: true } }),
    );
    assert.equal(named.config.delivery.rendition, '720p');
    assert.equal(named.config.delivery.segmentChecks, 'all');
    const off = renderAnalyzer(monitor({ source: { url: hls }, delivery: { enabled: false } }));
    assert.equal(off.config.delivery.enabled, false);
    const plain = renderAnalyzer(monitor({ source: { url: hls } }));
    assert.deepEqual(
      { enabled: plain.config.delivery.enabled, rendition: plain.config.delivery.rendition },
      { enabled: true, rendition: 'highest' },
    );
    assert.notEqual(named.hash, plain.hash);
  });
});

const runningPod: V1Pod = {
  metadata: { name: 'news-abc', annotations: { 'streamqc.io/config-hash': 'abc' } },
  spec: { nodeName: 'kwok-node-1', containers: [] },
  status: {
    phase: 'Running',
    podIP: '127.1.2.3',
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [],
  },
};

const analyzerStatus = (active: string[], flowing = true): AnalyzerStatus =>
  ({
    stream: 'news',
    source: url,
    live: true,
    phase: flowing ? 'running' : 'reconnecting',
    startedAt: '',
    timelineSeconds: 10,
    mediaFlowing: flowing,
    lastMediaAt: null,
    format: {
      videoCodec: 'h264',
      width: 1920,
      height: 1080,
      frameRate: 25.0004,
      audioCodec: 'aac',
      sampleRate: 48000,
      channels: 2,
      channelLayout: 'stereo',
    },
    bitrate: 4_012_345,
    analysis: { width: 480, height: 270, backend: 'cpu', executionProvider: 'cpu', lagSeconds: 0 },
    activeDefects: active.map((type) => ({ type, start: 1, end: null, wallclock: 'w' })),
    recentEvents: [],
    counters: { frames: 1, framesDropped: 0, audioSeconds: 1, decodeErrors: 0, reconnects: 0, defects: {} },
    loudness: { momentaryLufs: null, shortTermLufs: null, integratedLufs: null, truePeakDbtp: null },
  }) as unknown as AnalyzerStatus;

describe('observed status', () => {
  it('a second observation of the same world equals the stored status, so nothing is written', () => {
    const m = monitor({ source: { url } });
    const first = observedStatus({
      monitor: m,
      pod: runningPod,
      analyzer: analyzerStatus([]),
      now: new Date('2026-01-01T00:00:00Z'),
    });
    assert.equal(first.phase, 'Running');
    const second = observedStatus({
      monitor: { ...m, status: first },
      pod: runningPod,
      analyzer: analyzerStatus([]),
      now: new Date('2026-01-01T00:05:00Z'),
    });
    assert.ok(sameStatus(first, second));
  });

  it('an active defect makes the monitor Degraded with DefectFree False and the stream facts', () => {
    const s = observedStatus({
      monitor: monitor({ source: { url } }),
      pod: runningPod,
      analyzer: analyzerStatus(['black']),
      now: new Date(),
    });
    assert.equal(s.phase, 'Degraded');
    assert.deepEqual(s.conditions?.find((c) => c.type === 'DefectFree')?.status, 'False');
    assert.deepEqual(s.defects?.active, ['black']);
    assert.deepEqual(s.stream, {
      videoCodec: 'h264',
      audioCodec: 'aac',
      resolution: '1920x1080',
      frameRate: 25,
      audioLayout: 'stereo',
      bitrate: 4_010_000,
    });
  });

  it('an unscheduled pod is Pending with the scheduler message', () => {
    const pod: V1Pod = {
      metadata: { name: 'p' },
      spec: { containers: [] },
      status: {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', message: '0/5 nodes are available' }],
      },
    };
    const s = observedStatus({ monitor: monitor({ source: { url } }), pod, now: new Date() });
    assert.equal(s.phase, 'Pending');
    assert.equal(s.conditions?.[0]?.reason, 'AnalyzerUnschedulable');
    assert.match(s.conditions[0].message, /0\/5 nodes/);
  });
});
