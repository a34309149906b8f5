/**
 * Every detector of the defect table, by defect type: their option tables (for the config
 * schema and the CRD), the configuration they take, and the factory that builds the
 * enabled ones for one stream.
 */
import { defaultsOf, type OptionTable, type OptionValues } from '../options.js';
import { avSyncOptions, createAvSyncDetector } from './av_sync.js';
import { blackOptions, createBlackDetector } from './black.js';
import { blockinessOptions, createBlockinessDetector } from './blockiness.js';
import { blurOptions, createBlurDetector } from './blur.js';
import { clippingOptions, createClippingDetector } from './clipping.js';
import { createDecodeErrorDetector, decodeErrorOptions } from './decode_error.js';
import { createFormatChangeDetector, formatChangeOptions } from './format_change.js';
import { createFreezeDetector, freezeOptions } from './freeze.js';
import { createLoudnessDetector, loudnessOptions } from './loudness.js';
import { createSilenceDetector, silenceOptions } from './silence.js';
import { createStallDetector, stallOptions } from './stall.js';
import { DEFECT_TYPES, type DefectSink, type DefectType, type Detector } from './types.js';

export const DETECTOR_OPTIONS = {
  black: blackOptions,
  freeze: freezeOptions,
  silence: silenceOptions,
  loudness: loudnessOptions,
  clipping: clippingOptions,
  blockiness: blockinessOptions,
  blur: blurOptions,
  stall: stallOptions,
  decode_error: decodeErrorOptions,
  av_sync: avSyncOptions,
  format_change: formatChangeOptions,
} as const satisfies Record<DefectType, OptionTable>;

export type DetectorsConfig = { [T in DefectType]: OptionValues<(typeof DETECTOR_OPTIONS)[T]> };

export function defaultDetectorsConfig(): DetectorsConfig {
  return {
    black: defaultsOf(blackOptions),
    freeze: defaultsOf(freezeOptions),
    silence: defaultsOf(silenceOptions),
    loudness: defaultsOf(loudnessOptions),
    clipping: defaultsOf(clippingOptions),
    blockiness: defaultsOf(blockinessOptions),
    blur: defaultsOf(blurOptions),
    stall: defaultsOf(stallOptions),
    decode_error: defaultsOf(decodeErrorOptions),
    av_sync: defaultsOf(avSyncOptions),
    format_change: defaultsOf(formatChangeOptions),
  };
}

/** The enabled detectors, in defect-table order. */
export function createDetectors(config: DetectorsConfig, sink: DefectSink): Detector[] {
  // Freeze, blur and blockiness skip black pictures by the black detector's own measure,
  // whether or not black itself is reported.
  const blackRatio = config.black.pictureRatio;
  const factories: { [T in DefectType]: () => Detector } = {
    black: () => createBlackDetector(config.black, sink),
    freeze: () => createFreezeDetector(config.freeze, sink, blackRatio),
    silence: () => createSilenceDetector(config.silence, sink),
    loudness: () => createLoudnessDetector(config.loudness, sink),
    clipping: () => createClippingDetector(config.clipping, sink),
    blockiness: () => createBlockinessDetector(config.blockiness, sink, blackRatio),
    blur: () => createBlurDetector(config.blur, sink, blackRatio),
    stall: () => createStallDetector(config.stall, sink),
    decode_error: () => createDecodeErrorDetector(config.decode_error, sink),
    av_sync: () => createAvSyncDetector(config.av_sync, sink),
    format_change: () => createFormatChangeDetector(config.format_change, sink),
  };
  return DEFECT_TYPES.filter((type) => config[type].enabled).map((type) => factories[type]());
}
