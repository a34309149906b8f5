/**
 * A transport stream the analyzer reads itself (a TS file, an HTTP(S) TS, an SRT connection
 * through srt-live-transmit), teed: every chunk goes to the transport checker as it arrived
 * and, unchanged, to the decoding ffmpeg on its stdin. One connection serves both, so the
 * checker sees the bytes before any remux and an SRT listener or a file is opened once.
 *
 * Reconnects stay the session loop's (ingest/session-loop.ts): a connection that ends or
 * fails ends the decoder's input, the decode session ends, and the next session (after the
 * loop's backoff) opens a new connection. A probe that the loop asks for reads the first
 * bytes of a new connection, which the next session then goes on with.
 */
import { PassThrough, type Readable } from 'node:stream';
import { ProbeAborted, ProbeError, probeDeadlineSeconds } from '../ingest/probe.js';
import type { MediaFeed } from '../ingest/session-loop.js';
import type { SourceRef } from '../ingest/source-url.js';

/** Bytes a probe reads at most (a finite source arrives faster than real time). */
const PROBE_BYTES = 4 * 1024 * 1024;
/** Seconds of a live source a probe reads (ingest/probe.ts analyses 3 s of media). */
const PROBE_SECONDS = 3;
/** Bytes held for a session that has not started yet; beyond this the source waits. */
const MAX_HELD_BYTES = 64 * 1024 * 1024;
/** What ffmpeg's stdin pipe may hold before the source is paused. */
const PIPE_HIGH_WATER = 1024 * 1024;

/** Where the bytes of each connection go besides the decoder. */
export interface TapSink {
  /** A new connection starts: it joins the stream anew. */
  connected(): void;
  /** Bytes as received; `arrival` in seconds since the epoch. */
  bytes(chunk: Uint8Array, arrival: number): void;
  /** A connection failed (the reason names the source by its display form only). */
  lost(reason: string): void;
}

export interface TappedFeedOptions {
  /** What ffmpeg and ffprobe open: a `pipe` source whose `display` is the real one. */
  source: SourceRef;
  live: boolean;
  /** Opens one connection; its stream fails with an Error whose message says why. */
  connect(): Readable;
  /** A network source that sends nothing for this long is given up (ffmpeg's -rw_timeout before); null: never. */
  idleSeconds: number | null;
  ioTimeoutSeconds: number;
}

/** One connection, its bytes teed to the checker and held until a decode session takes them. */
class Tee {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private out: PassThrough | null = null;
  private firstByteAt: number | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  ended = false;
  failure: string | null = null;
  private readonly changed = new Set<() => void>();

  constructor(
    private readonly input: Readable,
    sink: TapSink,
    private readonly idleSeconds: number | null,
  ) {
    sink.connected();
    this.armIdle();
    input.on('data', (chunk: Buffer) => {
      this.armIdle();
      this.firstByteAt ??= performance.now();
      sink.bytes(chunk, Date.now() / 1000);
      if (this.out) {
        if (!this.out.write(chunk)) input.pause();
      } else {
        this.held.push(chunk);
        this.heldBytes += chunk.length;
        if (this.heldBytes > MAX_HELD_BYTES) input.pause();
      }
      this.notify();
    });
    input.on('end', () => this.close(null));
    input.on('error', (err) => {
      sink.lost(err.message);
      this.close(err.message);
    });
  }

  /** Bytes held so far, and milliseconds since the first of them. */
  get progress(): { bytes: number; sinceFirstMs: number | null } {
    return {
      bytes: this.heldBytes,
      sinceFirstMs: this.firstByteAt === null ? null : performance.now() - this.firstByteAt,
    };
  }

  get heldData(): Buffer {
    return Buffer.concat(this.held, this.heldBytes);
  }

  onChange(listener: () => void): () => void {
    this.changed.add(listener);
    return () => this.changed.delete(listener);
  }

  /** The stream a decode session reads: what was held, then everything that follows. */
  attach(): Readable {
    const out = new PassThrough({ highWaterMark: PIPE_HIGH_WATER });
    this.out = out;
    for (const chunk of this.held) out.write(chunk);
    this.held = [];
    this.heldBytes = 0;
    out.on('drain', () => this.input.resume());
    // The decoder exited (or was stopped for a stall): the connection goes with it.
    out.on('close', () => this.destroy());
    if (this.ended) out.end();
    else this.input.resume();
    return out;
  }

  destroy(): void {
    this.clearIdle();
    this.input.destroy();
  }

  private close(failure: string | null): void {
    this.clearIdle();
    this.ended = true;
    this.failure ??= failure;
    this.out?.end();
    this.notify();
  }

  private notify(): void {
    for (const listener of this.changed) listener();
  }

  /** No byte for idleSeconds (while the decoder is not holding the source back): the source is gone. */
  private armIdle(): void {
    if (this.idleSeconds === null) return;
    this.clearIdle();
    this.idleTimer = setTimeout(() => {
      if (this.input.isPaused()) return this.armIdle();
      this.input.destroy(new Error(`no data for ${this.idleSeconds} s`));
    }, this.idleSeconds * 1000);
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}

export class TappedFeed implements MediaFeed {
  /** A connection a probe opened, waiting for the session that follows. */
  private pending: Tee | null = null;
  /** Why the newest connection failed; null while it has not. */
  private lastFailure: string | null = null;
  private readonly sink: TapSink;
  readonly source: SourceRef;
  readonly live: boolean;

  constructor(
    private readonly options: TappedFeedOptions,
    sink: TapSink,
  ) {
    this.sink = {
      ...sink,
      lost: (reason) => {
        this.lastFailure = reason;
        sink.lost(reason);
      },
    };
    this.source = options.source;
    this.live = options.live;
  }

  /** The first bytes of a new connection (kept for the next session); rejects naming why when none come. */
  async probeInput(signal: AbortSignal): Promise<Buffer> {
    this.pending?.destroy();
    const tee = this.connect();
    this.pending = tee;
    try {
      await this.firstBytes(tee, signal);
    } catch (err) {
      tee.destroy();
      if (this.pending === tee) this.pending = null;
      throw err;
    }
    return tee.heldData;
  }

  open(): Readable {
    const tee = this.pending ?? this.connect();
    this.pending = null;
    return tee.attach();
  }

  /** The run is over: a connection still waiting for a session is closed. */
  close(): void {
    this.pending?.destroy();
    this.pending = null;
  }

  failure(): string | null {
    return this.lastFailure;
  }

  private connect(): Tee {
    this.lastFailure = null;
    return new Tee(this.options.connect(), this.sink, this.options.idleSeconds);
  }

  private firstBytes(tee: Tee, signal: AbortSignal): Promise<void> {
    const { display } = this.options.source;
    const deadline = probeDeadlineSeconds(this.options.ioTimeoutSeconds);
    return new Promise((resolve, reject) => {
      const settle = (error: Error | null): void => {
        clearTimeout(timer);
        clearInterval(ticker);
        signal.removeEventListener('abort', aborted);
        unlisten();
        if (error) reject(error);
        else resolve();
      };
      const check = (): void => {
        const { bytes, sinceFirstMs } = tee.progress;
        if (tee.ended && bytes === 0) {
          settle(new ProbeError(`cannot open ${display}: ${tee.failure ?? 'the source sent nothing'}`));
        } else if (tee.ended || bytes >= PROBE_BYTES || (sinceFirstMs ?? 0) >= PROBE_SECONDS * 1000) {
          settle(null);
        }
      };
      const aborted = (): void => settle(new ProbeAborted('probe stopped'));
      const timer = setTimeout(() => {
        if (tee.progress.bytes > 0) settle(null);
        else settle(new ProbeError(`cannot open ${display}: no data within ${deadline} s`));
      }, deadline * 1000);
      // A live source's probe ends by time, not by a byte.
      const ticker = setInterval(check, 100);
      const unlisten = tee.onChange(check);
      signal.addEventListener('abort', aborted, { once: true });
      check();
    });
  }
}
