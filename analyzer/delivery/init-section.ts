/**
 * The initialization section fragmented MP4 media segments need (HLS EXT-X-MAP, a DASH
 * Representation's initialization segment): fetched once per URL, before the first download
 * that needs it, then handed on with every media segment (the decoder and the probe read
 * init + segment). A new URL (a new Period, another EXT-X-MAP) is fetched when a segment that
 * needs it is downloaded, not when a playlist first lists it, so the segments still queued
 * from before are read with their own.
 */
import type { FetchResult } from './fetch.js';
import type { SegmentFailure } from './segment-check.js';

/** An initialization section is a few kB of boxes; this bounds a hostile one. */
export const MAX_INIT_BYTES = 4 * 1024 * 1024;

export class InitSection {
  /** The URL `body` was (or is being) fetched from. */
  private from: string | null = null;
  /** The section of the segment downloaded last, or null (MPEG-TS segments need none). */
  body: Buffer | null = null;

  constructor(private readonly get: (url: string, maxBytes: number) => Promise<FetchResult>) {}

  /** Makes `uri`'s section the current one (fetching it once); why it cannot be had, or null. */
  async need(uri: string | null): Promise<SegmentFailure | null> {
    if (uri !== this.from) {
      this.from = uri;
      this.body = null;
    }
    if (uri === null || this.body !== null) return null;
    const result = await this.get(uri, MAX_INIT_BYTES);
    if (result.body === null) return { status: result.status, error: `initialization segment: ${result.error ?? ''}` };
    if (this.from === uri) this.body = result.body;
    return null;
  }

  /** What a reader of a downloaded segment needs: the section, then the segment. */
  before(segment: Buffer): Buffer {
    return this.body ? Buffer.concat([this.body, segment]) : segment;
  }
}
