import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { LatestGauge } from '../../analyzer/report/metrics.js';

function gauge(): { registry: Registry; g: LatestGauge } {
  const registry = new Registry();
  const g = new LatestGauge({
    name: 'test_loudness',
    help: 'h',
    labelNames: ['stream', 'window'],
    registers: [registry],
  });
  return { registry, g };
}

test('a per-frame gauge shows no series before its first value', async () => {
  const { registry } = gauge();
  assert.doesNotMatch(await registry.metrics(), /^test_loudness\{/m);
});

test('a scrape shows the latest value of each series, however many frames set it in between', async () => {
  const { registry, g } = gauge();
  for (let i = 1; i <= 100; i++) {
    g.setLatest({ stream: 's', window: 'momentary' }, -i);
    g.setLatest({ stream: 's', window: 'short_term' }, i);
  }
  const text = await registry.metrics();
  assert.match(text, /^test_loudness\{stream="s",window="momentary"\} -100$/m);
  assert.match(text, /^test_loudness\{stream="s",window="short_term"\} 100$/m);
  // Later frames move it again; a series not set since keeps its last value.
  g.setLatest({ stream: 's', window: 'momentary' }, -7);
  const values = (await g.get()).values.map((v) => [v.labels.window, v.value]);
  assert.deepEqual(values.sort(), [
    ['momentary', -7],
    ['short_term', 100],
  ]);
});
