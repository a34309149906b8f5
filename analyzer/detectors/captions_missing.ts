/**
 * captions_missing: the monitor expects closed captions (CEA-608/708 in the video's A/53 user
 * data) and none have come for `missingAfter` seconds. Off by default: most streams carry none.
 */
import { bool, num, type OptionTable } from '../options.js';
import { defineDetector } from './detector.js';
import { createAbsenceDetector } from './signal-absence.js';

export const captionsMissingOptions = {
  enabled: bool(false, 'Report when the expected captions are absent (MPEG-TS sources)'),
  missingAfter: num(10, 1, 86400, 'Time without caption data before it is a defect', { unit: 's' }),
} satisfies OptionTable;

export const captionsMissingDetector = defineDetector({
  type: 'captions_missing',
  options: captionsMissingOptions,
  create: (options, { sink }) =>
    createAbsenceDetector('captions_missing', options.missingAfter, (e) => e.kind === 'captions', sink),
});
