/**
 * Event-level scoring of a tool's defect events against a corpus's ground truth. Pure: no
 * I/O, so the matching rules are tested on their own (test/unit/accuracy-score.test.ts).
 *
 * Rules, applied identically to every tool:
 * - Fragments: detected events of one type on one clip separated by less than
 *   FRAGMENT_GAP_SECONDS are merged before matching. A tool that splits one defect in two
 *   (a keyframe inside a freeze, one loud block inside a silence) reported one incident to
 *   an operator twice; scoring the halves as a hit plus a false positive would punish a
 *   detail of hysteresis rather than a wrong answer. Truth is never merged.
 * - A match: same type, same clip, the intervals overlap, and |detected.start - truth.start|
 *   is at most the type's onset tolerance. An instant event (end - start < INSTANT_SECONDS,
 *   e.g. format_change with start = end) is widened to [start - tol, start + tol], so for it
 *   the onset test alone decides.
 * - One-to-one, greedy by smallest |onset error| over all admissible pairs of a clip. Greedy
 *   rather than Hungarian: in the corpus, events of one type on one clip lie several
 *   seconds apart, more than twice any tolerance, so a truth event has at most one admissible
 *   detection and greedy finds the same matching; where it could differ (two detections
 *   near one truth), taking the closer onset is the answer a person checking by eye gives.
 * - Empty sets: precision is 1 when a tool reported nothing (it made no false claim), recall
 *   is 1 when there was nothing to find; F1 is 2PR/(P+R), 0 when P+R is 0. So a type with
 *   neither truth nor detections scores 1/1/1, and missing every event scores P=1, R=0, F1=0.
 * - Don't-care regions: a clip may name stretches where a type's detections are neither right
 *   nor wrong (ClipEvents.dontCare). A detection that matches no truth but overlaps one is
 *   left out of the counts instead of being a false positive. Used where the corpus cannot
 *   know the truth: a live sender stopped and restarted mid-stream leaves a torn packet and a
 *   GOP without its keyframe, so real decode errors may or may not follow each outage.
 * - Onset error statistics are over matched pairs, signed as detected - truth for the mean
 *   and median (they show a bias: a tool that reports late), as |error| for p95 and max.
 *   NaN when nothing matched (JSON writes it as null).
 */
import type { AccuracyResult, DefectEvent, DefectType, TypeScore } from './types.js';

/** Detected events of one type closer than this are one incident (see above). */
export const FRAGMENT_GAP_SECONDS = 0.5;

/** An event shorter than this is an instant (format_change). */
export const INSTANT_SECONDS = 1e-3;

/**
 * Largest |onset error| of a match, per type, and why. Onsets are compared, not ends: when a
 * defect started is what an operator acts on, and ends are bounded by the overlap test.
 */
export const TOLERANCES: AccuracyResult['tolerances'] = {
  black: {
    onsetSeconds: 0.5,
    why: 'frame-accurate on both sides; 0.5 s covers decoder start and A/V interleaving, still far below the 2 s minimum duration',
  },
  freeze: {
    onsetSeconds: 2,
    why: 'the minimum duration (2 s): an encoder keeps refining a still picture over its GOP, so the first bit-identical decoded frame may come up to a GOP after the injected freeze, and a tool may report from there',
  },
  silence: { onsetSeconds: 0.5, why: 'sample-accurate; 0.5 s covers AAC framing and priming delay' },
  loudness: {
    onsetSeconds: 4,
    why: 'short-term loudness is a 3 s window: a -20 dB step crosses -28 LUFS ~2.1 s after it, a gradual change later; 4 s = window + margin',
  },
  clipping: {
    onsetSeconds: 0.5,
    why: 'sample-accurate; 0.5 s covers codec framing (clipping is smeared over an AAC frame)',
  },
  blockiness: {
    onsetSeconds: 1,
    why: 'one GOP (1 s): damaged packets are chosen in decode order and their damage shows in the frames that reference them until the next keyframe',
  },
  corruption: {
    onsetSeconds: 1,
    why: 'one GOP (1 s), as blockiness: concealed damage shows until the next keyframe, and the model runs on every third frame',
  },
  blur: {
    onsetSeconds: 1,
    why: 'frame-accurate injection; 1 s lets a baseline-relative detector cross its ratio on a gradual softening',
  },
  stall: {
    onsetSeconds: 1.5,
    why: 'the sender is stopped from outside: its UDP buffers, its restart latency and a sub-second ingest read timeout put the last media up to ~1 s from the scheduled stop',
  },
  decode_error: {
    onsetSeconds: 1,
    why: 'one GOP: damage is injected per packet in decode order, and reordering (B-frames) or concealment shifts where the decoder reports it',
  },
  av_sync: {
    onsetSeconds: 1,
    why: 'the offset is measured from timestamps of both streams, which interleave in ~0.5 s muxing chunks; 1 s covers that',
  },
  format_change: {
    onsetSeconds: 1,
    why: 'a change takes effect at a keyframe / segment boundary and the decoder reports it on the first frame of the new format: one GOP',
  },
};

/** One clip's events of one kind (truth or one tool's detections). */
export interface ClipEvents {
  clip: string;
  events: DefectEvent[];
  /** Truth side only: where detections of an event's type count neither way (see above). */
  dontCare?: DefectEvent[];
}

export interface MatchedPair {
  truth: DefectEvent;
  detected: DefectEvent;
  /** detected.start - truth.start, seconds. */
  onsetError: number;
}

export interface ClipMatch {
  clip: string;
  type: DefectType;
  matches: MatchedPair[];
  /** Truth events no detection matched. */
  misses: DefectEvent[];
  /** Detected events (after merging fragments) that matched no truth. */
  falsePositives: DefectEvent[];
  /** Detected events that matched no truth inside a don't-care region: not counted. */
  ignored: DefectEvent[];
}

/** Detected events of one type with fragments closer than FRAGMENT_GAP_SECONDS merged. */
export function mergeFragments(events: readonly DefectEvent[]): DefectEvent[] {
  const sorted = [...events].sort((a, b) => a.start - b.start || a.end - b.end);
  const out: DefectEvent[] = [];
  for (const e of sorted) {
    const last = out[out.length - 1];
    if (last?.type === e.type && e.start - last.end < FRAGMENT_GAP_SECONDS) {
      last.end = Math.max(last.end, e.end);
    } else {
      out.push({ ...e });
    }
  }
  return out;
}

/** The interval an event occupies for the overlap test (instants widened by the tolerance). */
function span(e: DefectEvent, tolerance: number): [number, number] {
  if (e.end - e.start < INSTANT_SECONDS) return [e.start - tolerance, e.start + tolerance];
  return [e.start, e.end];
}

function overlaps(a: DefectEvent, b: DefectEvent, tolerance: number): boolean {
  const [as, ae] = span(a, tolerance);
  const [bs, be] = span(b, tolerance);
  return as < be && bs < ae;
}

/** Matches one clip's events of `type`: truth as given, detections with fragments merged. */
export function matchClip(
  type: DefectType,
  clip: string,
  truth: readonly DefectEvent[],
  detected: readonly DefectEvent[],
  tolerance: number,
  dontCare: readonly DefectEvent[] = [],
): ClipMatch {
  const t = truth.filter((e) => e.type === type);
  const regions = dontCare.filter((e) => e.type === type);
  const d = mergeFragments(detected.filter((e) => e.type === type));
  const candidates: { ti: number; di: number; te: DefectEvent; de: DefectEvent; error: number }[] = [];
  t.forEach((te, ti) => {
    d.forEach((de, di) => {
      const error = de.start - te.start;
      // A small epsilon so a boundary stated in decimal (0.5 s) is inside despite float noise.
      if (Math.abs(error) <= tolerance + 1e-9 && overlaps(te, de, tolerance))
        candidates.push({ ti, di, te, de, error });
    });
  });
  candidates.sort((a, b) => Math.abs(a.error) - Math.abs(b.error) || a.ti - b.ti || a.di - b.di);
  const usedT = new Set<number>();
  const usedD = new Set<number>();
  const matches: MatchedPair[] = [];
  for (const c of candidates) {
    if (usedT.has(c.ti) || usedD.has(c.di)) continue;
    usedT.add(c.ti);
    usedD.add(c.di);
    matches.push({ truth: c.te, detected: c.de, onsetError: c.error });
  }
  matches.sort((a, b) => a.truth.start - b.truth.start);
  const unmatched = d.filter((_, i) => !usedD.has(i));
  const excused = (e: DefectEvent): boolean => regions.some((r) => overlaps(r, e, tolerance));
  return {
    clip,
    type,
    matches,
    misses: t.filter((_, i) => !usedT.has(i)),
    falsePositives: unmatched.filter((e) => !excused(e)),
    ignored: unmatched.filter(excused),
  };
}

/** Quantile by linear interpolation between order statistics (q in 0..1); NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export interface OnsetErrorStats {
  mean: number;
  median: number;
  p95Abs: number;
  maxAbs: number;
}

export function onsetErrorStats(errors: readonly number[]): OnsetErrorStats {
  if (errors.length === 0) return { mean: Number.NaN, median: Number.NaN, p95Abs: Number.NaN, maxAbs: Number.NaN };
  const abs = errors.map(Math.abs);
  return {
    mean: errors.reduce((a, b) => a + b, 0) / errors.length,
    median: quantile(errors, 0.5),
    p95Abs: quantile(abs, 0.95),
    maxAbs: Math.max(...abs),
  };
}

/** Precision, recall and F1 by the empty-set conventions in the header. */
export function precisionRecall(
  truthEvents: number,
  detectedEvents: number,
  truePositives: number,
): {
  precision: number;
  recall: number;
  f1: number;
} {
  const precision = detectedEvents === 0 ? 1 : truePositives / detectedEvents;
  const recall = truthEvents === 0 ? 1 : truePositives / truthEvents;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}

/** Every clip's match of one type: the per-clip detail behind a TypeScore. */
export function matchType(
  type: DefectType,
  truth: readonly ClipEvents[],
  detected: readonly ClipEvents[],
  tolerance: number,
): ClipMatch[] {
  const detectedByClip = new Map<string, DefectEvent[]>();
  for (const d of detected) detectedByClip.set(d.clip, [...(detectedByClip.get(d.clip) ?? []), ...d.events]);
  const clips = new Set<string>([...truth.map((c) => c.clip), ...detected.map((c) => c.clip)]);
  const truthByClip = new Map<string, DefectEvent[]>();
  const dontCareByClip = new Map<string, DefectEvent[]>();
  for (const c of truth) {
    truthByClip.set(c.clip, [...(truthByClip.get(c.clip) ?? []), ...c.events]);
    dontCareByClip.set(c.clip, [...(dontCareByClip.get(c.clip) ?? []), ...(c.dontCare ?? [])]);
  }
  return [...clips].map((clip) =>
    matchClip(
      type,
      clip,
      truthByClip.get(clip) ?? [],
      detectedByClip.get(clip) ?? [],
      tolerance,
      dontCareByClip.get(clip) ?? [],
    ),
  );
}

/** Scores of one type over the corpus; detected events count after merging fragments. */
export function scoreType(
  type: DefectType,
  truth: readonly ClipEvents[],
  detected: readonly ClipEvents[],
  tolerance: number,
): TypeScore {
  const perClip = matchType(type, truth, detected, tolerance);
  let truthEvents = 0;
  let detectedEvents = 0;
  const errors: number[] = [];
  for (const m of perClip) {
    truthEvents += m.matches.length + m.misses.length;
    detectedEvents += m.matches.length + m.falsePositives.length;
    errors.push(...m.matches.map((p) => p.onsetError));
  }
  const stats = onsetErrorStats(errors);
  return {
    type,
    truthEvents,
    detectedEvents,
    truePositives: errors.length,
    ...precisionRecall(truthEvents, detectedEvents, errors.length),
    onsetErrorMean: stats.mean,
    onsetErrorMedian: stats.median,
    onsetErrorP95: stats.p95Abs,
    onsetErrorMaxAbs: stats.maxAbs,
  };
}

/** Scores of every type a tool detects (`types`), in that order. */
export function scoreAll(
  types: readonly DefectType[],
  truth: readonly ClipEvents[],
  detected: readonly ClipEvents[],
  tolerances: AccuracyResult['tolerances'] = TOLERANCES,
): TypeScore[] {
  return types.map((type) => scoreType(type, truth, detected, tolerances[type].onsetSeconds));
}
