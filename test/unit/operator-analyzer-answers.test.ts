/**
 * Untrusted /status answers (operator/analyzer-status.ts, analyzer/contract/status.ts): a fake
 * analyzer on loopback answers wrongly, and the reader turns each wrong answer into a problem
 * with a reason, the poller never rejects, and status says AnalyzerStatusInvalid.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Analyzer } from '../../analyzer/pipeline.js';
import { resolveConfig } from '../../analyzer/config.js';
import { checkAnalyzerStatus, type AnalyzerStatus, type ReportedEvent } from '../../analyzer/contract/status.js';
import { pino } from 'pino';
import {
  analyzerStatusReader,
  boundedStatus,
  reportableDefectTypes,
  type AnalyzerAnswer,
} from '../../operator/analyzer-status.js';
import { AnalyzerPoller } from '../../operator/analyzer-poller.js';
import { analyzerFacts, observedStatus } from '../../operator/status.js';
import { runningMonitor, runningPod } from './operator-running.js';

/** One body per path; `/status` answers what `body` holds at the time. */
let body = '';
const server: Server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
});
const port = await new Promise<number>((resolve) =>
  server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
);
after(() => server.close());

const read = analyzerStatusReader(2_000);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const MISSING_FIELDS = '{"mediaFlowing":true,"activeDefects":[],"format":{}}';

test('an answer without recentEvents and counters is refused by the schema, naming the first missing field', async () => {
  body = MISSING_FIELDS;
  const answer = await read('127.0.0.1', port);
  assert.equal(answer?.status, undefined);
  assert.equal(answer?.problem.reason, 'schema');
  assert.match(answer.problem.message, /must have required property '(source|phase|bitrate|recentEvents|counters)'/);
});

test('the poller asked by that answer does not reject; the monitor says AnalyzerStatusInvalid', async () => {
  body = MISSING_FIELDS;
  const woken: string[] = [];
  const poller = new AnalyzerPoller({
    fetch: (t) => read(t.podIP, t.port),
    intervalMs: 10_000,
    concurrency: 1,
    facts: analyzerFacts,
    onChange: (key) => woken.push(key),
  });
  poller.track('ns/m', { podIP: '127.0.0.1', port, defectTypes: [] });
  for (let i = 0; i < 50 && woken.length === 0; i++) await sleep(20);
  assert.deepEqual(woken, ['ns/m'], 'a refused answer is news: the monitor is woken to say so');
  const answer = poller.latest('ns/m');
  poller.stop();
  const status = observedStatus({
    monitor: runningMonitor(),
    pod: runningPod,
    analyzer: answer?.status,
    analyzerProblem: answer?.problem,
    now: new Date(0),
  });
  const defectFree = status.conditions?.find((c) => c.type === 'DefectFree');
  assert.equal(defectFree?.status, 'Unknown');
  assert.equal(defectFree.reason, 'AnalyzerStatusInvalid');
  assert.match(defectFree.message, /required property/);
  assert.equal(status.defects, undefined, 'nothing of a refused answer reaches status');
});

test('a fetch or facts() that throws is a problem answer, not an unhandled rejection', async () => {
  const woken: string[] = [];
  let calls = 0;
  const poller = new AnalyzerPoller({
    fetch: () => Promise.reject(new Error('socket hang up')),
    intervalMs: 10_000,
    concurrency: 1,
    facts: (answer: AnalyzerAnswer | undefined) => {
      calls++;
      if (answer?.problem?.reason === 'unreachable' && calls === 2) throw new TypeError('facts of an odd answer');
      return JSON.stringify(answer?.problem ?? null);
    },
    onChange: (key) => woken.push(key),
  });
  poller.track('ns/t', { podIP: '127.0.0.1', port, defectTypes: [] });
  for (let i = 0; i < 50 && woken.length === 0; i++) await sleep(20);
  assert.equal(poller.latest('ns/t')?.problem?.reason, 'schema');
  assert.match(poller.latest('ns/t')?.problem?.message ?? '', /facts of an odd answer/);
  poller.stop();
});

test('malformed JSON, a body over 1 MiB and a closed port are each a problem with its own reason', async () => {
  body = '{"mediaFlowing": tru';
  assert.equal((await read('127.0.0.1', port))?.problem?.reason, 'malformed_json');
  body = JSON.stringify({ pad: 'x'.repeat(1_100_000) });
  assert.equal((await read('127.0.0.1', port))?.problem?.reason, 'too_large');
  assert.equal((await read('127.0.0.1', 1))?.problem?.reason, 'unreachable');
});

test('the contract accepts what the analyzer itself writes, and extra fields from a newer analyzer', () => {
  const analyzer = new Analyzer(resolveConfig({ stream: 's' }), 'udp://127.0.0.1:5000?token=secret', {
    log: pino({ level: 'silent' }),
  });
  const own = JSON.parse(JSON.stringify(analyzer.status())) as Record<string, unknown>;
  assert.deepEqual(checkAnalyzerStatus(own), { ok: true, status: own });
  const newer = { ...own, transport: { tr101290: [] }, format: { ...(own.format as object), hdr: 'pq' } };
  assert.equal(checkAnalyzerStatus(newer).ok, true);
});

test('wrong types and out-of-bound values are refused: negative or 1e309 counts, a 1 MB source, 10,000 active defects', () => {
  const analyzer = new Analyzer(resolveConfig({ stream: 's' }), 'udp://127.0.0.1:5000', {
    log: pino({ level: 'silent' }),
  });
  const good = JSON.parse(JSON.stringify(analyzer.status())) as Record<string, unknown>;
  const counters = good.counters as Record<string, unknown>;
  const event = { type: 'black', start: 1, end: null, wallclock: '2026-01-01T00:00:00Z' };
  const cases: [string, Record<string, unknown>][] = [
    ['mediaFlowing', { ...good, mediaFlowing: 'yes' }],
    ['counters/defects/black', { ...good, counters: { ...counters, defects: { black: -1 } } }],
    [
      'counters/defects/black',
      { ...good, counters: { ...counters, defects: { black: JSON.parse('1e309') as number } } },
    ],
    ['source', { ...good, source: 'x'.repeat(1_000_000) }],
    ['activeDefects', { ...good, activeDefects: Array.from({ length: 10_000 }, () => event) }],
    ['activeDefects/0/type', { ...good, activeDefects: [{ ...event, type: 7 }] }],
  ];
  for (const [field, answer] of cases) {
    const checked = checkAnalyzerStatus(answer);
    assert.equal(checked.ok, false, field);
    assert.match(checked.error, new RegExp(`^/${field}`), field);
  }
});

test("a lying status keeps only the monitor's defect types: unknown types are dropped and counted, counts whole", () => {
  const analyzer = new Analyzer(resolveConfig({ stream: 's' }), 'udp://127.0.0.1:5000', {
    log: pino({ level: 'silent' }),
  });
  const good = analyzer.status();
  const at = (type: string): ReportedEvent =>
    ({ type, start: 1, end: null, wallclock: '2026-01-01T00:00:00Z' }) as unknown as ReportedEvent;
  const lying: AnalyzerStatus = {
    ...good,
    activeDefects: [at('black'), at('black'), at('model:logo'), at('<script>'), at('model:not-declared'), at('pwned')],
    recentEvents: Array.from({ length: 50 }, (_, i) => at(i % 2 === 0 ? 'freeze' : `bogus-${i}`)),
    counters: { ...good.counters, defects: { black: 2.7, 'model:logo': 1, 'made-up': 5 } },
  };
  const types = reportableDefectTypes([{ defect: { type: 'model:logo' } }]);
  const { status, dropped } = boundedStatus(lying, types);
  assert.deepEqual(
    status.activeDefects.map((e) => e.type),
    ['black', 'model:logo'],
  );
  assert.ok(status.recentEvents.every((e) => e.type === 'freeze'));
  assert.ok(status.recentEvents.length <= 10);
  assert.deepEqual(status.counters.defects, { black: 2, 'model:logo': 1 });
  assert.equal(dropped, 3 + 25 + 1);
  const monitor = runningMonitor();
  const observed = observedStatus({ monitor, pod: runningPod, analyzer: status, now: new Date(0) });
  assert.deepEqual(observed.defects?.active, ['black', 'model:logo']);
  assert.doesNotMatch(JSON.stringify(observed), /script|pwned|bogus|made-up|not-declared/);
});

test('a source URL token the analyzer reports, or a spec value echoed in a message, never reaches a condition', () => {
  const analyzer = new Analyzer(resolveConfig({ stream: 's' }), 'udp://127.0.0.1:5000', {
    log: pino({ level: 'silent' }),
  });
  // A version-skewed (or lying) analyzer that does not mask its own source.
  const source = 'https://user:pw@cdn.example/live.m3u8?token=SECRET&X-Amz-Signature=SECRET2';
  const lost = observedStatus({
    monitor: runningMonitor(),
    pod: runningPod,
    analyzer: { ...analyzer.status(), source, mediaFlowing: false },
    now: new Date(0),
  });
  const message = lost.conditions?.find((c) => c.type === 'SourceConnected')?.message ?? '';
  assert.match(message, /https:\/\/\*\*\*@cdn\.example\/live\.m3u8\?token=\*\*\*&X-Amz-Signature=\*\*\*/);
  const blocked = observedStatus({
    monitor: runningMonitor(),
    pod: undefined,
    now: new Date(0),
    blocked: { reason: 'InvalidConfig', message: `stream: "rtmp://h/app?key=SECRET3${'x'.repeat(5_000)}" is too long` },
  });
  const ready = blocked.conditions?.find((c) => c.type === 'Ready')?.message ?? '';
  assert.doesNotMatch(JSON.stringify([lost, blocked]), /SECRET|pw@/);
  assert.ok(ready.length <= 1_030, `bounded (${ready.length})`);
});
