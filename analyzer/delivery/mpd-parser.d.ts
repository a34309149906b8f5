/**
 * The part of mpd-parser (videojs, plain JavaScript) that the DASH client uses, typed as the
 * library's source (src/inheritAttributes.js, src/toPlaylists.js) shapes it. Attributes come
 * parsed (numbers in seconds or timescale units, dates in seconds since the epoch) for the
 * names mpd-parser knows, raw strings for the others.
 */
declare module 'mpd-parser' {
  export interface MpdTimelineEntry {
    t?: number;
    d: number;
    r?: number;
  }

  export interface MpdSegmentInfo {
    template?: Record<string, unknown>;
    list?: Record<string, unknown>;
    base?: Record<string, unknown>;
    segmentTimeline?: MpdTimelineEntry[];
  }

  export interface MpdRepresentationInfo {
    attributes: Record<string, unknown>;
    segmentInfo: MpdSegmentInfo;
  }

  export interface MpdSegment {
    uri: string;
    resolvedUri: string;
    /** $Number$: startNumber plus the segment's place in the timeline. */
    number: number;
    /** Seconds. */
    duration: number;
    /** Seconds on the presentation timeline. */
    presentationTime: number;
    map?: { uri: string; resolvedUri: string };
  }

  export interface MpdPlaylist {
    attributes: Record<string, unknown>;
    segments?: MpdSegment[];
  }

  /** The MPD element of a document (an @xmldom/xmldom Element); throws when the text is no MPD. */
  export function stringToMpdXml(text: string): { getAttribute(name: string): string | null };

  export function inheritAttributes(
    mpd: ReturnType<typeof stringToMpdXml>,
    options: { manifestUri: string; NOW: number; clientOffset: number },
  ): { representationInfo: MpdRepresentationInfo[] };

  export function toPlaylists(representations: MpdRepresentationInfo[]): MpdPlaylist[];
}
