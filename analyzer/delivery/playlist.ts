/**
 * HLS playlists as the delivery checks read them. Parsing is hls-parser's (a kept, typed,
 * dependency-free parser of RFC 8216 and its successor drafts); this file turns its objects
 * into the few plain facts the checks compare between reloads, and refuses what is no
 * playlist with a message that says why.
 */
import { parse, setOptions, types } from 'hls-parser';

// Lenient and quiet: a real origin's playlist with a minor violation (a missing CODECS) is
// still monitored, and the library never writes to the console of a per-stream process.
setOptions({ strictMode: false, silent: true });

/** Ladders are bounded: the `rendition` label and the per-rendition state never exceed this. */
export const MAX_RENDITIONS = 16;
/** A live window longer than this is cut to its newest segments (bounded memory per rendition). */
export const MAX_WINDOW_SEGMENTS = 2000;

/** One variant stream as the multivariant playlist declares it (RFC 8216 section 4.3.4.2). */
export interface VariantDeclaration {
  /** The rendition's name in metrics, events and `/status`; stable for its URI. */
  name: string;
  /** Absolute URL of its media playlist. */
  uri: string;
  /** Peak segment bit rate, bits/s. */
  bandwidth: number;
  averageBandwidth: number | null;
  resolution: { width: number; height: number } | null;
  codecs: string | null;
  frameRate: number | null;
  /**
   * DASH only (MPD@minBufferTime, seconds): its @bandwidth is a leaky bucket of this depth
   * (ISO/IEC 23009-1 5.3.5.2), not a per-segment peak as HLS's BANDWIDTH.
   */
  minBufferTime?: number;
}

/** One media segment of a media playlist. */
export interface SegmentRef {
  /** Media sequence number. */
  msn: number;
  discontinuitySequence: number;
  discontinuity: boolean;
  /** EXTINF duration, seconds. */
  duration: number;
  /** Absolute URL. */
  uri: string;
  /** EXT-X-PROGRAM-DATE-TIME in ms since the epoch, or null when the segment has none. */
  programDateTime: number | null;
  /** Ad cues this segment carries (EXT-X-CUE-OUT/IN, EXT-X-DATERANGE with SCTE35-OUT/IN). */
  cues: CueMarker[];
  /** HLS: absolute URL of the initialization section it needs (EXT-X-MAP), or null/absent (MPEG-TS). */
  initUri?: string | null;
}

/** A cue as the playlist marks it; kept simple on purpose (the SCTE-35 payload is not decoded here). */
export interface CueMarker {
  kind: 'out' | 'in';
  /** Seconds of the break for an `out` that declares it. */
  duration: number | null;
  /** The EXT-X-DATERANGE ID, or null for EXT-X-CUE tags. */
  id: string | null;
  source: 'cue' | 'daterange';
}

/** What one load of a media playlist says. */
export interface MediaPlaylistSnapshot {
  targetDuration: number;
  mediaSequence: number;
  discontinuitySequence: number;
  endList: boolean;
  /** Segments need an initialization section (EXT-X-MAP: fragmented MP4, not MPEG-TS). */
  initSection: boolean;
  /** HLS: an EXT-X-MAP names a byte range of its URI (the client reads whole resources only). */
  initByteRange?: boolean;
  segments: SegmentRef[];
}

export class PlaylistError extends Error {}

/** Parses a playlist's text: a multivariant playlist (its variants) or a media playlist. */
export function parsePlaylist(
  text: string,
  url: string,
): { kind: 'multivariant'; variants: VariantDeclaration[] } | { kind: 'media'; snapshot: MediaPlaylistSnapshot } {
  if (!text.trimStart().startsWith('#EXTM3U')) {
    throw new PlaylistError(`${url} is not an HLS playlist: it does not start with #EXTM3U`);
  }
  let playlist: types.MasterPlaylist | types.MediaPlaylist;
  try {
    playlist = parse(text);
  } catch (err) {
    throw new PlaylistError(`${url} cannot be parsed as an HLS playlist: ${(err as Error).message}`);
  }
  if (playlist.isMasterPlaylist) return { kind: 'multivariant', variants: variantsOf(playlist, url) };
  return { kind: 'media', snapshot: snapshotOf(playlist, url) };
}

function variantsOf(playlist: types.MasterPlaylist, base: string): VariantDeclaration[] {
  const streams = playlist.variants.filter((v) => !v.isIFrameOnly);
  if (streams.length === 0) throw new PlaylistError(`${base} is a multivariant playlist without any variant stream`);
  const heights = streams.map((v) => v.resolution?.height ?? null);
  return streams.slice(0, MAX_RENDITIONS).map((v) => {
    const kbps = Math.round(v.bandwidth / 1000);
    const height = v.resolution?.height ?? null;
    const unique = height !== null && heights.filter((h) => h === height).length === 1;
    const name = v.stableVariantId || (height === null ? `${kbps}k` : unique ? `${height}p` : `${height}p_${kbps}k`);
    return {
      name: sanitizeName(name),
      uri: new URL(v.uri, base).href,
      bandwidth: v.bandwidth,
      averageBandwidth: v.averageBandwidth ?? null,
      resolution: v.resolution ? { width: v.resolution.width, height: v.resolution.height } : null,
      codecs: v.codecs ?? null,
      frameRate: v.frameRate ?? null,
    };
  });
}

/** A label value: letters, digits, `._-`, at most 32 characters (STABLE-VARIANT-ID is free text). */
function sanitizeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 32) || 'variant';
}

function snapshotOf(playlist: types.MediaPlaylist, base: string): MediaPlaylistSnapshot {
  if (!(playlist.targetDuration > 0)) {
    throw new PlaylistError(`${base}: EXT-X-TARGETDURATION is missing or not positive (RFC 8216 section 4.3.3.1)`);
  }
  const segments = playlist.segments.slice(-MAX_WINDOW_SEGMENTS).map((s) => segmentOf(s, base));
  return {
    targetDuration: playlist.targetDuration,
    mediaSequence: playlist.mediaSequenceBase ?? 0,
    discontinuitySequence: playlist.discontinuitySequenceBase ?? 0,
    endList: playlist.endlist,
    initSection: playlist.segments.some((s) => mapOf(s) !== null),
    initByteRange: playlist.segments.some((s) => mapOf(s)?.byterange !== undefined),
    segments,
  };
}

/** A segment's EXT-X-MAP: typed as always present, null in fact when the playlist has none. */
function mapOf(s: types.Segment): types.MediaInitializationSection | null {
  const map = s.map as types.Segment['map'] | null | undefined;
  if (map === null || map === undefined) return null;
  return map;
}

function segmentOf(s: types.Segment, base: string): SegmentRef {
  const map = mapOf(s);
  return {
    initUri: map ? new URL(map.uri, base).href : null,
    msn: s.mediaSequenceNumber,
    discontinuitySequence: s.discontinuitySequence,
    discontinuity: s.discontinuity === true,
    duration: s.duration,
    uri: new URL(s.uri, base).href,
    programDateTime: s.programDateTime ? s.programDateTime.getTime() : null,
    cues: cuesOf(s),
  };
}

function cuesOf(s: types.Segment): CueMarker[] {
  const cues: CueMarker[] = [];
  for (const m of s.markers) {
    if (m.type === 'OUT') cues.push({ kind: 'out', duration: positiveOrNull(m.duration), id: null, source: 'cue' });
    if (m.type === 'IN') cues.push({ kind: 'in', duration: null, id: null, source: 'cue' });
  }
  const range = s.dateRange;
  if (range) {
    const id = range.id || null;
    if ('SCTE35-OUT' in range.attributes) {
      cues.push({
        kind: 'out',
        duration: positiveOrNull(range.plannedDuration ?? range.duration),
        id,
        source: 'daterange',
      });
    }
    if ('SCTE35-IN' in range.attributes) cues.push({ kind: 'in', duration: null, id, source: 'daterange' });
  }
  return cues;
}

function positiveOrNull(v: unknown): number | null {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(n) && n > 0 ? n : null;
}

/** The segment's index in a snapshot by media sequence number, or -1. */
export function segmentIndex(snapshot: MediaPlaylistSnapshot, msn: number): number {
  const first = snapshot.segments[0]?.msn;
  if (first === undefined) return -1;
  const i = msn - first;
  return i >= 0 && i < snapshot.segments.length ? i : -1;
}

/** The newest media sequence number of a snapshot, or null when it lists no segment. */
export function lastMsn(snapshot: MediaPlaylistSnapshot): number | null {
  return snapshot.segments.at(-1)?.msn ?? null;
}
