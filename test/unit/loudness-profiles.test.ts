import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../../analyzer/config.js';
import { loudnessProfileOf } from '../../analyzer/detectors/loudness.js';

test('the default loudness profile is ebu-r128: -23 LUFS +/-1 LU, -1 dBTP', () => {
  const { loudness } = resolveConfig({}).detectors;
  assert.equal(loudness.profile, 'ebu-r128');
  assert.deepEqual(loudnessProfileOf(loudness), {
    name: 'ebu-r128',
    targetLufs: -23,
    toleranceLu: 1,
    maxTruePeakDbtp: -1,
  });
});

test('atsc-a85 is -24 LKFS +/-2 LU, -2 dBTP; custom takes the programme figures from the options', () => {
  const atsc = resolveConfig({ detectors: { loudness: { profile: 'atsc-a85' } } }).detectors.loudness;
  assert.deepEqual(loudnessProfileOf(atsc), { name: 'atsc-a85', targetLufs: -24, toleranceLu: 2, maxTruePeakDbtp: -2 });
  const custom = resolveConfig({
    detectors: {
      loudness: { profile: 'custom', programmeTargetLufs: -16, programmeToleranceLu: 1.5, maxTruePeakDbtp: -1.5 },
    },
  }).detectors.loudness;
  assert.deepEqual(loudnessProfileOf(custom), {
    name: 'custom',
    targetLufs: -16,
    toleranceLu: 1.5,
    maxTruePeakDbtp: -1.5,
  });
});

test('an unknown profile is refused with the field, the value and the profiles allowed', () => {
  assert.throws(
    () => resolveConfig({ detectors: { loudness: { profile: 'r128' } } }),
    /detectors\.loudness\.profile: "r128" is not allowed; allowed: ebu-r128, atsc-a85, custom/,
  );
  assert.throws(
    () => resolveConfig({ detectors: { loudness: { profile: 'custom', maxTruePeakDbtp: 6 } } }),
    /detectors\.loudness\.maxTruePeakDbtp: 6 is out of range; allowed must be <= 3/,
  );
});

test('custom figures with a named profile are refused, naming the fields and the fix', () => {
  assert.throws(
    () => resolveConfig({ detectors: { loudness: { profile: 'atsc-a85', programmeTargetLufs: -20 } } }),
    /detectors\.loudness\.profile: programmeTargetLufs, programmeToleranceLu and maxTruePeakDbtp apply only to profile custom; set profile: custom/,
  );
});
