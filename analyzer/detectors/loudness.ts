/**
 * loudness: EBU R128 short-term (3 s) loudness stays outside target +/- tolerance
 * (EBU R128: -23 LUFS; +/- 5 LU before anyone would call it a fault) for `minDuration`.
 *
 * The `profile` names the rules a programme is signed off against: its integrated loudness
 * target and tolerance and its maximum true peak.
 * - `ebu-r128`: -23 LUFS +/-1 LU, -1 dBTP. R 128 allows +/-0.5 LU in general and +/-1 LU where
 *   exact normalisation is not achievable (live programmes), the case of a live monitor.
 * - `atsc-a85`: -24 LKFS +/-2 LU, -2 dBTP (ATSC A/85, the CALM Act's reference). A/85 measures
 *   the anchor element (dialogue) where one can be identified; dialogue gating is NOT
 *   implemented here: the whole programme is measured with the BS.1770-4 gates, which A/85
 *   allows when no anchor element is identified.
 * - `custom`: programmeTargetLufs, programmeToleranceLu and maxTruePeakDbtp from this table.
 *
 * Short-term loudness under the absolute gate (-70 LUFS, or -Infinity before 3 s of audio)
 * is silence, which the silence detector reports, not a loudness fault. Such a block is
 * neither good nor bad here, and it ends any loudness run: an active event ends at the
 * first gated block, a pending run is dropped. Merely pausing the run instead would let the
 * fade-out and fade-in windows around a long silence (each briefly below target) add up,
 * across the silence, to a false loudness event.
 */
import { bool, choice, num, type OptionTable, type OptionValues } from '../options.js';
import { DefectTracker, defineDetector, type DefectSink, type Detector } from './detector.js';

export const LOUDNESS_PROFILE_NAMES = ['ebu-r128', 'atsc-a85', 'custom'] as const;
export type LoudnessProfileName = (typeof LOUDNESS_PROFILE_NAMES)[number];

/** What a programme is judged against. */
export interface LoudnessProfile {
  name: LoudnessProfileName;
  /** Integrated loudness target, LUFS (LKFS). */
  targetLufs: number;
  /** Allowed deviation of the integrated loudness either way, LU. */
  toleranceLu: number;
  /** Highest allowed true peak, dBTP. */
  maxTruePeakDbtp: number;
}

export const LOUDNESS_PROFILES: Readonly<Record<Exclude<LoudnessProfileName, 'custom'>, LoudnessProfile>> = {
  'ebu-r128': { name: 'ebu-r128', targetLufs: -23, toleranceLu: 1, maxTruePeakDbtp: -1 },
  'atsc-a85': { name: 'atsc-a85', targetLufs: -24, toleranceLu: 2, maxTruePeakDbtp: -2 },
};

export const loudnessOptions = {
  enabled: bool(true, 'Report programme loudness outside target +/- tolerance'),
  targetLufs: num(-23, -70, 0, 'Target short-term loudness (EBU R128)', { unit: 'LUFS' }),
  toleranceLu: num(5, 0, 40, 'Allowed deviation from the target either way', { unit: 'LU' }),
  minDuration: num(10, 0, 3600, 'Shortest out-of-range stretch reported', { unit: 's' }),
  profile: choice(
    'ebu-r128',
    LOUDNESS_PROFILE_NAMES,
    'Rules a programme is judged against: ebu-r128 (-23 LUFS +/-1 LU, -1 dBTP), atsc-a85 (-24 LKFS +/-2 LU, -2 dBTP; no dialogue gating) or custom (the programme* and maxTruePeakDbtp options)',
  ),
  programmeTargetLufs: num(-23, -70, 0, 'custom profile: integrated loudness target', { unit: 'LUFS' }),
  programmeToleranceLu: num(1, 0, 20, 'custom profile: allowed deviation of the integrated loudness', {
    unit: 'LU',
  }),
  maxTruePeakDbtp: num(-1, -20, 3, 'custom profile: highest allowed true peak', { unit: 'dBTP' }),
  reportPeriod: num(
    3600,
    0,
    604800,
    'Length of a programme loudness report (integrated, LRA, max true peak), judged against the profile; 0: only markers and the end of input close one',
    { unit: 's' },
  ),
} satisfies OptionTable;

export type LoudnessOptions = OptionValues<typeof loudnessOptions>;

/** The profile the options name, with the custom figures filled in for `custom`. */
export function loudnessProfileOf(options: LoudnessOptions): LoudnessProfile {
  if (options.profile !== 'custom') return LOUDNESS_PROFILES[options.profile];
  return {
    name: 'custom',
    targetLufs: options.programmeTargetLufs,
    toleranceLu: options.programmeToleranceLu,
    maxTruePeakDbtp: options.maxTruePeakDbtp,
  };
}

/** EBU R128 / ITU-R BS.1770 absolute gate: below it a block does not count as programme. */
export const ABSOLUTE_GATE_LUFS = -70;

export function createLoudnessDetector(options: LoudnessOptions, sink: DefectSink<'loudness'>): Detector<'loudness'> {
  const tracker = new DefectTracker('loudness', sink, options.minDuration);
  const profile = loudnessProfileOf(options);
  return {
    type: 'loudness',
    onAudio({ t, duration, shortTermLufs }) {
      if (!(shortTermLufs >= ABSOLUTE_GATE_LUFS)) {
        tracker.close(t);
        return;
      }
      const deviation = shortTermLufs - options.targetLufs;
      tracker.update(t, duration, Math.abs(deviation) > options.toleranceLu, () => ({
        shortTermLufs,
        targetLufs: options.targetLufs,
        direction: deviation < 0 ? 'too quiet' : 'too loud',
      }));
    },
    onLoudnessPeriod(period) {
      // The programme rule: the period's integrated loudness against the profile. A period
      // with nothing above the gates is silence, the silence detector's business. The rest of
      // a finite input after its last full period is reported but not judged: it is no whole
      // programme (a 30 s clip is not an hour that missed its target).
      const { integratedLufs } = period;
      if (integratedLufs === null || period.closedBy === 'end') return;
      const deviation = integratedLufs - profile.targetLufs;
      if (Math.abs(deviation) <= profile.toleranceLu) return;
      const event = {
        type: 'loudness' as const,
        start: period.start,
        end: null,
        detail: {
          rule: 'programme',
          profile: profile.name,
          integratedLufs,
          targetLufs: profile.targetLufs,
          toleranceLu: profile.toleranceLu,
          ...(period.loudnessRangeLu === null ? {} : { loudnessRangeLu: period.loudnessRangeLu }),
          ...(period.maxTruePeakDbtp === null ? {} : { maxTruePeakDbtp: period.maxTruePeakDbtp }),
          direction: deviation < 0 ? 'too quiet' : 'too loud',
        },
      };
      sink.started(event);
      sink.ended({ ...event, end: period.end });
    },
    flush(t) {
      tracker.close(t);
    },
  };
}

export const loudnessDetector = defineDetector({
  type: 'loudness',
  options: loudnessOptions,
  create: (options, { sink }) => createLoudnessDetector(options, sink),
});
