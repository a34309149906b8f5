/**
 * The HLS ladder of a monitor's status (`status.delivery`), from the `delivery` block of its
 * analyzer's /status. The answer is untrusted even after the contract's schema: names that are
 * not rendition names are dropped, counts are clamped to the ladder, and the list is cut to what
 * a ladder can hold, so a lying analyzer cannot grow the object or put words of its choice in it.
 */
import {
  isSignalEvent,
  type AnalyzerStatus,
  type RenditionStatus,
  type ReportedEvent,
} from '../analyzer/contract/status.js';
import type { LadderRendition, StreamMonitorStatus } from './api.js';

/** The analyzer cuts a ladder at 16 variants (analyzer/delivery/playlist.ts MAX_RENDITIONS). */
export const MAX_STATUS_RENDITIONS = 16;

export type DeliveryFacts = NonNullable<StreamMonitorStatus['delivery']>;

/** What the analyzer names a rendition: a STABLE-VARIANT-ID or `720p`, sanitised to these characters. */
const RENDITION_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const RESOLUTION = /^[1-9]\d{0,4}x[1-9]\d{0,4}$/;
/** An ISO 8601 UTC instant as the analyzer writes it (Date.toISOString). */
const WALLCLOCK = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/;

/** The rendition a delivery defect is about (its detail names it), or null for any other defect. */
export function renditionOf(event: ReportedEvent): string | null {
  const name = event.detail?.rendition;
  return typeof name === 'string' && RENDITION_NAME.test(name) ? name : null;
}

/** The ladder's rendition names the monitor may show, in the analyzer's order, at most MAX_STATUS_RENDITIONS. */
export function ladderNames(analyzer: AnalyzerStatus): string[] {
  const names = (analyzer.delivery?.renditions ?? []).map((r) => r.name).filter((n) => RENDITION_NAME.test(n));
  return [...new Set(names)].slice(0, MAX_STATUS_RENDITIONS);
}

type LastError = NonNullable<LadderRendition['lastError']>;

/** The newest delivery defect per rendition: active ones, then the ended ones the analyzer still lists. */
function lastErrors(analyzer: AnalyzerStatus): Map<string, LastError & { start: number }> {
  const newest = new Map<string, LastError & { start: number }>();
  const consider = (e: ReportedEvent, active: boolean): void => {
    const name = renditionOf(e);
    if (name === null) return;
    const before = newest.get(name);
    // Newer wins; at the same start an active defect says more than an ended one.
    if (before !== undefined && (before.start > e.start || (before.start === e.start && before.active === true)))
      return;
    const since = WALLCLOCK.test(e.wallclock) ? { since: e.wallclock } : {};
    newest.set(name, { type: e.type, ...since, active, start: e.start });
  };
  // Signal events (PIDs, cues) name no rendition.
  for (const e of analyzer.recentEvents) if (!isSignalEvent(e)) consider(e, false);
  for (const e of analyzer.activeDefects) consider(e, true);
  return newest;
}

/** The monitor's `status.delivery`, or undefined when the analyzer does not follow an HLS ladder. */
export function deliveryFacts(analyzer: AnalyzerStatus): DeliveryFacts | undefined {
  const ladder = analyzer.delivery;
  if (ladder === undefined) return undefined;
  const errors = lastErrors(analyzer);
  // A name listed twice is shown once, as first listed.
  const byName = new Map<string, RenditionStatus>();
  for (const r of ladder.renditions) if (!byName.has(r.name)) byName.set(r.name, r);
  const renditions = ladderNames(analyzer).map((name): LadderRendition => {
    const r = byName.get(name);
    const out: LadderRendition = { name, alive: r?.alive === true };
    if (typeof r?.bandwidth === 'number') out.bandwidth = Math.round(r.bandwidth);
    if (typeof r?.resolution === 'string' && RESOLUTION.test(r.resolution)) out.resolution = r.resolution;
    // A rendition that left the multivariant playlist stays, down, until the analyzer forgets it.
    if (r?.listed === false) out.listed = false;
    if (!out.alive && typeof r?.downSince === 'string' && WALLCLOCK.test(r.downSince)) out.downSince = r.downSince;
    const error = errors.get(name);
    if (error !== undefined) {
      const { start: _start, ...lastError } = error;
      out.lastError = lastError;
    }
    return out;
  });
  // The contract bounds both counts (STATUS_LIMITS.maxRenditions); more alive than declared is a lie.
  const declared = ladder.declared;
  const alive = Math.min(ladder.alive, declared);
  const facts: DeliveryFacts = { declared, alive, summary: `${alive}/${declared}`, renditions };
  if (typeof ladder.rendition === 'string' && RENDITION_NAME.test(ladder.rendition)) facts.rendition = ladder.rendition;
  return facts;
}
