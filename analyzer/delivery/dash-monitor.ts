/**
 * The analyzer's own DASH client: it loads the MPD, follows every Representation
 * (dash-representation.ts), and reloads a dynamic MPD at its minimumUpdatePeriod (bounded,
 * ISO/IEC 23009-1 5.4: the MPD may change no sooner) or, without one, every segment duration.
 * Each load is the ladder (`ladder`: a Representation that disappears or returns is seen), the
 * segment list of each Representation (`playlist`, `timeline`) and the MPD itself (`mpd`:
 * publishTime). A static MPD is on demand: loaded once, nothing that needs liveness is judged.
 * The delivery detectors judge, as for HLS.
 */
import { everyBeat, waitForBeat } from '../beat.js';
import { httpGet } from './fetch.js';
import { MAX_MPD_BYTES, MpdError, parseMpd, type DashManifest } from './dash-manifest.js';
import { RepresentationFollower, type RepresentationContext } from './dash-representation.js';
import { RepresentationTracks } from './dash-tracks.js';
import type { RenditionView } from './rendition-poller.js';

/** Bounds of the reload interval, whatever minimumUpdatePeriod says (0 or an hour are both legal). */
export const MIN_RELOAD_SECONDS = 0.5;
export const MAX_RELOAD_SECONDS = 30;

export interface DashMonitorOptions extends Omit<RepresentationContext, 'signal'> {
  url: string;
  /** Seconds between `tick` observations (time-based checks judge on them). */
  tickSeconds?: number;
}

export class DashDeliveryMonitor {
  private readonly followers = new Map<string, RepresentationFollower>();
  private readonly stopping = new AbortController();
  private stopTick = (): void => undefined;
  private polling: Promise<void> = Promise.resolve();
  private previousText: string | null = null;
  private publishTime: number | null = null;
  private video = new Set<string>();
  /** Which rendition each Representation@id continues, across Periods and loads. */
  private readonly tracks = new RepresentationTracks();

  constructor(private readonly options: DashMonitorOptions) {}

  /** Loads the MPD and starts following it; rejects when it is no MPD or cannot be loaded. */
  async start(): Promise<void> {
    const result = await this.fetchMpd();
    if (result.body === null) throw new MpdError(`cannot load ${this.options.url}: ${result.error}`);
    const manifest = this.parse(result.body);
    this.accept(manifest, result.body);
    if (manifest.dynamic) this.polling = this.poll(this.reloadSeconds(manifest, true));
    this.stopTick = everyBeat((this.options.tickSeconds ?? 0.25) * 1000, () =>
      this.options.observe({ kind: 'tick', t: this.options.now() }),
    );
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.stopTick();
    await this.polling;
    await Promise.all([...this.followers.values()].map((f) => f.stop()));
    this.followers.clear();
  }

  /** Every Representation followed now, in MPD order. */
  get renditions(): RenditionView[] {
    return [...this.followers.values()].map((f) => f.status);
  }

  /** The Representations the decoder can show a picture of (video), or all when none is. */
  get decodable(): RenditionView[] {
    const video = this.renditions.filter((r) => this.video.has(r.name));
    return video.length > 0 ? video : this.renditions;
  }

  private stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private fetchMpd(): Promise<{ status: number | null; body: string | null; error: string }> {
    const { url, timeoutSeconds, authorization } = this.options;
    return httpGet(url, { timeoutSeconds, maxBytes: MAX_MPD_BYTES, signal: this.stopping.signal, authorization }).then(
      (r) => ({ status: r.status, body: r.body?.toString('utf8') ?? null, error: r.error ?? '' }),
    );
  }

  private parse(text: string): DashManifest {
    return parseMpd(text, this.options.url, Date.now(), this.tracks);
  }

  /** Reloads until stopped: the MPD's own cadence after a change, half of it after a load that changed nothing. */
  private async poll(firstWait: number): Promise<void> {
    let wait = firstWait;
    while (!this.stopped()) {
      await this.sleep(wait * 1000);
      if (this.stopped()) return;
      const started = performance.now();
      wait = (await this.reload()) - (performance.now() - started) / 1000;
    }
  }

  /** One reload; returns the seconds until the next. */
  private async reload(): Promise<number> {
    const result = await this.fetchMpd();
    if (this.stopped()) return 0;
    const retry = MIN_RELOAD_SECONDS * 2;
    const failed = (status: number | null, error: string): number => {
      for (const f of this.followers.values()) f.unlisted(status, error);
      return retry;
    };
    if (result.body === null) return failed(result.status, result.error);
    let manifest: DashManifest;
    try {
      manifest = this.parse(result.body);
    } catch (err) {
      return failed(result.status, (err as Error).message);
    }
    const changed = result.body !== this.previousText;
    this.accept(manifest, result.body);
    return this.reloadSeconds(manifest, changed);
  }

  private reloadSeconds(manifest: DashManifest, changed: boolean): number {
    const shortest = Math.min(...manifest.representations.map((r) => r.snapshot.targetDuration));
    // 0 (or none): the MPD may change at any time; a segment's duration is then the cadence.
    const declared = manifest.minimumUpdatePeriod ?? 0;
    const period = declared > 0 ? declared : shortest;
    const wait = changed ? period : period / 2;
    return Math.min(MAX_RELOAD_SECONDS, Math.max(MIN_RELOAD_SECONDS, wait));
  }

  /** One MPD load: the MPD's own facts, the ladder it lists now, then each Representation's segments. */
  private accept(manifest: DashManifest, text: string): void {
    const { now, observe } = this.options;
    this.previousText = text;
    observe({ kind: 'mpd', t: now(), publishTime: manifest.publishTime, previousPublishTime: this.publishTime });
    if (manifest.publishTime !== null) this.publishTime = manifest.publishTime;
    const listed = new Set(manifest.representations.map((r) => r.declaration.name));
    for (const [name, follower] of this.followers) {
      if (listed.has(name)) continue;
      this.followers.delete(name);
      void follower.stop();
    }
    observe({ kind: 'ladder', t: now(), variants: manifest.representations.map((r) => r.declaration) });
    this.video = new Set(
      manifest.representations.filter((r) => r.contentType === 'video').map((r) => r.declaration.name),
    );
    for (const representation of manifest.representations) {
      const { name } = representation.declaration;
      let follower = this.followers.get(name);
      if (!follower) {
        follower = new RepresentationFollower(name, representation, { ...this.options, signal: this.stopping.signal });
        this.followers.set(name, follower);
      }
      follower.listed(representation);
    }
  }

  private sleep(ms: number): Promise<void> {
    return waitForBeat(ms, this.stopping.signal);
  }
}
