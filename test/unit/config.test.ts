import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, defaultConfig, loadConfigFile, MAX_CONFIG_BYTES, resolveConfig } from '../../analyzer/config.js';
import { DETECTOR_OPTIONS } from '../../analyzer/detectors/index.js';
import { DEFECT_TYPES } from '../../analyzer/detectors/types.js';

const dir = mkdtempSync(join(tmpdir(), 'streamqc-config-'));

/** A config file with this text, as --config would read it. */
function configFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function rejects(doc: unknown, pattern: RegExp): void {
  rejectsWith(() => resolveConfig(doc), pattern);
}

function rejectsWith(load: () => unknown, pattern: RegExp): void {
  assert.throws(load, (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, pattern);
    return true;
  });
}

test('an empty document is a complete config with every detector enabled but the opt-in ones (corruption, captions_missing, cues_missing, TR 101 290)', () => {
  const c = resolveConfig({});
  assert.deepEqual(c, defaultConfig());
  for (const type of DEFECT_TYPES) {
    assert.ok(type in DETECTOR_OPTIONS, `${type} has an option table`);
    // corruption is opt-in until its model meets issue 13's targets (analyzer/detectors/corruption.ts).
    // captions_missing and cues_missing: only a monitor that expects captions or cues asks for them.
    const optIn = ['corruption', 'captions_missing', 'cues_missing', 'tr101290_priority1', 'tr101290_priority2'];
    assert.equal(c.detectors[type].enabled, !optIn.includes(type), `${type} enabled by default`);
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
  rejects(
    { detectors: { black: { pictureRatio: 1.5 } } },
    /detectors\.black\.pictureRatio: 1\.5 is out of range; allowed must be <= 1/,
  );
  rejects(
    { detectors: { freeze: { minDuration: 'long' } } },
    /detectors\.freeze\.minDuration: "long" is not of type number/,
  );
  rejects({ detectors: { nosuch: {} } }, /detectors\.nosuch: unknown field/);
  rejects({ http: { port: 70000 } }, /http\.port: 70000 is out of range/);
  rejects(
    { ingest: { reconnectInitialDelay: 10, reconnectMaxDelay: 5 } },
    /ingest\.reconnectMaxDelay: reconnectMaxDelay must be at least reconnectInitialDelay \(got reconnectMaxDelay 5, reconnectInitialDelay 10\)/,
  );
  rejects([1, 2], /not a mapping/);
});

test('Infinity and NaN are named as what they are, not as null', () => {
  rejects(
    { detectors: { black: { pictureRatio: Infinity } } },
    /detectors\.black\.pictureRatio: Infinity is not of type number/,
  );
  rejects({ ingest: { maxLag: -Infinity } }, /ingest\.maxLag: -Infinity is not of type number/);
  rejects({ detectors: { freeze: { minDuration: NaN } } }, /detectors\.freeze\.minDuration: NaN is not of type number/);
  const yaml = configFile(
    'non-finite.yaml',
    'detectors:\n  black:\n    pictureRatio: .inf\n  silence:\n    minDuration: .nan\n',
  );
  rejectsWith(
    () => loadConfigFile(yaml),
    /detectors\.black\.pictureRatio: Infinity is not of type number\n {2}detectors\.silence\.minDuration: NaN is not of type number/,
  );
});

test('an offending long value is echoed cut to 80 characters with its length, not whole', () => {
  const huge = 'x'.repeat(1_000_000);
  assert.throws(
    () => resolveConfig({ detectors: { black: { minDuration: huge } } }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(
        err.message,
        `invalid config:\n  detectors.black.minDuration: "${'x'.repeat(79)}... (1000002 characters) is not of type number`,
      );
      return true;
    },
  );
  rejects({ [huge]: 1 }, new RegExp(`^invalid config:\\n  x{80}\\.\\.\\. \\(1000000 characters\\): unknown field$`));
});

test('a document with thousands of unknown fields lists the first 20 and counts the rest', () => {
  const black = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]));
  assert.throws(
    () => resolveConfig({ detectors: { black } }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const lines = err.message.split('\n');
      assert.equal(lines.length, 1 + 20 + 1);
      assert.equal(lines[1], '  detectors.black.k0: unknown field');
      assert.equal(lines[21], '  ... and 4980 more');
      return true;
    },
  );
});

test('YAML tags outside plain YAML are refused, naming the tag and its line', () => {
  const fn = configFile(
    'function.yaml',
    'detectors:\n  black:\n    minDuration: !!js/function "function () { return 2 }"\n',
  );
  rejectsWith(
    () => loadConfigFile(fn),
    /function\.yaml: line 3: unknown YAML tag !!js\/function; allowed: plain YAML or JSON \(tags !!str, !!int/,
  );
  const custom = configFile('custom.yaml', 'stream: !foo news\n');
  rejectsWith(() => loadConfigFile(custom), /custom\.yaml: line 1: unknown YAML tag !foo;/);
  const binary = configFile('binary.yaml', 'stream: !!binary bmV3cw==\n');
  rejectsWith(() => loadConfigFile(binary), /binary\.yaml: line 1: unknown YAML tag !!binary;/);
  const plain = configFile(
    'plain-tags.yaml',
    'stream: !!str 42\ndetectors:\n  black: !!map\n    minDuration: !!float 3.5\n',
  );
  const config = loadConfigFile(plain);
  assert.equal(config.stream, '42');
  assert.equal(config.detectors.black.minDuration, 3.5);
});

test('a config file over 64 KiB is refused by its size before it is parsed', () => {
  // 50,000 keys: parsing this took 43 s before the limit.
  const keys = Array.from({ length: 50_000 }, (_, i) => `    k${i}: ${i}\n`).join('');
  const big = configFile('big.yaml', `detectors:\n  black:\n${keys}`);
  rejectsWith(
    () => loadConfigFile(big),
    /big\.yaml: the file is 877800 bytes; the limit is 65536 bytes \(64 KiB; a complete config is about 2 KB\)$/,
  );
  const atLimit = configFile('at-limit.yaml', `stream: news\n${'#'.repeat(MAX_CONFIG_BYTES - 14)}\n`);
  assert.equal(loadConfigFile(atLimit).stream, 'news');
  const overByOne = configFile('over-by-one.yaml', `stream: news\n${'#'.repeat(MAX_CONFIG_BYTES - 13)}\n`);
  rejectsWith(() => loadConfigFile(overByOne), /the file is 65537 bytes; the limit is 65536 bytes/);
});

test('a config path that is a directory or missing is a clear error', () => {
  rejectsWith(() => loadConfigFile(dir), /cannot read the file \(EISDIR\)/);
  rejectsWith(() => loadConfigFile(join(dir, 'nope.yaml')), /nope\.yaml: cannot read the file \(ENOENT\)/);
});
