/**
 * Which sources the transport checks apply to, and where their bytes come from:
 *   udp://, rtp://      the analyzer's own socket (udp-tap.ts), arrival-timed; ffmpeg reads a relay
 *   srt://              srt-live-transmit run by the analyzer, teed (tapped-feed.ts), arrival-timed
 *   TS files, http(s)   read once by the analyzer and teed to the checker and ffmpeg's stdin,
 *                       timed by the stream's own PCRs
 *   HLS (TS segments)   the segments the delivery client fetched for the decoder, timed by their
 *                       PCRs, continuity restarted at each EXT-X-DISCONTINUITY; no PCR accuracy
 *   anything else       not applicable (RTMP, RTSP, MP4 and other non-TS files or downloads):
 *                       the checks report that they do not apply, never that they pass.
 */
import type { SegmentRef } from '../delivery/playlist.js';
import type { ProbeResult } from '../ingest/probe.js';
import type { MediaFeed } from '../ingest/session-loop.js';
import type { SourceRef } from '../ingest/source-url.js';
import type { TransportEvent } from './checker.js';
import type { Readable } from 'node:stream';
import { fileConnection, httpConnection, srtConnection, srtLiveTransmit, srtTransmitUri } from './connections.js';
import type { TransportMetrics } from './metrics.js';
import { TransportStage, type TransportStatus } from './stage.js';
import { TappedFeed } from './tapped-feed.js';
import { UdpTap } from './udp-tap.js';

/** The schemes whose TS the analyzer reads itself and tees to the decoder. */
const TEED_SCHEMES = new Set(['file', 'http', 'https', 'srt']);

export interface TransportTapDeps {
  clock: () => number;
  metrics: TransportMetrics;
  observe(t: number, event: TransportEvent): void;
  timelineNow(): number;
  pidErrorPeriod: number;
  /** ingest.ioTimeout: how long a network source may send nothing. */
  ioTimeoutSeconds: number;
  /** A connection of a teed source failed (the reason is safe to log). */
  lost(reason: string): void;
}

export class TransportTap {
  private readonly udp: UdpTap | null;
  private stage: TransportStage | null;
  private notApplicable: string;
  /** The teed connection the decoder reads (file, HTTP(S), SRT), once the probe said the source is a TS. */
  private feed: TappedFeed | null = null;
  /** The last HLS segment checked: a gap or a new discontinuity sequence restarts the counters. */
  private lastSegment: SegmentRef | null = null;
  /** What the decoding ffmpeg opens: the relay for UDP/RTP, the source itself otherwise. */
  readonly decodeSource: SourceRef;

  constructor(
    private readonly source: SourceRef,
    private readonly deps: TransportTapDeps,
  ) {
    this.udp = UdpTap.handles(source) ? new UdpTap(source, (ts, arrival) => this.stage?.push(ts, arrival)) : null;
    // Built before the probe: the checker sees the stream from its first datagram.
    this.stage = this.udp ? new TransportStage(true, deps) : null;
    this.decodeSource = this.udp?.relayed ?? source;
    this.notApplicable = TEED_SCHEMES.has(source.scheme)
      ? 'waiting for the probe'
      : `the transport checks read MPEG-TS from UDP, RTP, SRT, HTTP(S), HLS and files, not ${source.scheme}`;
  }

  async start(): Promise<void> {
    await this.udp?.start();
  }

  stop(): void {
    this.udp?.stop();
    this.feed?.close();
  }

  /** What the decoder reads when the analyzer reads the source itself; null: ffmpeg opens the source. */
  mediaFeed(): MediaFeed | null {
    return this.feed;
  }

  /**
   * A TS segment the HLS delivery client fetched for the decoder. A segment that does not
   * follow the last one (a new discontinuity sequence, a skipped segment) starts the stream
   * again: counters and PCRs need not continue across it.
   */
  hlsSegment(segment: SegmentRef, body: Buffer): void {
    // Segments arrive in bursts and are cut from the transport rate: the PCRs time them, and
    // PCR accuracy (a byte-position measure) is not judged.
    this.stage ??= new TransportStage(false, this.deps, false);
    const last = this.lastSegment;
    if (last && (segment.discontinuitySequence !== last.discontinuitySequence || segment.msn !== last.msn + 1)) {
      this.stage.restart();
    }
    this.lastSegment = segment;
    this.stage.push(body);
  }

  /** The probe said what the source is: a TS is read by the analyzer and teed; a non-TS source is not checked. */
  prepared(probe: ProbeResult, live: boolean): void {
    const ts = probe.formatName.split(',').includes('mpegts');
    if (this.udp && !ts && probe.formatName !== 'rtp') {
      this.stage = null;
      this.notApplicable = `the source is ${probe.formatName}, not an MPEG transport stream`;
      this.deps.metrics.setApplicable(false);
    }
    // UDP/RTP is tapped already; an HLS source's segments come from the delivery client.
    if (!TEED_SCHEMES.has(this.source.scheme) || this.stage) return;
    if (!ts) {
      this.notApplicable = probe.formatName.split(',').includes('hls')
        ? 'HLS segments are checked only when the delivery client follows the playlist (delivery.enabled)'
        : `the ${this.source.scheme === 'file' ? 'file' : 'source'} is ${probe.formatName}, not an MPEG transport stream`;
      return;
    }
    const connect = this.connector();
    if (typeof connect === 'string') {
      this.notApplicable = `${connect}: ffmpeg reads the SRT source itself`;
      return;
    }
    const network = this.source.scheme !== 'file';
    // SRT delivers each packet at its sender's time plus a fixed latency: its arrival times mean something.
    const stage = new TransportStage(this.source.scheme === 'srt', this.deps);
    this.stage = stage;
    this.feed = new TappedFeed(
      {
        source: {
          input: 'pipe:0',
          scheme: 'pipe',
          display: this.source.display,
          live,
          origin: this.source.scheme,
        },
        live,
        connect,
        idleSeconds: network ? this.deps.ioTimeoutSeconds : null,
        ioTimeoutSeconds: this.deps.ioTimeoutSeconds,
      },
      {
        connected: () => stage.restart(),
        bytes: (chunk, arrival) => stage.push(chunk, arrival),
        lost: (reason) => this.deps.lost(reason),
      },
    );
  }

  /** How one connection to the source is opened, or why an SRT source cannot be tapped. */
  private connector(): (() => Readable) | string {
    const { source } = this;
    if (source.scheme === 'file') return () => fileConnection(source.input);
    if (source.scheme !== 'srt') return () => httpConnection(source, this.deps.ioTimeoutSeconds);
    const program = srtLiveTransmit();
    if (program === null) return 'srt-live-transmit (Debian srt-tools) is not installed';
    try {
      srtTransmitUri(source.input);
    } catch (err) {
      return (err as Error).message;
    }
    return () => srtConnection(program, source);
  }

  tick(): void {
    this.stage?.tick(this.deps.clock() / 1000);
  }

  finish(): void {
    this.stage?.finish();
  }

  status(): TransportStatus {
    return this.stage?.status() ?? { applicable: false, reason: this.notApplicable };
  }
}
