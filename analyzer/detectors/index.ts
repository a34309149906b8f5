/**
 * The detector list: one descriptor per defect type, in defect-table order. Everything else
 * about the set of detectors derives from it: the defect types, the option tables (for the
 * config schema and the CRD), the configuration type and its defaults, the settings the
 * detectors share with the analysis, and the detectors built for one stream. Adding a
 * detector is writing its file and adding one line here.
 */
import { defaultsOf, schemaOf, type OptionValues } from '../options.js';
import { avSyncDetector } from './av_sync.js';
import { blackDetector } from './black.js';
import { blockinessDetector } from './blockiness.js';
import { blurDetector } from './blur.js';
import { clippingDetector } from './clipping.js';
import { corruptionDetector } from './corruption.js';
import { decodeErrorDetector } from './decode_error.js';
import type {
  DefectSink,
  Detector,
  DetectorDescriptor,
  DetectorNeeds,
  DetectorOptionTable,
  SharedSettings,
} from './detector.js';
import { formatChangeDetector } from './format_change.js';
import { freezeDetector } from './freeze.js';
import { loudnessDetector } from './loudness.js';
import { silenceDetector } from './silence.js';
import { stallDetector } from './stall.js';
import { tr101290Priority1Detector, tr101290Priority2Detector } from './tr101290.js';
import { captionsMissingDetector } from './captions_missing.js';
import { cuesMissingDetector } from './cues_missing.js';
import { breakNotReturnedDetector } from './break_not_returned.js';
import { DELIVERY_DETECTORS } from '../delivery/detectors/index.js';

export const DETECTORS = [
  blackDetector,
  freezeDetector,
  silenceDetector,
  loudnessDetector,
  clippingDetector,
  blockinessDetector,
  corruptionDetector,
  blurDetector,
  stallDetector,
  decodeErrorDetector,
  avSyncDetector,
  formatChangeDetector,
  tr101290Priority1Detector,
  tr101290Priority2Detector,
  captionsMissingDetector,
  cuesMissingDetector,
  breakNotReturnedDetector,
  // HLS delivery: fed by the analyzer's HLS client (delivery/), silent on other sources.
  ...DELIVERY_DETECTORS,
] as const;

/** Any list of detector descriptors (the built-in one, or a test's). */
export type DetectorList = readonly DetectorDescriptor[];
export type DefectTypeOf<L extends DetectorList> = L[number]['type'];
/** Each detector's option table, by defect type. */
export type OptionTablesOf<L extends DetectorList> = { [D in L[number] as D['type']]: D['options'] };
/** Each detector's option values, by defect type. */
export type DetectorsConfigOf<L extends DetectorList> = { [D in L[number] as D['type']]: OptionValues<D['options']> };

export type DefectType = DefectTypeOf<typeof DETECTORS>;
export type DetectorsConfig = DetectorsConfigOf<typeof DETECTORS>;

export function defectTypesOf<L extends DetectorList>(list: L): readonly DefectTypeOf<L>[] {
  return list.map((d) => d.type);
}

export function optionTablesOf<L extends DetectorList>(list: L): OptionTablesOf<L> {
  return Object.fromEntries(list.map((d) => [d.type, d.options])) as OptionTablesOf<L>;
}

export function defaultsOfDetectors<L extends DetectorList>(list: L): DetectorsConfigOf<L> {
  return Object.fromEntries(list.map((d) => [d.type, defaultsOf(d.options)])) as DetectorsConfigOf<L>;
}

/** JSON Schema of the config's `detectors` block: one object per defect type, in list order. */
export function detectorsSchemaOf(list: DetectorList): Record<string, unknown> {
  const properties = Object.fromEntries(list.map((d) => [d.type, schemaOf(d.options)]));
  return { type: 'object', additionalProperties: false, properties };
}

/** A detector's own values from a configuration of its list (keyed by its defect type). */
function optionsOf<L extends DetectorList>(
  config: DetectorsConfigOf<L>,
  detector: L[number],
): OptionValues<DetectorOptionTable> {
  const options = (config as Record<string, OptionValues<DetectorOptionTable>>)[detector.type];
  if (options === undefined) throw new Error(`detectors.${detector.type}: missing from the configuration`);
  return options;
}

/**
 * The settings the list's option tables share (SharedSettings), whether or not their detector
 * is enabled. Each must be declared by some detector of the list: a list that leaves one unset
 * is a programming error, refused here rather than guessed.
 */
export function sharedSettingsOf<L extends DetectorList>(list: L, config: DetectorsConfigOf<L>): SharedSettings {
  const shared: Partial<SharedSettings> = {};
  for (const detector of list) Object.assign(shared, detector.shares?.(optionsOf(config, detector)));
  const { blackPictureRatio, darkLumaThreshold, clipLevel, reconnectAfter } = shared;
  if (
    blackPictureRatio === undefined ||
    darkLumaThreshold === undefined ||
    clipLevel === undefined ||
    reconnectAfter === undefined
  ) {
    throw new Error(
      `the detector list (${defectTypesOf(list).join(', ')}) leaves shared settings unset: has only ${Object.keys(shared).join(', ')}`,
    );
  }
  return { blackPictureRatio, darkLumaThreshold, clipLevel, reconnectAfter };
}

/** What the analysis must measure for the enabled detectors. */
export function needsOf<L extends DetectorList>(list: L, config: DetectorsConfigOf<L>): DetectorNeeds {
  const needs: DetectorNeeds = {};
  for (const detector of list) {
    const options = optionsOf(config, detector);
    if (!options.enabled) continue;
    const { drift, corruption, shotCuts } = detector.needs?.(options) ?? {};
    // One stillness meter serves all: the lowest floor re-anchors for every reader of drift.
    if (drift && !(needs.drift && needs.drift.reanchorAbove <= drift.reanchorAbove)) needs.drift = drift;
    if (shotCuts) needs.shotCuts = true;
    // One model run serves all: the shortest stride.
    if (corruption && !(needs.corruption && needs.corruption.stride <= corruption.stride))
      needs.corruption = corruption;
  }
  return needs;
}

/** The enabled detectors of a list, in list order. */
export function createDetectorsOf<L extends DetectorList>(
  list: L,
  config: DetectorsConfigOf<L>,
  sink: DefectSink<DefectTypeOf<L>>,
): Detector<DefectTypeOf<L>>[] {
  const context = { sink, ...sharedSettingsOf(list, config) };
  return list
    .filter((detector) => optionsOf(config, detector).enabled)
    .map((detector) => detector.create(optionsOf(config, detector), context) as Detector<DefectTypeOf<L>>);
}

export const DEFECT_TYPES = defectTypesOf(DETECTORS);
export const DETECTOR_OPTIONS = optionTablesOf(DETECTORS);

export function defaultDetectorsConfig(): DetectorsConfig {
  return defaultsOfDetectors(DETECTORS);
}

/** The enabled detectors, in defect-table order. */
export function createDetectors(config: DetectorsConfig, sink: DefectSink<DefectType>): Detector<DefectType>[] {
  return createDetectorsOf(DETECTORS, config, sink);
}

/** What the analysis sets up for the detectors of a configuration: their shared settings and needs. */
export type DetectorSetup = SharedSettings & DetectorNeeds;

export function detectorSetupOf(config: DetectorsConfig): DetectorSetup {
  return { ...sharedSettingsOf(DETECTORS, config), ...needsOf(DETECTORS, config) };
}
