/**
 * The HLS ladder in a monitor's status (operator/ladder.ts): what an analyzer's /status says of
 * its ladder becomes `status.delivery`, bounded and cleaned like every other untrusted answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Analyzer } from '../../analyzer/pipeline.js';
import { resolveConfig } from '../../analyzer/config.js';
import {
  checkAnalyzerStatus,
  type AnalyzerStatus,
  type RenditionStatus,
  type ReportedEvent,
} from '../../analyzer/contract/status.js';
import { boundedStatus, reportableDefectTypes } from '../../operator/analyzer-status.js';
import { analyzerFacts, observedStatus } from '../../operator/status.js';
import { deliveryFacts } from '../../operator/ladder.js';
import { runningMonitor, runningPod } from './operator-running.js';

function plainStatus(): AnalyzerStatus {
  const analyzer = new Analyzer(resolveConfig({ stream: 's' }), 'udp://127.0.0.1:5000', {
    log: pino({ level: 'silent' }),
  });
  return JSON.parse(JSON.stringify(analyzer.status())) as AnalyzerStatus;
}

function rendition(name: string, height: number, alive = true): RenditionStatus {
  return {
    name,
    bandwidth: height * 10_000 + 0.4,
    resolution: `${(height * 16) / 9}x${height}`,
    codecs: 'avc1.42c00d,mp4a.40.2',
    frameRate: 25,
    alive,
    listed: true,
    downSince: null,
    downStart: null,
    targetDuration: 1,
    lastMediaSequence: 10,
    segmentBitrate: 1,
    fetchRatio: 0.01,
  };
}

function event(type: string, rendition: string, start: number, end: number | null = null): ReportedEvent {
  const wallclock = new Date(Date.UTC(2026, 0, 1) + start * 1000).toISOString();
  return { type, start, end, wallclock, detail: { rendition } } as unknown as ReportedEvent;
}

function ladderStatus(): AnalyzerStatus {
  return {
    ...plainStatus(),
    delivery: {
      rendition: '720p',
      declared: 3,
      alive: 2,
      renditions: [
        rendition('720p', 720),
        { ...rendition('360p', 360, false), downSince: '2026-01-01T00:00:40.000Z', downStart: 40 },
        rendition('180p', 180),
      ],
      cues: [],
    },
    activeDefects: [event('playlist_stale', '360p', 40)],
    recentEvents: [event('http_error', '180p', 12, 13), event('http_error', '360p', 20, 21)],
  };
}

const monitor = runningMonitor('https://cdn.example/live/master.m3u8');

test('a 3-rendition ladder with one stale rendition is 2/3 in status, each rendition with its newest delivery defect', () => {
  const status = observedStatus({ monitor, pod: runningPod, analyzer: ladderStatus(), now: new Date(0) });
  assert.deepEqual(status.delivery, {
    rendition: '720p',
    declared: 3,
    alive: 2,
    summary: '2/3',
    renditions: [
      { name: '720p', bandwidth: 7_200_000, resolution: '1280x720', alive: true },
      {
        name: '360p',
        bandwidth: 3_600_000,
        resolution: '640x360',
        alive: false,
        downSince: '2026-01-01T00:00:40.000Z',
        lastError: { type: 'playlist_stale', since: '2026-01-01T00:00:40.000Z', active: true },
      },
      {
        name: '180p',
        bandwidth: 1_800_000,
        resolution: '320x180',
        alive: true,
        lastError: { type: 'http_error', since: '2026-01-01T00:00:12.000Z', active: false },
      },
    ],
  });
});

test('a rendition that left the multivariant playlist stays in status as not listed and down since it left', () => {
  const status = ladderStatus();
  status.delivery = {
    ...status.delivery!,
    declared: 2,
    renditions: [
      rendition('720p', 720),
      rendition('180p', 180),
      { ...rendition('360p', 360, false), listed: false, downSince: '2026-01-01T00:01:00.000Z', downStart: 60 },
    ],
  };
  const facts = deliveryFacts(status);
  assert.ok(facts?.renditions);
  assert.equal(facts.summary, '2/2');
  assert.deepEqual(
    facts.renditions.map((r) => [r.name, r.alive, r.listed, r.downSince]),
    [
      ['720p', true, undefined, undefined],
      ['180p', true, undefined, undefined],
      ['360p', false, false, '2026-01-01T00:01:00.000Z'],
    ],
  );
  // A down time that is no wall-clock time is left out, as every untrusted answer is cleaned.
  status.delivery.renditions[2] = { ...status.delivery.renditions[2]!, downSince: '<script>' };
  assert.equal(deliveryFacts(status)?.renditions?.[2]?.downSince, undefined);
});

test('a source that is not a followed HLS ladder has no status.delivery', () => {
  const status = observedStatus({ monitor, pod: runningPod, analyzer: plainStatus(), now: new Date(0) });
  assert.equal(status.delivery, undefined);
  assert.doesNotMatch(analyzerFacts({ status: plainStatus() }), /delivery/);
});

test('a change of the ladder changes the analyzer facts (the poller wakes the monitor), a repeat does not', () => {
  const before = analyzerFacts({ status: ladderStatus() });
  assert.equal(analyzerFacts({ status: ladderStatus() }), before);
  const recovered = ladderStatus();
  recovered.delivery = { ...recovered.delivery!, alive: 3 };
  assert.notEqual(analyzerFacts({ status: recovered }), before);
});

test('an analyzer that misses one poll keeps the last known ladder in status', () => {
  const first = observedStatus({ monitor, pod: runningPod, analyzer: ladderStatus(), now: new Date(0) });
  const missed = observedStatus({ monitor: { ...monitor, status: first }, pod: runningPod, now: new Date(1000) });
  assert.deepEqual(missed.delivery, first.delivery);
});

test('a lying ladder is cleaned: odd names and resolutions dropped, alive clamped to declared, at most 16 renditions', () => {
  const lying = ladderStatus();
  lying.delivery = {
    rendition: '<script>',
    declared: 40,
    alive: 64,
    renditions: [
      { ...rendition('720p', 720), resolution: 'big; DROP TABLE' },
      { ...rendition('720p', 720), bandwidth: 1 },
      rendition('https://user:pw@evil/x?token=SECRET', 360),
      ...Array.from({ length: 40 }, (_, i) => rendition(`r${i}`, 100 + i)),
    ],
    cues: [],
  };
  const facts = deliveryFacts(lying);
  assert.ok(facts);
  assert.equal(facts.alive, 40);
  assert.equal(facts.summary, '40/40');
  assert.equal(facts.rendition, undefined, 'a decoded rendition that is no rendition name is left out');
  assert.equal(facts.renditions?.length, 16);
  assert.deepEqual(facts.renditions[0], { name: '720p', bandwidth: 7_200_000, alive: true });
  assert.equal(facts.renditions[1]?.name, 'r0', 'a repeated name is shown once');
  assert.doesNotMatch(JSON.stringify(facts), /SECRET|evil|script|DROP/);
});

test('the contract refuses a ladder whose renditions lack a name or an alive flag, or are too many', () => {
  const good = ladderStatus();
  assert.equal(checkAnalyzerStatus(JSON.parse(JSON.stringify(good))).ok, true);
  const cases: [string, unknown][] = [
    ['/delivery/renditions/0', [{ alive: true }]],
    ['/delivery/renditions/0/alive', [{ name: 'a', alive: 'yes' }]],
    ['/delivery/renditions/0/name', [{ name: 'x'.repeat(10_000), alive: true }]],
    ['/delivery/renditions/0/bandwidth', [{ name: 'a', alive: true, bandwidth: -5 }]],
    ['/delivery/renditions', Array.from({ length: 1_000 }, (_, i) => ({ name: `r${i}`, alive: true }))],
  ];
  for (const [field, renditions] of cases) {
    const checked = checkAnalyzerStatus({ ...good, delivery: { ...good.delivery, renditions } });
    assert.equal(checked.ok, false, field);
    assert.match(checked.error, new RegExp(`^${field}`), field);
  }
});

test('the bounded status keeps one active delivery defect per type and rendition, and each rendition its last error', () => {
  const status = ladderStatus();
  status.activeDefects = [event('http_error', '720p', 60), event('http_error', '180p', 61)];
  // 30 newer events on 720p push 180p's and 360p's last errors out of the last ten.
  status.recentEvents = [
    event('http_error', '180p', 12, 13),
    event('http_error', '360p', 20, 21),
    ...Array.from({ length: 30 }, (_, i) => event('segment_slow', '720p', 22 + i, 23 + i)),
  ];
  const { status: bounded } = boundedStatus(status, reportableDefectTypes([]));
  assert.deepEqual(
    bounded.activeDefects.map((e) => [e.type, e.detail?.rendition]),
    [
      ['http_error', '720p'],
      ['http_error', '180p'],
    ],
  );
  assert.equal(bounded.recentEvents.length, 12);
  assert.deepEqual(
    bounded.recentEvents.slice(0, 2).map((e) => [e.type, e.detail?.rendition, e.start]),
    [
      ['http_error', '180p', 12],
      ['http_error', '360p', 20],
    ],
  );
  const facts = deliveryFacts(bounded);
  assert.deepEqual(
    facts?.renditions?.map((r) => [r.name, r.lastError?.type, r.lastError?.active]),
    [
      ['720p', 'http_error', true],
      ['360p', 'http_error', false],
      ['180p', 'http_error', true],
    ],
  );
});
