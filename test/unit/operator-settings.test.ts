// The operator's flags and their environment fallbacks (operator/main.ts parseSettings).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parseSettings } from '../../operator/main.js';

const OPERATOR = fileURLToPath(new URL('../../operator/main.js', import.meta.url));

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
    assert.equal(
      parseSettings(['--heap-growing-percent', '0'], { STREAMQC_HEAP_GROWING_PERCENT: '30' }).heapGrowingPercent,
      0,
    );
    assert.deepEqual(parseSettings(['--namespaces', 'a, b'], {}).namespaces, ['a', 'b']);
  });

  it('names the flag of a bad value', () => {
    assert.throws(() => parseSettings(['--heap-growing-percent', 'lots'], {}), /--heap-growing-percent: "lots"/);
    assert.throws(() => parseSettings([], { STREAMQC_HEAP_GROWING_PERCENT: '-5' }), /--heap-growing-percent: "-5"/);
    assert.throws(() => parseSettings(['--poll-seconds', '-1'], {}), /--poll-seconds/);
  });

  it('takes the log level from STREAMQC_LOG_LEVEL in any case, info by default', () => {
    assert.equal(parseSettings([], {}).logLevel, 'info');
    assert.equal(parseSettings([], { STREAMQC_LOG_LEVEL: 'WARN' }).logLevel, 'warn');
  });

  it('an unknown STREAMQC_LOG_LEVEL ends the operator with exit 2 and one JSON line naming it', () => {
    const r = spawnSync(process.execPath, [OPERATOR], {
      env: { ...process.env, STREAMQC_LOG_LEVEL: 'bogus' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.split('\n').filter((l) => l.length > 0);
    assert.equal(lines.length, 1, lines.join('\n'));
    const line = JSON.parse(lines[0] ?? '') as { msg: string; exitCode: number };
    assert.equal(line.exitCode, 2);
    assert.match(
      line.msg,
      /^STREAMQC_LOG_LEVEL: "bogus" is not a log level; allowed: fatal, error, warn, info, debug, trace, silent$/,
    );
  });
});
