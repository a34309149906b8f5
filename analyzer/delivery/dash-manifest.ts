/**
 * DASH MPDs as the delivery checks read them. Attribute inheritance, BaseURL resolution and
 * segment lists (SegmentTemplate with SegmentTimeline or @duration, SegmentList) are
 * mpd-parser's (videojs, kept, used by every video.js player); this file turns its objects
 * into the facts the HLS checks already compare (a MediaPlaylistSnapshot per Representation),
 * plus what only DASH has: publishTime and the SegmentTimeline's own continuity. It refuses
 * what is no MPD, and an MPD that would describe more segments than a client can hold, with a
 * message that says why.
 */
import { createRequire } from 'node:module';
import {
  inheritAttributes,
  toPlaylists,
  type MpdRepresentationInfo,
  type MpdSegment,
  type MpdTimelineEntry,
} from 'mpd-parser';
import { RepresentationTracks, type TrackContent } from './dash-tracks.js';
import {
  MAX_RENDITIONS,
  MAX_WINDOW_SEGMENTS,
  type MediaPlaylistSnapshot,
  type VariantDeclaration,
} from './playlist.js';

/** Segments one Representation may describe: a @r of a billion must not be expanded (4 h of 1 s segments is 14400). */
export const MAX_REPRESENTATION_SEGMENTS = 20_000;
/** An MPD larger than this is no manifest a live client could use. */
export const MAX_MPD_BYTES = 4 * 1024 * 1024;
/**
 * BaseURL elements an MPD may carry. mpd-parser lists every Representation once per
 * combination of the BaseURLs above it (MPD x Period x AdaptationSet x Representation), so
 * their number multiplies; a few per level are what CDN redundancy needs.
 */
export const MAX_BASE_URLS = 16;
/** ISO/IEC 23009-1 5.3.1.2: minBufferTime is mandatory; this is used when it is missing or unreadable. */
const DEFAULT_MIN_BUFFER_SECONDS = 0;

export class MpdError extends Error {}

/** Where a SegmentTimeline's S@t differs from where the S before it ended. */
export interface TimelineBreak {
  /** $Number$ of the first segment of that S. */
  number: number;
  /** S@t minus the end of the segments before it, seconds: positive is a gap, negative an overlap. */
  offsetSeconds: number;
}

/** A Representation as one Period lists it: the same @id may be coded otherwise in the next. */
export interface PeriodListing {
  /** Period start, seconds. */
  start: number;
  declaration: VariantDeclaration;
  /** Absolute URL of its initialization segment in this Period, or null. */
  initUri: string | null;
}

export interface DashRepresentation {
  declaration: VariantDeclaration;
  contentType: 'video' | 'audio' | 'other';
  /** Absolute URL of its initialization segment, or null (self-initializing segments). */
  initUri: string | null;
  /** The start of the Period it is listed in (the newest that lists it), seconds: a new Period is new media to probe. */
  periodStart: number;
  /**
   * Its segments in every Period that lists it, in order. Each Period numbers its segments on
   * its own ($Number$ may start again at 1), so `msn` is the Period's number here: the
   * follower of the Representation renumbers them into one sequence (dash-representation.ts).
   */
  snapshot: MediaPlaylistSnapshot;
  /** The Period of each of snapshot.segments: how that Period declares and initializes it. */
  segmentPeriods: PeriodListing[];
  /** Breaks of its SegmentTimeline (none without one). */
  timelineBreaks: TimelineBreak[];
}

export interface DashManifest {
  /** MPD@type="dynamic": a live presentation that is updated; static is on demand. */
  dynamic: boolean;
  /** MPD@publishTime, ms since the epoch, or null. */
  publishTime: number | null;
  /** MPD@minimumUpdatePeriod, seconds, or null. */
  minimumUpdatePeriod: number | null;
  representations: DashRepresentation[];
}

interface XmlElement {
  readonly tagName: string;
  getAttribute(name: string): string | null;
  getElementsByTagName(name: string): { length: number };
}
interface XmlDomModule {
  DOMParser: new (options: { errorHandler: (level: string, message: unknown) => void }) => {
    parseFromString(text: string, mimeType: string): { documentElement: XmlElement | null };
  };
}
// The module's own typings pull the whole DOM lib into every file of the build; this is the one
// constructor used, typed here.
const { DOMParser } = createRequire(import.meta.url)('@xmldom/xmldom') as XmlDomModule;

/**
 * Parses an MPD's text as of `nowMs` (a dynamic MPD's segment list depends on the clock).
 * `tracks` carries which rendition each Representation continues from one load to the next.
 */
export function parseMpd(
  text: string,
  url: string,
  nowMs: number,
  tracks: RepresentationTracks = new RepresentationTracks(),
): DashManifest {
  const mpd = mpdElement(text, url);
  const dynamic = mpd.getAttribute('type') === 'dynamic';
  const baseUrls = mpd.getElementsByTagName('BaseURL').length;
  if (baseUrls > MAX_BASE_URLS) {
    throw new MpdError(`${url} has ${baseUrls} BaseURL elements, more than ${MAX_BASE_URLS} a client can combine`);
  }
  let infos: MpdRepresentationInfo[];
  try {
    infos = inheritAttributes(mpd, { manifestUri: url, NOW: nowMs, clientOffset: 0 }).representationInfo;
  } catch (err) {
    throw new MpdError(`${url} cannot be read as an MPD: ${(err as Error).message}`);
  }
  // A live MPD may list a rendition in several Periods (a programme boundary, an ad break, under
  // the same @id or another: dash-tracks.ts): one rendition, its segments Period after Period,
  // declared as the newest Period declares it.
  const periods = new Map<number, MpdRepresentationInfo[]>();
  for (const info of infos) {
    const start = numberOr(info.attributes.periodStart, 0);
    const period = periods.get(start);
    if (period === undefined) periods.set(start, [info]);
    else period.push(info);
  }
  const inPeriods = [...periods.values()];
  const matched = tracks.assign(
    inPeriods.map((period) =>
      period.map((info) => ({
        id: textOf(info.attributes.id),
        contentType: contentTypeOf(info),
        bandwidth: numberOr(info.attributes.bandwidth, 0),
      })),
    ),
  );
  const byTrack = new Map<string, Listings>();
  inPeriods.forEach((period, p) =>
    period.forEach((info, i) => {
      const track = matched.tracks[p]?.[i] ?? textOf(info.attributes.id);
      const known = byTrack.get(track);
      if (known === undefined) byTrack.set(track, { track, earlier: [], newest: info });
      else {
        known.earlier.push(known.newest);
        known.newest = info;
      }
    }),
  );
  if (byTrack.size === 0) throw new MpdError(`${url} is an MPD without any Representation`);
  const kept = [...byTrack.values()].slice(0, MAX_RENDITIONS);
  for (const { earlier, newest } of kept) {
    for (const info of [...earlier, newest]) checkSegmentCount(info, url, nowMs, dynamic);
  }
  const minBufferTime = isoDurationSeconds(mpd.getAttribute('minBufferTime')) ?? DEFAULT_MIN_BUFFER_SECONDS;
  const minimumUpdatePeriod = isoDurationSeconds(mpd.getAttribute('minimumUpdatePeriod'));
  const publishTime = Date.parse(mpd.getAttribute('publishTime') ?? '');
  const names = new Set<string>();
  matched.commit();
  return {
    dynamic,
    publishTime: Number.isFinite(publishTime) ? publishTime : null,
    minimumUpdatePeriod,
    representations: kept.map((listings) => {
      const representation = representationOf(listings, url, dynamic, minBufferTime, minimumUpdatePeriod);
      const name = uniqueName(representation.declaration.name, names);
      representation.declaration.name = name;
      for (const listing of representation.segmentPeriods) listing.declaration.name = name;
      return representation;
    }),
  };
}

function mpdElement(text: string, url: string): XmlElement {
  const problems: string[] = [];
  const parser = new DOMParser({
    // Collected, never printed: a hostile MPD must not write to the analyzer's console. Warnings
    // count too (xmldom only warns of a mismatched end tag, which a browser's DOMParser refuses).
    errorHandler: (_level, message) =>
      problems.push((String(message).split('\n')[0] ?? '').replace(/^\[xmldom \w+\]\s*/, '')),
  });
  let root: XmlElement | null;
  try {
    root = parser.parseFromString(text, 'application/xml').documentElement;
  } catch (err) {
    problems.push((err as Error).message);
    root = null;
  }
  if (problems.length > 0) throw new MpdError(`${url} is not well-formed XML: ${problems[0] ?? ''}`.slice(0, 300));
  if (root?.tagName !== 'MPD') {
    throw new MpdError(`${url} is not a DASH MPD: its root element is ${root ? `<${root.tagName}>` : 'missing'}`);
  }
  return root;
}

/** A rendition as the Periods that list it do, in document order: the earlier ones, then the newest. */
interface Listings {
  /** The @id it was first listed under (dash-tracks.ts). */
  track: string;
  earlier: MpdRepresentationInfo[];
  newest: MpdRepresentationInfo;
}

/** One Representation as the Periods that list it describe it: declared as the newest declares it. */
function representationOf(
  { track, earlier, newest: info }: Listings,
  url: string,
  dynamic: boolean,
  minBufferTime: number,
  minimumUpdatePeriod: number | null,
): DashRepresentation {
  const a = info.attributes;
  const id = textOf(a.id);
  const listedIn = (p: MpdRepresentationInfo): { listing: PeriodListing; segments: MpdSegment[] } => {
    let playlist;
    try {
      [playlist] = toPlaylists([p]);
    } catch (err) {
      throw new MpdError(`${url}: the segments of Representation "${id}" cannot be listed: ${(err as Error).message}`);
    }
    const segments = playlist?.segments ?? [];
    const init = segments[0]?.map ?? null;
    const listing: PeriodListing = {
      start: numberOr(p.attributes.periodStart, 0),
      declaration: declarationOf(p, track, url, minBufferTime),
      initUri: init && init.resolvedUri !== '' ? init.resolvedUri : null,
    };
    return { listing, segments };
  };
  const before = earlier.map(listedIn);
  const latest = listedIn(info);
  const perPeriod = [...before, latest];
  const listed = perPeriod.flatMap(({ listing, segments }) => segments.map((segment) => ({ segment, listing })));
  const window = listed.slice(-MAX_WINDOW_SEGMENTS);
  const segments = window.map((l) => l.segment);
  const longest = Math.max(0, ...segments.map((s) => s.duration));
  const { listing: newest } = latest;
  return {
    declaration: newest.declaration,
    contentType: contentTypeOf(info),
    initUri: newest.initUri,
    periodStart: newest.start,
    segmentPeriods: window.map((l) => l.listing),
    snapshot: {
      // What a client may wait at the live edge for the next segment: a segment's duration, or
      // the MPD's minimum update period when the origin lists segments only that often.
      targetDuration: Math.max(longest, dynamic ? (minimumUpdatePeriod ?? 0) : 0) || 1,
      mediaSequence: segments[0]?.number ?? 0,
      discontinuitySequence: 0,
      endList: !dynamic,
      initSection: (segments[0]?.map ?? null) !== null,
      segments: segments.map((s) => ({
        msn: s.number,
        discontinuitySequence: 0,
        discontinuity: false,
        duration: s.duration,
        uri: s.resolvedUri,
        programDateTime: null,
        cues: [],
      })),
    },
    timelineBreaks: [...earlier, info].flatMap((p) => timelineBreaks(p)),
  };
}

function contentTypeOf(info: MpdRepresentationInfo): TrackContent {
  const a = info.attributes;
  const mime = textOf(a.mimeType) || textOf(a.contentType);
  return mime.startsWith('video') || numberOr(a.height, 0) > 0 ? 'video' : mime.startsWith('audio') ? 'audio' : 'other';
}

/** What one Period's Representation declares of itself, named after the rendition (`track`) it continues. */
function declarationOf(
  info: MpdRepresentationInfo,
  track: string,
  url: string,
  minBufferTime: number,
): VariantDeclaration {
  const a = info.attributes;
  const width = numberOr(a.width, 0);
  const height = numberOr(a.height, 0);
  return {
    name: labelOf(track),
    uri: url,
    bandwidth: numberOr(a.bandwidth, 0),
    averageBandwidth: null,
    resolution: width > 0 && height > 0 ? { width, height } : null,
    codecs: typeof a.codecs === 'string' ? a.codecs : null,
    frameRate: numberOr(a.frameRate, 0) || null,
    minBufferTime,
  };
}

/**
 * The S elements whose @t is not where the S before ended. ISO/IEC 23009-1 5.3.9.6: each S
 * without @t starts where the previous ended; one with @t declares its start, and a live
 * timeline must run on without gaps or overlaps (DASH-IF IOP 4.5.2), or players stall or skip.
 */
function timelineBreaks(info: MpdRepresentationInfo): TimelineBreak[] {
  const timeline = info.segmentInfo.segmentTimeline;
  if (!timeline) return [];
  const template = info.segmentInfo.template ?? {};
  const timescale = numberOr(template.timescale ?? info.attributes.timescale, 1) || 1;
  let number = numberOr(template.startNumber ?? info.attributes.startNumber, 1);
  const breaks: TimelineBreak[] = [];
  let end: number | null = null;
  timeline.forEach((s, i) => {
    if (s.t !== undefined && end !== null && s.t !== end) {
      breaks.push({ number, offsetSeconds: (s.t - end) / timescale });
    }
    const start = s.t ?? end ?? 0;
    const count = repeatCount(s, timeline[i + 1], start);
    number += count;
    end = start + count * s.d;
  });
  return breaks;
}

/** Segments an S stands for: @r + 1, or up to the next S@t for a negative @r (the last one's end is unknown: 1). */
function repeatCount(s: MpdTimelineEntry, next: MpdTimelineEntry | undefined, start: number): number {
  const r = s.r ?? 0;
  if (r >= 0) return r + 1;
  return next?.t !== undefined && s.d > 0 ? Math.max(1, Math.ceil((next.t - start) / s.d)) : 1;
}

/**
 * Refuses a Representation whose segment list would be too long to hold, before mpd-parser
 * expands it: a timeline's @r, or a template's @duration over the time since the Period began.
 */
function checkSegmentCount(info: MpdRepresentationInfo, url: string, nowMs: number, dynamic: boolean): void {
  const a = info.attributes;
  const template = info.segmentInfo.template;
  const timescale = numberOr(template?.timescale ?? a.timescale, 1) || 1;
  const periodStart = numberOr(a.availabilityStartTime, 0) + numberOr(a.periodStart, 0);
  // What a negative @r or a @duration template spans: the Period so far (live) or the presentation.
  const spanSeconds = dynamic
    ? Math.max(0, nowMs / 1000 + numberOr(a.minimumUpdatePeriod, 0) - periodStart)
    : numberOr(a.sourceDuration, 0);
  let count = 0;
  const timeline = info.segmentInfo.segmentTimeline;
  if (timeline) {
    for (const s of timeline) {
      if (!(s.d > 0))
        throw new MpdError(`${url}: Representation "${textOf(a.id)}" has an S element without a positive @d`);
      count += (s.r ?? 0) >= 0 ? (s.r ?? 0) + 1 : (spanSeconds * timescale) / s.d + 1;
    }
  } else if (template?.duration !== undefined) {
    const duration = numberOr(template.duration, 0) / timescale;
    if (!(duration > 0))
      throw new MpdError(`${url}: Representation "${textOf(a.id)}" has a @duration that is not positive`);
    const depth = dynamic ? Math.min(spanSeconds, numberOr(a.timeShiftBufferDepth, Infinity)) : spanSeconds;
    count = depth / duration + 1;
  }
  if (count > MAX_REPRESENTATION_SEGMENTS) {
    throw new MpdError(
      `${url}: Representation "${textOf(a.id)}" describes ${Math.round(count)} segments, more than ${MAX_REPRESENTATION_SEGMENTS} a client can follow`,
    );
  }
}

/** xs:duration as MPDs use it (PnYnMnDTnHnMnS; a year is 365 days, a month 30), or null. */
export function isoDurationSeconds(text: string | null): number | null {
  const m =
    /^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
      text?.trim() ?? '',
    );
  if (!m || text?.trim() === 'P' || text?.trim().endsWith('T')) return null;
  const units = [365 * 86400, 30 * 86400, 86400, 3600, 60, 1];
  return units.reduce((sum, unit, i) => sum + Number(m[i + 1] ?? 0) * unit, 0);
}

function textOf(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

function numberOr(value: unknown, fallback: number): number {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : fallback;
}

/** A label value from Representation@id: letters, digits, `._-`, at most 32 characters. */
function labelOf(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 32) || 'representation';
}

function uniqueName(proposed: string, taken: Set<string>): string {
  let name = proposed;
  for (let i = 2; taken.has(name); i++) name = `${proposed}_${i}`;
  taken.add(name);
  return name;
}
