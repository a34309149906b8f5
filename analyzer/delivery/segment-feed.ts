/**
 * The chosen rendition's segments, handed to the decoder as the HLS client fetched them: the
 * newest segment is what the probe reads, and each decode session reads a stream that starts
 * with it and goes on with every segment fetched after. Nothing is downloaded twice, and a
 * decoder that falls behind loses whole segments (counted) rather than growing memory. A TS
 * segment's continuity counters go on from the last the session was given (segment-continuity.ts):
 * a splice or a lost segment is no corrupt packet to the decoder.
 */
import { PassThrough, type Readable } from 'node:stream';
import { ProbeAborted, ProbeError, probeDeadlineReason, probeDeadlineSeconds } from '../ingest/probe.js';
import type { SourceRef } from '../ingest/source-url.js';
import type { MediaFeed } from '../ingest/session-loop.js';
import type { SegmentRef } from './playlist.js';
import { ContinuityJoiner } from './segment-continuity.js';

/** Bytes a decode session may have waiting before segments are dropped: a minute at 30 Mbit/s. */
const MAX_BUFFERED_BYTES = 256 * 1024 * 1024;

export class SegmentFeed implements MediaFeed {
  private latest: Buffer | null = null;
  /** Fragmented MP4 (DASH): the initialization segment every decode session starts with. */
  private header: Buffer | null = null;
  private waiters: ((segment: Buffer) => void)[] = [];
  /** Each decode session's stream, with the continuity counters it has been given so far. */
  private readonly readers = new Map<PassThrough, ContinuityJoiner>();
  /** Segments a decode session was too far behind to take. */
  dropped = 0;

  constructor(
    readonly source: SourceRef,
    readonly live: boolean,
    /** ingest.ioTimeout: the probe waits for a first segment as long as ffprobe's probe would for a source. */
    private readonly ioTimeoutSeconds: number,
    /** Why the chosen rendition delivers nothing, as the client last saw it (for the message). */
    private readonly lastProblem: () => string | null = () => null,
    /** The transport checks see every segment the decoder is given (transport/source-tap.ts). */
    private readonly transport?: (ref: SegmentRef, segment: Buffer) => void,
  ) {}

  /**
   * The initialization segment the media segments need (fragmented MP4); kept for each new
   * session. True when it replaces another (a new Period coded otherwise): the segments after
   * it cannot be read by a decoder that began with the old one.
   */
  setHeader(init: Buffer): boolean {
    const replaced = this.header !== null && this.header !== init && !this.header.equals(init);
    this.header = init;
    // The sessions reading now end where the old coding ends, instead of decoding what they cannot.
    if (replaced) this.close();
    return replaced;
  }

  /** A segment of the chosen rendition was fetched. */
  push(segment: Buffer, ref: SegmentRef): void {
    this.transport?.(ref, segment);
    this.latest = segment;
    for (const w of this.waiters.splice(0)) w(segment);
    for (const [reader, joiner] of this.readers) {
      if (reader.writableLength + segment.length > MAX_BUFFERED_BYTES) this.dropped++;
      else reader.write(joiner.join(segment));
    }
  }

  probeInput(signal: AbortSignal): Promise<Buffer> {
    if (this.latest) return Promise.resolve(this.withHeader(this.latest));
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', aborted);
      };
      const aborted = (): void => {
        done();
        reject(new ProbeAborted('probe stopped'));
      };
      const timer = setTimeout(
        () => {
          done();
          // The words of ffprobe's own deadline: a source that never answers reads the same either way.
          const last = this.lastProblem();
          const reason = `${probeDeadlineReason(this.ioTimeoutSeconds)}${last === null ? '' : `; last: ${last}`}`;
          reject(new ProbeError(`cannot open ${this.source.display}: ${reason}`));
        },
        probeDeadlineSeconds(this.ioTimeoutSeconds) * 1000,
      );
      signal.addEventListener('abort', aborted, { once: true });
      this.waiters.push((segment) => {
        done();
        resolve(this.withHeader(segment));
      });
    });
  }

  open(): Readable {
    const reader = new PassThrough({ highWaterMark: 1024 * 1024 });
    const joiner = new ContinuityJoiner();
    this.readers.set(reader, joiner);
    reader.on('close', () => this.readers.delete(reader));
    if (this.latest) reader.write(this.withHeader(joiner.join(this.latest)));
    return reader;
  }

  private withHeader(segment: Buffer): Buffer {
    return this.header ? Buffer.concat([this.header, segment]) : segment;
  }

  /** No more segments: every decode session reads to the end of what it has. */
  close(): void {
    for (const reader of this.readers.keys()) reader.end();
    this.readers.clear();
  }
}
