/**
 * Which sources the transport checks apply to, and where their bytes come from:
 *   udp://, rtp://  the analyzer's own socket (udp-tap.ts), arrival-timed; ffmpeg reads a relay
 *   TS files        read once more by the analyzer, timed by the stream's own PCRs
 *   anything else   not applicable (RTMP, RTSP, HLS, HTTP downloads, MP4 and other files):
 *                   the checks report that they do not apply, never that they pass.
 */
import { createReadStream } from 'node:fs';
import type { ProbeResult } from '../ingest/probe.js';
import type { SourceRef } from '../ingest/source-url.js';
import type { TransportEvent } from './checker.js';
import type { TransportMetrics } from './metrics.js';
import { TransportStage, type TransportStatus } from './stage.js';
import { UdpTap } from './udp-tap.js';

export interface TransportTapDeps {
  clock: () => number;
  metrics: TransportMetrics;
  observe(t: number, event: TransportEvent): void;
  timelineNow(): number;
  pidErrorPeriod: number;
}

export class TransportTap {
  private readonly udp: UdpTap | null;
  private stage: TransportStage | null;
  private notApplicable: string;
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
    this.notApplicable =
      source.scheme === 'file'
        ? 'waiting for the probe'
        : `the transport checks read UDP, RTP and MPEG-TS files, not ${source.scheme}`;
  }

  async start(): Promise<void> {
    await this.udp?.start();
  }

  stop(): void {
    this.udp?.stop();
  }

  /** The probe said what the source is: a TS file is read through the checker; a non-TS stream is not checked. */
  prepared(probe: ProbeResult): void {
    const ts = probe.formatName.split(',').includes('mpegts');
    if (this.udp && !ts && probe.formatName !== 'rtp') {
      this.stage = null;
      this.notApplicable = `the source is ${probe.formatName}, not an MPEG transport stream`;
      this.deps.metrics.setApplicable(false);
    }
    if (this.source.scheme !== 'file' || this.stage) return;
    if (!ts) {
      this.notApplicable = `the file is ${probe.formatName}, not an MPEG transport stream`;
      return;
    }
    const stage = new TransportStage(false, this.deps);
    this.stage = stage;
    createReadStream(this.source.input)
      .on('data', (chunk) => {
        stage.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      })
      .on('end', () => {
        stage.finish();
      })
      .on('error', () => undefined); // the decoder reports an unreadable file
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
