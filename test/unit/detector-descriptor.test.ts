/**
 * One descriptor per detector: a detector defined here, in the test, joins the list with one
 * line and gets its defect type, its config schema and defaults, and its place among the built
 * detectors without touching any other file. Also what the analysis reads from the detectors
 * (shared settings, needs, gauges) through their descriptors rather than by their names.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Ajv } from 'ajv';
import {
  DefectTracker,
  defineDetector,
  type DefectEvent,
  type DefectSink,
  type Detector,
} from '../../analyzer/detectors/detector.js';
import {
  createDetectors,
  createDetectorsOf,
  DEFECT_TYPES,
  defaultDetectorsConfig,
  defaultsOfDetectors,
  defectTypesOf,
  detectorSetupOf,
  DETECTORS,
  detectorsSchemaOf,
} from '../../analyzer/detectors/index.js';
import type { VideoFeatures } from '../../analyzer/features/types.js';
import { bool, num } from '../../analyzer/options.js';

/** The built-in detectors built by default: all but the opt-in ones (corruption, captions and cues expected). */
const ENABLED_BY_DEFAULT = DEFECT_TYPES.filter(
  (t) => !['corruption', 'captions_missing', 'cues_missing', 'tr101290_priority1', 'tr101290_priority2'].includes(t),
);
const FPS = 30;

/** washout: the picture is washed out (mean luma at or above `level`) for `minDuration`. */
const washoutDetector = defineDetector({
  type: 'washout',
  options: {
    enabled: bool(true, 'Report washed-out pictures'),
    level: num(235, 0, 255, 'Mean luma at or above which a frame is washed out'),
    minDuration: num(2, 0, 3600, 'Shortest washed-out stretch reported', { unit: 's' }),
  },
  create(options, { sink }) {
    const tracker = new DefectTracker('washout', sink, options.minDuration);
    return {
      type: 'washout',
      onVideo({ t, duration, features }) {
        tracker.update(t, duration, features.meanLuma >= options.level, () => ({ meanLuma: features.meanLuma }));
      },
      flush(t) {
        tracker.close(t);
      },
    };
  },
});

/** The built-in list plus the one line that adds a detector. */
const LIST = [...DETECTORS, washoutDetector] as const;

const MOVING: VideoFeatures = { meanLuma: 110, darkRatio: 0.05, diff: 6, detail: 20, blockiness: 1.1 };

/** A sink that keeps the ended events, in order. */
function recorder(): { ended: DefectEvent[]; sink: DefectSink } {
  const ended: DefectEvent[] = [];
  return { ended, sink: { started: () => undefined, ended: (e) => ended.push(e) } };
}

/** Feeds 30 fps frames from `from` to `to` seconds to every detector, features chosen per frame time. */
function feedVideo(
  detectors: readonly Detector[],
  from: number,
  to: number,
  features: (t: number) => VideoFeatures,
): void {
  for (let i = Math.round(from * FPS); i < Math.round(to * FPS); i++) {
    for (const d of detectors) d.onVideo?.({ t: i / FPS, duration: 1 / FPS, features: features(i / FPS) });
  }
}

describe('a detector is one descriptor and one line in the list', () => {
  test('its type follows the defect table, and the config schema has its block with its defaults and ranges', () => {
    assert.deepEqual(defectTypesOf(LIST), [...DEFECT_TYPES, 'washout']);
    const schema = detectorsSchemaOf(LIST) as {
      properties: Record<string, { properties: Record<string, { default: unknown }> }>;
    };
    assert.deepEqual(Object.keys(schema.properties), [...DEFECT_TYPES, 'washout']);
    assert.equal(schema.properties.washout?.properties.level?.default, 235);
    assert.deepEqual(defaultsOfDetectors(LIST).washout, { enabled: true, level: 235, minDuration: 2 });

    const validate = new Ajv().compile(detectorsSchemaOf(LIST));
    assert.equal(validate({ washout: { level: 240, minDuration: 1 } }), true);
    assert.equal(validate({ washout: { level: 300 } }), false, 'level beyond its range');
    assert.equal(validate({ washout: { glare: 1 } }), false, 'an option it does not declare');
  });

  test('built with the others, it receives the frames and reports a 3 s washout from 4.0 s to 7.0 s through the sink', () => {
    const { ended, sink } = recorder();
    const detectors = createDetectorsOf(LIST, defaultsOfDetectors(LIST), sink);
    assert.deepEqual(
      detectors.map((d) => d.type),
      [...ENABLED_BY_DEFAULT, 'washout'],
    );
    feedVideo(detectors, 0, 10, (t) => (t >= 4 - 1e-9 && t < 7 - 1e-9 ? { ...MOVING, meanLuma: 250 } : MOVING));
    for (const d of detectors) d.flush(10);
    const washouts = ended.filter((e) => e.type === 'washout');
    assert.equal(washouts.length, 1, JSON.stringify(ended));
    assert.ok(
      Math.abs(washouts[0]!.start - 4) < 1e-6 && Math.abs((washouts[0]!.end ?? Number.NaN) - 7) < 1e-6,
      JSON.stringify(washouts),
    );
    assert.equal(washouts[0]!.detail?.meanLuma, 250);
  });

  test('disabled in the config, it is not built', () => {
    const config = defaultsOfDetectors(LIST);
    config.washout.enabled = false;
    assert.deepEqual(
      createDetectorsOf(LIST, config, recorder().sink).map((d) => d.type),
      [...ENABLED_BY_DEFAULT],
    );
  });

  test('a list without the detectors that declare the shared settings is refused, naming what it has', () => {
    assert.throws(
      () => createDetectorsOf([washoutDetector], defaultsOfDetectors([washoutDetector]), recorder().sink),
      /detector list \(washout\) leaves shared settings unset/,
    );
  });
});

describe('what the analysis reads from the detectors', () => {
  test("the default setup: black's dark level, clipping's level, stall's reconnect, freeze's drift floor and blur's shot cuts", () => {
    const setup = detectorSetupOf(defaultDetectorsConfig());
    assert.deepEqual(setup, {
      blackPictureRatio: 0.98,
      darkLumaThreshold: 25,
      clipLevel: 10 ** (-1 / 20),
      reconnectAfter: 10,
      drift: { reanchorAbove: 0.255 },
      shotCuts: true,
    });
  });

  test('the corruption model runs only while corruption is enabled, at its stride', () => {
    const config = defaultDetectorsConfig();
    assert.equal(detectorSetupOf(config).corruption, undefined);
    config.corruption.enabled = true;
    config.corruption.stride = 5;
    assert.deepEqual(detectorSetupOf(config).corruption, { stride: 5 });
  });

  test('shared settings hold with their detector disabled; drift is measured only while freeze is enabled', () => {
    const config = defaultDetectorsConfig();
    config.black.enabled = false;
    config.black.pixelThreshold = 0.2;
    config.stall.enabled = false;
    config.stall.reconnectAfter = 30;
    config.freeze.enabled = false;
    const setup = detectorSetupOf(config);
    assert.equal(setup.darkLumaThreshold, 51);
    assert.equal(setup.reconnectAfter, 30);
    assert.equal(setup.drift, undefined);
  });

  test('shot cuts are measured only while blur or blockiness is enabled', () => {
    const config = defaultDetectorsConfig();
    config.blur.enabled = false;
    assert.equal(detectorSetupOf(config).shotCuts, true, 'blockiness still restarts its baseline at cuts');
    config.blockiness.enabled = false;
    assert.equal(detectorSetupOf(config).shotCuts, undefined);
  });

  test('the blur gauge is what a detector exposes: 0 on sharp content, 0.79 once detail falls to a quarter', () => {
    const detectors = createDetectors(defaultDetectorsConfig(), recorder().sink);
    const blurGauges = (): number[] => detectors.flatMap((d) => d.gauges?.().blur ?? []);
    const gaugeNear = (expected: number): void => {
      const gauges = blurGauges();
      assert.ok(
        gauges.length === 1 && Math.abs(gauges[0]! - expected) < 0.01,
        `expected [${expected}], got [${gauges.join(', ')}]`,
      );
    };
    feedVideo(detectors, 0, 10, () => MOVING);
    gaugeNear(0);
    feedVideo(detectors, 10, 11, () => ({ ...MOVING, detail: 5 }));
    // 1 - (5 - 1) / (20 - 1): the detail above the coding noise floor (noiseDetail 1) that is gone.
    gaugeNear(1 - 4 / 19);
  });
});
