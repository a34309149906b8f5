import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, defaultConfig, resolveConfig } from '../../analyzer/config.js';
import { DETECTOR_OPTIONS } from '../../analyzer/detectors/index.js';
import { DEFECT_TYPES } from '../../analyzer/detectors/types.js';

function rejects(doc: unknown, pattern: RegExp): void {
  assert.throws(() => resolveConfig(doc), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, pattern);
    return true;
  });
}

test('an empty document is a complete config with every detector enabled', () => {
  const c = resolveConfig({});
  assert.deepEqual(c, defaultConfig());
  for (const type of DEFECT_TYPES) {
    assert.ok(type in DETECTOR_OPTIONS, `${type} has an option table`);
    assert.equal(c.detectors[type].enabled, true, `${type} enabled by default`);
  }
  assert.equal(c.detectors.black.minDuration, 2);
  assert.equal(c.detectors.black.pictureRatio, 0.98);
  assert.equal(c.detectors.stall.minDuration, 3);
  assert.equal(c.detectors.loudness.targetLufs, -23);
});

test('given fields override defaults and the rest stay', () => {
  const c = resolveConfig({ detectors: { black: { minDuration: 5 } }, ingest: { maxLag: 1 } });
  assert.equal(c.detectors.black.minDuration, 5);
  assert.equal(c.detectors.black.pictureRatio, 0.98);
  assert.equal(c.ingest.maxLag, 1);
  assert.equal(c.ingest.ioTimeout, defaultConfig().ingest.ioTimeout);
});

test('errors name the field, the value and what is allowed', () => {
  rejects({ detectors: { black: { pictureRatio: 1.5 } } }, /detectors\.black\.pictureRatio: 1\.5 is out of range; allowed must be <= 1/);
  rejects({ detectors: { freeze: { minDuration: 'long' } } }, /detectors\.freeze\.minDuration: "long" is not of type number/);
  rejects({ detectors: { nosuch: {} } }, /detectors\.nosuch: unknown field/);
  rejects({ http: { port: 70000 } }, /http\.port: 70000 is out of range/);
  rejects({ ingest: { reconnectInitialDelay: 10, reconnectMaxDelay: 5 } }, /ingest\.reconnectMaxDelay: 5 is below ingest\.reconnectInitialDelay \(10\)/);
  rejects([1, 2], /not a mapping/);
});
