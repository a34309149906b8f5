/**
 * The defect vocabulary: the defect types of the detector list (detectors/index.ts) and the
 * shapes of detector.ts bound to them, as the rest of the analyzer and the operator use them.
 */
import type * as detector from './detector.js';
import type { DefectType } from './index.js';

export { DEFECT_TYPES, type DefectType } from './index.js';
export type { AudioObservation, StreamFormat, VideoObservation } from './detector.js';

export type DefectEvent = detector.DefectEvent<DefectType>;
export type DefectSink = detector.DefectSink<DefectType>;
export type Detector = detector.Detector<DefectType>;
