/**
 * The bytes of a UDP or RTP source as received: the analyzer opens the source's socket itself
 * (a unicast port can be bound once), hands each datagram's transport stream to the checker
 * with its arrival time, and relays the datagram unchanged to a loopback port that the
 * decoding ffmpeg reads instead of the source. Probe, decode and reconnects keep working as
 * before, on the relay; the checker sees what the network delivered, before any remux.
 */
import { createSocket, type Socket } from 'node:dgram';
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

export class UdpTap {
  private listener: Socket | null = null;
  private relay: Socket | null = null;
  private relayPort = 0;
  private readonly url: URL;

  constructor(
    private readonly source: SourceRef,
    private readonly onBytes: (ts: Uint8Array, arrivalSeconds: number) => void,
    private readonly clock: () => number,
  ) {
    this.url = new URL(source.input);
    this.relayed = { scheme: source.scheme, display: source.display, live: source.live, input: source.input };
  }

  /** The schemes whose datagrams this tap reads. */
  static handles(source: SourceRef): boolean {
    return source.scheme === 'udp' || source.scheme === 'rtp';
  }

  /** The source as the decoder opens it: the loopback relay (known once started), with the original query options. */
  readonly relayed: { input: string } & SourceRef;

  async start(): Promise<void> {
    const host = this.url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(this.url.port);
    const multicast = isMulticast(host);
    const listener = createSocket({ type: 'udp4', reuseAddr: multicast });
    this.listener = listener;
    listener.on('message', (datagram) => {
      const arrival = this.clock() / 1000;
      const ts = this.source.scheme === 'rtp' ? rtpPayload(datagram) : datagram;
      if (ts) this.onBytes(ts, arrival);
      this.relay?.send(datagram, this.relayPort, '127.0.0.1');
    });
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.bind(port, multicast ? host : undefined, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    if (multicast) listener.addMembership(host);
    listener.on('error', () => undefined);
    this.relay = createSocket('udp4');
    this.relay.on('error', () => undefined); // nobody reading yet (ffmpeg restarting): the datagram is lost, as it would be
    this.relayPort = await freeUdpPort();
    const query = this.url.search;
    this.relayed.input = `${this.source.scheme}://127.0.0.1:${String(this.relayPort)}${query}`;
  }

  stop(): void {
    this.listener?.close();
    this.relay?.close();
    this.listener = null;
    this.relay = null;
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
