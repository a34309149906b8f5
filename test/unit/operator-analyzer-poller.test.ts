/**
 * The analyzer poller (operator/analyzer-poller.ts): a monitor is woken only when its
 * analyzer's facts change, a new analyzer is asked at once, and an answer from an analyzer
 * that has since moved is dropped. The fetch is a function handed in, as reconcile's is, and
 * time is a fake clock that the tests advance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnalyzerPoller } from '../../operator/analyzer-poller.js';
import { analyzerFacts } from '../../operator/status.js';
import type { AnalyzerStatus } from '../../analyzer/pipeline.js';
import { FakeClock } from './operator-fake-clock.js';

function analyzerStatus(active: string[], frames: number): AnalyzerStatus {
  return {
    stream: 's',
    source: 'udp://127.0.0.1:5000',
    phase: 'running',
    mediaFlowing: true,
    format: { videoCodec: 'h264', audioCodec: 'aac', width: 1280, height: 720, frameRate: 25, channelLayout: 'stereo' },
    bitrate: 3_000_000,
    activeDefects: active.map((type) => ({ type, start: 1, end: null, wallclock: 'w' })),
    recentEvents: [],
    counters: { frames, defects: {} },
  } as unknown as AnalyzerStatus;
}

function poller(answers: Map<string, AnalyzerStatus | undefined>, woken: string[], intervalMs = 20) {
  let fetches = 0;
  const clock = new FakeClock();
  const p = new AnalyzerPoller({
    fetch: ({ podIP }) => {
      fetches++;
      const status = answers.get(podIP);
      return Promise.resolve(status && { status });
    },
    intervalMs,
    concurrency: 4,
    facts: analyzerFacts,
    onChange: (key) => woken.push(key),
    clock,
  });
  return { p, fetches: () => fetches, advance: (ms: number) => clock.advance(ms) };
}

test('a new analyzer is asked at once; unchanged facts wake nothing, changed facts wake the monitor once', async () => {
  const answers = new Map<string, AnalyzerStatus | undefined>([['10.0.0.1', analyzerStatus([], 1)]]);
  const woken: string[] = [];
  const { p, fetches, advance } = poller(answers, woken);
  p.track('ns/a', { podIP: '10.0.0.1', port: 9090, defectTypes: [] });
  await advance(5);
  assert.deepEqual(woken, ['ns/a'], 'the first answer is news');
  assert.equal(p.latest('ns/a')?.status?.mediaFlowing, true);
  p.start();
  // Frame counters move on every poll; they are not facts of the status.
  for (let frames = 2; frames < 6; frames++) {
    answers.set('10.0.0.1', analyzerStatus([], frames));
    await advance(25);
  }
  assert.deepEqual(woken, ['ns/a'], 'counters alone wake nothing');
  assert.ok(fetches() >= 4, `polled every interval (${fetches()} fetches)`);
  answers.set('10.0.0.1', analyzerStatus(['black'], 7));
  await advance(40);
  assert.deepEqual(woken, ['ns/a', 'ns/a'], 'a black defect wakes it once');
  p.stop();
});

test('an analyzer that does not answer is no news until it did answer; untracked monitors are not polled', async () => {
  const answers = new Map<string, AnalyzerStatus | undefined>();
  const woken: string[] = [];
  const { p, fetches, advance } = poller(answers, woken);
  p.track('ns/b', { podIP: '10.0.0.2', port: 9090, defectTypes: [] });
  p.start();
  await advance(50);
  assert.deepEqual(woken, [], 'still unknown: nothing to tell reconcile');
  answers.set('10.0.0.2', analyzerStatus([], 1));
  await advance(40);
  assert.deepEqual(woken, ['ns/b']);
  p.track('ns/b', undefined);
  const before = fetches();
  await advance(50);
  assert.equal(fetches(), before, 'no polls after untrack');
  assert.equal(p.latest('ns/b'), undefined);
  p.stop();
});

test('a moved analyzer starts over: the old answer is forgotten and the new one asked at once', async () => {
  const answers = new Map<string, AnalyzerStatus | undefined>([
    ['10.0.0.3', analyzerStatus(['freeze'], 1)],
    ['10.0.0.4', analyzerStatus([], 1)],
  ]);
  const woken: string[] = [];
  const { p, advance } = poller(answers, woken, 10_000);
  p.track('ns/c', { podIP: '10.0.0.3', port: 9090, defectTypes: [] });
  await advance(5);
  assert.equal(p.latest('ns/c')?.status?.activeDefects.length, 1);
  p.track('ns/c', { podIP: '10.0.0.4', port: 9090, defectTypes: [] });
  assert.equal(p.latest('ns/c'), undefined, 'nothing known of the new pod yet');
  await advance(5);
  assert.equal(p.latest('ns/c')?.status?.activeDefects.length, 0);
  assert.deepEqual(woken, ['ns/c', 'ns/c']);
  p.stop();
});
