/**
 * The analyzer's own HLS client: it loads the multivariant playlist, follows every media
 * playlist of the ladder (rendition-poller.ts) and reloads the multivariant playlist now and
 * then, so that a variant that disappears or returns is seen. It reports what it observes
 * (observations.ts) and the ad cues the playlists mark; the delivery detectors judge.
 * A URL that is itself a media playlist is a ladder of one rendition, `main`.
 */
import { everyBeat } from '../beat.js';
import type { DeliveryObservation } from './observations.js';
import { httpGet } from './fetch.js';
import { MAX_RENDITIONS, parsePlaylist, PlaylistError, type CueMarker, type VariantDeclaration } from './playlist.js';
import { RenditionPoller, type PollerContext, type RenditionView } from './rendition-poller.js';

/** A cue a playlist marks (EXT-X-CUE-OUT/IN, EXT-X-DATERANGE SCTE35-OUT/IN), once per ladder. */
export interface CueEvent {
  type: CueMarker['kind'];
  /** Timeline seconds when the cue was first seen. */
  t: number;
  /** Seconds of the break, for an `out` that declares it. */
  duration: number | null;
  /** The EXT-X-DATERANGE ID, null for EXT-X-CUE tags. */
  id: string | null;
  rendition: string;
  /** Media sequence number of the segment that carries it. */
  msn: number;
  /** Which tag marks it: EXT-X-CUE-OUT/IN (`cue`) or EXT-X-DATERANGE (`daterange`). */
  marker: CueMarker['source'];
}

export interface HlsMonitorOptions extends PollerContext {
  url: string;
  cue?: (cue: CueEvent) => void;
  /** Seconds between reloads of the multivariant playlist. */
  multivariantReloadSeconds: number;
  /** Seconds between `tick` observations (time-based checks judge on them). */
  tickSeconds?: number;
}

/** The name of the one rendition of a URL that is a media playlist. */
export const SINGLE_RENDITION = 'main';
/** The rendition label of the multivariant playlist's own failures. */
export const MULTIVARIANT = 'multivariant';
const MAX_MULTIVARIANT_BYTES = 1024 * 1024;
/** Cues remembered to report each once although every rendition carries it. */
const CUES_REMEMBERED = 256;

export class HlsDeliveryMonitor {
  private readonly pollers = new Map<string, RenditionPoller>();
  /** Rendition name by media playlist URL: a variant that returns keeps its name. */
  private readonly names = new Map<string, string>();
  private readonly cuesSeen = new Set<string>();
  private readonly stopping = new AbortController();
  /** Stops the periodic work (multivariant reloads, ticks). */
  private timers: (() => void)[] = [];
  private reloading: Promise<void> = Promise.resolve();
  private reloadInFlight = false;
  private isLadder = false;

  constructor(private readonly options: HlsMonitorOptions) {}

  /** Loads the URL and starts following it; rejects when it is no HLS playlist or cannot be loaded. */
  async start(): Promise<void> {
    const { url } = this.options;
    const result = await httpGet(url, {
      timeoutSeconds: this.options.timeoutSeconds,
      maxBytes: MAX_MULTIVARIANT_BYTES,
      signal: this.stopping.signal,
      authorization: this.options.authorization,
    });
    if (result.body === null) throw new PlaylistError(`cannot load ${url}: ${result.error ?? 'no answer'}`);
    const parsed = parsePlaylist(result.body.toString('utf8'), url);
    if (parsed.kind === 'multivariant') refuseSelfReference(url, parsed.variants);
    if (parsed.kind === 'media') {
      this.follow([{ name: SINGLE_RENDITION, uri: url }]);
    } else {
      this.isLadder = true;
      this.ladderLoaded(parsed.variants);
      const reload = everyBeat(this.options.multivariantReloadSeconds * 1000, () => {
        // One reload at a time: a slow server skips reloads rather than queueing them.
        if (this.reloadInFlight) return;
        this.reloadInFlight = true;
        this.reloading = this.reloadLadder().finally(() => (this.reloadInFlight = false));
      });
      this.timers.push(reload);
    }
    const tick = everyBeat((this.options.tickSeconds ?? 0.25) * 1000, () =>
      this.options.observe({ kind: 'tick', t: this.options.now() }),
    );
    this.timers.push(tick);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    for (const stop of this.timers) stop();
    this.timers = [];
    await this.reloading;
    await Promise.all([...this.pollers.values()].map((p) => p.stop()));
    this.pollers.clear();
  }

  /** A call, not a field read: stop() aborts while a load is awaited, which flow analysis cannot see. */
  private stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /** Every rendition followed now, in ladder order. */
  get renditions(): RenditionView[] {
    return [...this.pollers.values()].map((p) => p.status);
  }

  /** The renditions the source is made of: the multivariant playlist's variants, or `main`. */
  get ladder(): boolean {
    return this.isLadder;
  }

  private async reloadLadder(): Promise<void> {
    if (this.stopped()) return;
    const { url, now, observe } = this.options;
    const result = await httpGet(url, {
      timeoutSeconds: this.options.timeoutSeconds,
      maxBytes: MAX_MULTIVARIANT_BYTES,
      signal: this.stopping.signal,
      authorization: this.options.authorization,
    });
    if (this.stopped()) return;
    const fail = (status: number | null, error: string): void =>
      observe({ kind: 'playlist_failed', t: now(), rendition: MULTIVARIANT, status, error });
    if (result.body === null) {
      fail(result.status, result.error ?? '');
      return;
    }
    try {
      const parsed = parsePlaylist(result.body.toString('utf8'), url);
      if (parsed.kind !== 'multivariant') throw new PlaylistError(`${url} is no longer a multivariant playlist`);
      refuseSelfReference(url, parsed.variants);
      this.ladderLoaded(parsed.variants);
    } catch (err) {
      fail(result.status, (err as Error).message);
    }
  }

  /** The multivariant playlist lists `variants` now: follow the new, stop the removed. */
  private ladderLoaded(listed: VariantDeclaration[]): void {
    const variants = listed.map((v) => ({ ...v, name: this.nameFor(v.uri, v.name) }));
    const listedUris = new Set(variants.map((v) => v.uri));
    for (const [uri, poller] of this.pollers) {
      if (listedUris.has(uri)) continue;
      this.pollers.delete(uri);
      void poller.stop();
    }
    this.follow(variants);
    this.options.observe({ kind: 'ladder', t: this.options.now(), variants });
  }

  private follow(variants: (Pick<VariantDeclaration, 'name' | 'uri'> & Partial<VariantDeclaration>)[]): void {
    for (const v of variants) {
      const declared = v.bandwidth === undefined ? null : (v as VariantDeclaration);
      const existing = this.pollers.get(v.uri);
      if (existing) {
        if (declared) existing.redeclare(declared);
        continue;
      }
      if (this.pollers.size >= MAX_RENDITIONS) continue;
      this.pollers.set(
        v.uri,
        new RenditionPoller(v.name, v.uri, declared, { ...this.options, observe: (o) => this.observe(o) }),
      );
    }
  }

  /** A name for a media playlist URL, kept for it; a second URL that would share a name gets a suffix. */
  private nameFor(uri: string, proposed: string): string {
    const known = this.names.get(uri);
    if (known !== undefined) return known;
    const taken = new Set(this.names.values());
    let name = proposed;
    for (let i = 2; taken.has(name); i++) name = `${proposed}_${i}`;
    // Bounded: URLs that come and go (session tokens in the path) reuse names once the map is full.
    if (this.names.size < MAX_RENDITIONS * 4) this.names.set(uri, name);
    return name;
  }

  private observe(observation: DeliveryObservation): void {
    this.options.observe(observation);
    if (observation.kind === 'playlist') {
      for (const segment of observation.added) {
        for (const cue of segment.cues) this.cueSeen(cue, segment.msn, observation.rendition, observation.t);
      }
    }
  }

  private cueSeen(cue: CueMarker, msn: number, rendition: string, t: number): void {
    const key = `${cue.kind}:${cue.id ?? `#${msn}`}`;
    if (this.cuesSeen.has(key)) return;
    this.cuesSeen.add(key);
    if (this.cuesSeen.size > CUES_REMEMBERED) {
      const oldest = this.cuesSeen.values().next();
      if (!oldest.done) this.cuesSeen.delete(oldest.value);
    }
    this.options.cue?.({ type: cue.kind, t, duration: cue.duration, id: cue.id, rendition, msn, marker: cue.source });
  }
}

/** A multivariant playlist that lists itself as a variant is a loop no client can play (RFC 8216 4.3.4.2). */
function refuseSelfReference(url: string, variants: readonly VariantDeclaration[]): void {
  const self = withoutFragment(url);
  const loop = variants.find((v) => withoutFragment(v.uri) === self);
  if (loop) throw new PlaylistError(`${url} lists itself as the media playlist of variant ${loop.name} (a loop)`);
}

function withoutFragment(url: string): string {
  const u = new URL(url);
  u.hash = '';
  return u.href;
}
