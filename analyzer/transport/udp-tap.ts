/**
 * The bytes of a UDP or RTP source as received: the analyzer opens the source's socket itself
 * (a unicast port can be bound once), hands each datagram's transport stream to the checker
 * with its arrival time, and relays the datagram unchanged to a loopback port that the
 * decoding ffmpeg reads instead of the source. Probe, decode and reconnects keep working as
 * before, on the relay; the checker sees what the network delivered, before any remux. The
 * socket lives in its own thread (udp-tap-worker.ts) so that a busy main thread delays only the
 * checks, never the relay.
 */
import { createSocket } from 'node:dgram';
import { Worker } from 'node:worker_threads';
import type { SourceRef } from '../ingest/source-url.js';

/** RTP fixed header (RFC 3550 §5.1): 12 bytes, then CSRCs and an optional extension. */
export function rtpPayload(datagram: Uint8Array): Uint8Array | null {
  if (datagram.length < 12 || (datagram[0] ?? 0) >> 6 !== 2) return null;
  let at = 12 + 4 * ((datagram[0] ?? 0) & 0x0f);
  if (((datagram[0] ?? 0) & 0x10) !== 0) {
    if (datagram.length < at + 4) return null;
    at += 4 + 4 * (((datagram[at + 2] ?? 0) << 8) | (datagram[at + 3] ?? 0));
  }
  let end = datagram.length;
  if (((datagram[0] ?? 0) & 0x20) !== 0) end -= datagram[datagram.length - 1] ?? 0; // padding
  return at <= end ? datagram.subarray(at, end) : null;
}

function isMulticast(host: string): boolean {
  const first = Number(host.split('.')[0]);
  return first >= 224 && first <= 239;
}

/** What the tap's thread (udp-tap-worker.ts) is told. */
export interface TapSettings {
  host: string;
  port: number;
  multicast: boolean;
  rtp: boolean;
  relayPort: number;
}

/** What it answers. */
export type TapMessage =
  | { kind: 'bound' }
  | { kind: 'error'; message: string }
  | { kind: 'bytes'; batch: { ts: Uint8Array; arrival: number }[] };

export class UdpTap {
  private worker: Worker | null = null;
  private readonly url: URL;
  /** The source as the decoder opens it: the loopback relay (known once started), with the original query options. */
  readonly relayed: { input: string } & SourceRef;

  constructor(
    private readonly source: SourceRef,
    private readonly onBytes: (ts: Uint8Array, arrivalSeconds: number) => void,
  ) {
    this.url = new URL(source.input);
    this.relayed = { scheme: source.scheme, display: source.display, live: source.live, input: source.input };
  }

  /** The schemes whose datagrams this tap reads. */
  static handles(source: SourceRef): boolean {
    return source.scheme === 'udp' || source.scheme === 'rtp';
  }

  /** Bind the source's port (in the tap's own thread); rejects naming the port when it cannot. */
  async start(): Promise<void> {
    const host = this.url.hostname.replace(/^\[|\]$/g, '');
    const relayPort = await freeUdpPort();
    const settings: TapSettings = {
      host,
      port: Number(this.url.port),
      multicast: isMulticast(host),
      rtp: this.source.scheme === 'rtp',
      relayPort,
    };
    const worker = new Worker(new URL('./udp-tap-worker.js', import.meta.url), { workerData: settings });
    this.worker = worker;
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (message: TapMessage) => {
        if (message.kind === 'bound') resolve();
        else if (message.kind === 'error') {
          void worker.terminate();
          this.worker = null;
          reject(new Error(`cannot read ${this.source.display}: ${message.message}`));
        } else for (const { ts, arrival } of message.batch) this.onBytes(ts, arrival);
      });
      worker.on('error', reject); // after start, a rejection no one awaits: the decode reports the source
    });
    this.relayed.input = `${this.source.scheme}://127.0.0.1:${String(relayPort)}${this.url.search}`;
  }

  stop(): void {
    this.worker?.postMessage('stop');
    this.worker = null;
  }
}

/** A loopback UDP port free right now (the decoder binds it moments later). */
async function freeUdpPort(): Promise<number> {
  const probe = createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
