/**
 * Which rendition each Representation of an MPD continues. Within a Period a Representation is
 * its @id; across Periods the @id need not stay: server-side ad insertion splices ad Periods
 * whose Representations have ids of their own (DASH-IF IOP 4.5: each Period is a presentation
 * of its own; players carry on by AdaptationSet and bitrate, not by id), and a new programme may
 * renumber its ids. Followed by @id alone, every ad break would read as the whole ladder going
 * down and another ladder arriving, and the decoder would lose its rendition.
 *
 * So a Representation whose @id is new continues a rendition of the Period before it that this
 * Period does not list under its own id: of the same content type, by rank of bandwidth (the
 * highest new video one continues the highest free video rendition, and so on). What is left
 * over on either side is a rendition that starts or one that this Period does not carry. The
 * matches are kept across MPD loads (the Period before may have left the window by the time the
 * next load is read) for the ids the MPD still lists.
 */

export type TrackContent = 'video' | 'audio' | 'other';

/** One Representation as a Period lists it. */
export interface TrackListing {
  id: string;
  contentType: TrackContent;
  bandwidth: number;
}

interface Slot {
  track: string;
  contentType: TrackContent;
  bandwidth: number;
}

/** Highest bandwidth first. */
const byRank = (a: { bandwidth: number }, b: { bandwidth: number }): number => b.bandwidth - a.bandwidth;

export class RepresentationTracks {
  /** Representation@id -> the track (the @id it was first listed under) it continues; every id of the last load. */
  private tracks = new Map<string, string>();
  /** The renditions of the newest Period of the last load. */
  private newestPeriod: Slot[] = [];

  /**
   * The track of each listing of `periods` (in document order, each a Period's Representations),
   * as one array per Period. Nothing is kept until `commit` (an MPD that fails later in its
   * parse leaves the matches as they were).
   */
  assign(periods: readonly (readonly TrackListing[])[]): { tracks: string[][]; commit: () => void } {
    const known = new Map(this.tracks);
    let before = this.newestPeriod;
    const assigned = periods.map((listings) => {
      const taken = new Set(listings.flatMap((l) => known.get(l.id) ?? []));
      const free = before.filter((s) => !taken.has(s.track)).sort(byRank);
      for (const l of listings.filter((listing) => !known.has(listing.id)).sort(byRank)) {
        // The highest free rendition of the Period before of its content type, or, with none
        // left, a rendition of its own (under its own id unless that names another already).
        const k = free.findIndex((s) => s.contentType === l.contentType);
        let track = (k >= 0 ? free.splice(k, 1)[0]?.track : undefined) ?? l.id;
        for (let n = 2; k < 0 && taken.has(track); n++) track = `${l.id}_${n}`;
        taken.add(track);
        known.set(l.id, track);
      }
      before = listings.map((l) => ({
        track: known.get(l.id) ?? l.id,
        contentType: l.contentType,
        bandwidth: l.bandwidth,
      }));
      return before.map((s) => s.track);
    });
    const listed = new Set(periods.flatMap((p) => p.map((l) => l.id)));
    const newest = before;
    return {
      tracks: assigned,
      commit: () => {
        this.tracks = new Map([...known].filter(([id]) => listed.has(id)));
        this.newestPeriod = newest;
      },
    };
  }
}
