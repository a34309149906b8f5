/**
 * The segments a rendition still has to fetch, one at a time and in order: the newest
 * MAX_PENDING_SEGMENTS kept (a fetcher that falls behind skips the oldest), the fetcher asleep
 * while there is nothing to do. Shared by the HLS and DASH pollers.
 */
import type { SegmentRef } from './playlist.js';

export class SegmentQueue {
  private readonly pending: SegmentRef[] = [];
  private wake: (() => void) | null = null;

  constructor(
    private readonly max: number,
    private readonly stopped: () => boolean,
  ) {}

  /** New segments to fetch, after those waiting. */
  add(segments: readonly SegmentRef[]): void {
    if (segments.length === 0) return;
    this.pending.push(...segments);
    this.pending.splice(0, Math.max(0, this.pending.length - this.max));
    this.wake?.();
  }

  /** Wakes the fetcher, so that it sees a stop. */
  interrupt(): void {
    this.wake?.();
  }

  /** Fetches every segment as it comes until stopped. */
  async run(fetch: (segment: SegmentRef) => Promise<void>): Promise<void> {
    while (!this.stopped()) {
      const segment = this.pending.shift();
      if (segment === undefined) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      await fetch(segment);
    }
  }
}
