/**
 * cues_missing: no SCTE-35 splice_info_section (any command, splice_null heartbeats included)
 * nor HLS playlist cue tag (EXT-X-CUE-OUT/IN, EXT-X-DATERANGE SCTE35-OUT/IN) has come for
 * `missingAfter` seconds. Off by default: only feeds that carry ad markers have them.
 */
import { bool, num, type OptionTable } from '../options.js';
import { defineDetector } from './detector.js';
import { createAbsenceDetector } from './signal-absence.js';
import { isCue } from '../transport/cues.js';

export const cuesMissingOptions = {
  enabled: bool(false, 'Report when no SCTE-35 cue has come for a while (MPEG-TS sources)'),
  missingAfter: num(3600, 1, 604800, 'Time without any SCTE-35 cue before it is a defect', { unit: 's' }),
} satisfies OptionTable;

export const cuesMissingDetector = defineDetector({
  type: 'cues_missing',
  options: cuesMissingOptions,
  create: (options, { sink }) => createAbsenceDetector('cues_missing', options.missingAfter, isCue, sink, true),
});
