/**
 * The renditions that left the ladder (a variant the multivariant playlist no longer lists, a
 * Representation gone from the MPD): /status keeps listing each as down, since the load that
 * first missed it, until it returns, and its `rendition_up` gauge says 0 rather than vanish.
 * Bounded: at most MAX_RENDITIONS removed renditions are remembered, the oldest removal is
 * forgotten first (its metric series then go), so that names that come and go (an MPD whose
 * Representation ids change with every update) cannot grow memory or label cardinality.
 */
import { MAX_RENDITIONS, type VariantDeclaration } from './playlist.js';
import { unloadedView, type RenditionView } from './rendition-poller.js';

/** A rendition the ladder no longer lists. */
export interface RemovedRendition {
  /** What it was as last seen while followed. */
  view: RenditionView;
  /** The first ladder load that did not list it: timeline seconds, and its wall-clock time (ISO 8601). */
  since: { t: number; wallclock: string };
}

export class LadderHistory {
  /** The names the last ladder load listed. */
  private listedNow = new Set<string>();
  /** The last view of each rendition followed (what a removal keeps of it). */
  private readonly views = new Map<string, RenditionView>();
  /** Removed renditions in the order they left (the oldest is forgotten first). */
  private readonly gone = new Map<string, RemovedRendition>();

  /** The renditions followed now, as the client reports them. */
  followed(views: readonly RenditionView[]): void {
    for (const v of views) this.views.set(v.name, v);
  }

  /**
   * A ladder load listed `variants` at `at`. Returns the renditions it removed (no
   * longer listed, first missed now) and those forgotten (beyond the bound).
   */
  listed(
    at: RemovedRendition['since'],
    variants: readonly VariantDeclaration[],
  ): { removed: string[]; forgotten: string[] } {
    const names = new Set(variants.map((v) => v.name));
    const removed: string[] = [];
    for (const name of this.listedNow) {
      if (names.has(name) || this.gone.has(name)) continue;
      this.gone.set(name, { view: this.views.get(name) ?? unloadedView(name, null), since: at });
      removed.push(name);
    }
    for (const v of variants) {
      this.gone.delete(v.name);
      if (!this.views.has(v.name)) this.views.set(v.name, unloadedView(v.name, v));
    }
    this.listedNow = names;
    const forgotten: string[] = [];
    for (const name of this.gone.keys()) {
      if (this.gone.size - forgotten.length <= MAX_RENDITIONS) break;
      forgotten.push(name);
    }
    for (const name of forgotten) this.gone.delete(name);
    for (const name of this.views.keys()) if (!names.has(name) && !this.gone.has(name)) this.views.delete(name);
    return { removed, forgotten };
  }

  /** The renditions removed from the ladder and still remembered, oldest removal first. */
  get removed(): RemovedRendition[] {
    return [...this.gone.values()];
  }
}
