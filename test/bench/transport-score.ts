/**
 * Scoring of the transport bench: what the fault injector put in a clip (the truth: a check, a
 * time and, where it names one, a PID) against what the checker reported. One finding matches
 * one truth of the same check and PID within the tolerance; precision is matched findings over
 * findings, recall matched truths over truths, per check.
 */

export interface Marker {
  /** A TR 101 290 check name, or a cue / caption check (`cue_out`, `cue_in`, `captions`). */
  check: string;
  /** Seconds on the clip's timeline (its PCRs). */
  t: number;
  /** The PID it concerns; null: any (or none). */
  pid: number | null;
}

export interface CheckScore {
  check: string;
  truth: number;
  found: number;
  matched: number;
  precision: number;
  recall: number;
}

/**
 * How far a finding may be from its truth. Instant errors are timed by the packet that carries
 * them, lasting ones by the period the report sets (e.g. 40 ms after the last PCR); the checker's
 * file clock between PCRs is the byte rate, good to a few milliseconds at constant rate. 0.1 s
 * is far above that and far below the spacing of the injected faults (at least 0.5 s).
 */
export const MATCH_TOLERANCE_SECONDS = 0.1;

/** Greedy one-to-one matching in time order: each truth takes the nearest unmatched finding. */
export function matchCount(truth: readonly Marker[], found: readonly Marker[], tolerance: number): number {
  const used = new Set<number>();
  let matched = 0;
  for (const t of [...truth].sort((a, b) => a.t - b.t)) {
    let best = -1;
    let bestGap = Infinity;
    found.forEach((f, i) => {
      if (used.has(i) || f.check !== t.check) return;
      if (t.pid !== null && f.pid !== t.pid) return;
      const gap = Math.abs(f.t - t.t);
      if (gap <= tolerance && gap < bestGap) {
        best = i;
        bestGap = gap;
      }
    });
    if (best >= 0) {
      used.add(best);
      matched++;
    }
  }
  return matched;
}

/** Scores per check over every scenario; a check with no truth and no finding is not listed. */
export function scoreChecks(
  scenarios: readonly { truth: readonly Marker[]; found: readonly Marker[] }[],
  tolerance = MATCH_TOLERANCE_SECONDS,
): CheckScore[] {
  const totals = new Map<string, { truth: number; found: number; matched: number }>();
  const total = (check: string): { truth: number; found: number; matched: number } => {
    let t = totals.get(check);
    if (!t) {
      t = { truth: 0, found: 0, matched: 0 };
      totals.set(check, t);
    }
    return t;
  };
  for (const s of scenarios) {
    const checks = new Set([...s.truth, ...s.found].map((m) => m.check));
    for (const check of checks) {
      const truth = s.truth.filter((m) => m.check === check);
      const found = s.found.filter((m) => m.check === check);
      const t = total(check);
      t.truth += truth.length;
      t.found += found.length;
      t.matched += matchCount(truth, found, tolerance);
    }
  }
  return [...totals.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([check, t]) => ({
      check,
      ...t,
      // No finding: nothing was wrong (precision 1); no truth: nothing to miss (recall 1).
      precision: t.found === 0 ? 1 : t.matched / t.found,
      recall: t.truth === 0 ? 1 : t.matched / t.truth,
    }));
}
