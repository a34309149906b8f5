/**
 * For each cross-field rule (analyzer/cross-field-rules.ts, keyed by its CEL), documents that
 * break it and documents right at its boundary that keep it. The unit test runs them through
 * resolveConfig, the integration test through the real API server: both sides must agree.
 * A case that sets only one field breaks the rule through the other field's default.
 */
export interface CrossFieldCase {
  /** Spec/config fragments the rule refuses. */
  breaks: Record<string, unknown>[];
  /** Fragments at the rule's boundary that it accepts. */
  keeps: Record<string, unknown>[];
}

export const CROSS_FIELD_CASES: Readonly<Record<string, CrossFieldCase>> = {
  'self.targetLufs - self.toleranceLu >= -70.0': {
    breaks: [
      { detectors: { loudness: { targetLufs: -60, toleranceLu: 20 } } },
      { detectors: { loudness: { targetLufs: -68 } } },
    ],
    keeps: [{ detectors: { loudness: { targetLufs: -65, toleranceLu: 5 } } }],
  },
  'self.targetLufs + self.toleranceLu <= 0.0': {
    breaks: [
      { detectors: { loudness: { targetLufs: -3, toleranceLu: 5 } } },
      { detectors: { loudness: { targetLufs: -2 } } },
    ],
    keeps: [{ detectors: { loudness: { targetLufs: -5, toleranceLu: 5 } } }],
  },
  "self.profile == 'custom' || (self.programmeTargetLufs == -23.0 && self.programmeToleranceLu == 1.0 && self.maxTruePeakDbtp == -1.0)":
    {
      breaks: [
        { detectors: { loudness: { programmeTargetLufs: -24 } } },
        { detectors: { loudness: { profile: 'atsc-a85', maxTruePeakDbtp: -2 } } },
      ],
      keeps: [
        { detectors: { loudness: { profile: 'custom', programmeTargetLufs: -24, maxTruePeakDbtp: -2 } } },
        { detectors: { loudness: { profile: 'atsc-a85' } } },
      ],
    },
  'self.reconnectAfter >= self.minDuration': {
    breaks: [
      { detectors: { stall: { minDuration: 20, reconnectAfter: 5 } } },
      { detectors: { stall: { minDuration: 11 } } },
    ],
    keeps: [{ detectors: { stall: { minDuration: 5, reconnectAfter: 5 } } }],
  },
  'self.reconnectMaxDelay >= self.reconnectInitialDelay': {
    breaks: [
      { ingest: { reconnectInitialDelay: 10, reconnectMaxDelay: 1 } },
      { ingest: { reconnectInitialDelay: 31 } },
    ],
    keeps: [{ ingest: { reconnectInitialDelay: 10, reconnectMaxDelay: 10 } }],
  },
};
