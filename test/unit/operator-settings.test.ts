// The operator's flags and their environment fallbacks (operator/main.ts parseSettings).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseSettings } from '../../operator/main.js';

describe('operator settings', () => {
  it('defaults: whole cluster, 16 at once, poll every 15 s, heap growth 25 %', () => {
    const s = parseSettings([], {});
    assert.deepEqual(s.namespaces, []);
    assert.equal(s.concurrency, 16);
    assert.equal(s.pollMs, 15_000);
    assert.equal(s.heapGrowingPercent, 25);
  });

  it('takes the heap growth from the environment, a flag over that, and 0 for V8 left alone', () => {
    assert.equal(parseSettings([], { STREAMQC_HEAP_GROWING_PERCENT: '30' }).heapGrowingPercent, 30);
    assert.equal(parseSettings(['--heap-growing-percent', '0'], { STREAMQC_HEAP_GROWING_PERCENT: '30' }).heapGrowingPercent, 0);
    assert.deepEqual(parseSettings(['--namespaces', 'a, b'], {}).namespaces, ['a', 'b']);
  });

  it('names the flag of a bad value', () => {
    assert.throws(() => parseSettings(['--heap-growing-percent', 'lots'], {}), /--heap-growing-percent: "lots"/);
    assert.throws(() => parseSettings([], { STREAMQC_HEAP_GROWING_PERCENT: '-5' }), /--heap-growing-percent: "-5"/);
    assert.throws(() => parseSettings(['--poll-seconds', '-1'], {}), /--poll-seconds/);
  });
});
