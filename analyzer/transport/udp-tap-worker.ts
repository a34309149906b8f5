/**
 * The UDP/RTP tap's socket, in its own thread: the analyzer's main thread may be busy with a
 * frame for longer than a socket buffer lasts at 20 Mbit/s (tens of milliseconds), and the
 * relay to the decoder must not wait for it. This thread receives each datagram, relays it at
 * once, stamps its arrival time, and hands the transport stream bytes to the main thread in
 * batches; the checker there may lag, but loses nothing.
 */
import { createSocket } from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import { rtpPayload, type TapMessage, type TapSettings } from './udp-tap.js';

/** How often the received bytes are handed over (ms): small against every check's period. */
const HAND_OVER_MS = 10;

function run(settings: TapSettings): void {
  const port = parentPort;
  if (!port) return;
  const listener = createSocket({ type: 'udp4', reuseAddr: settings.multicast });
  const relay = createSocket('udp4');
  relay.on('error', () => undefined); // the decoder is restarting: the datagram is lost, as it would be
  let batch: { ts: Uint8Array; arrival: number }[] = [];
  listener.on('message', (datagram) => {
    relay.send(datagram, settings.relayPort, '127.0.0.1');
    const ts = settings.rtp ? rtpPayload(datagram) : datagram;
    if (ts) batch.push({ ts: Uint8Array.from(ts), arrival: Date.now() / 1000 });
  });
  const timer = setInterval(() => {
    if (batch.length === 0) return;
    const message: TapMessage = { kind: 'bytes', batch };
    port.postMessage(
      message,
      batch.map((b) => b.ts.buffer as ArrayBuffer),
    );
    batch = [];
  }, HAND_OVER_MS);
  listener.once('error', (err) => {
    const message: TapMessage = { kind: 'error', message: err.message };
    port.postMessage(message);
  });
  listener.bind(settings.port, settings.multicast ? settings.host : undefined, () => {
    if (settings.multicast) listener.addMembership(settings.host);
    const message: TapMessage = { kind: 'bound' };
    port.postMessage(message);
  });
  port.on('message', () => {
    clearInterval(timer);
    listener.close();
    relay.close();
    port.close();
  });
}

run(workerData as TapSettings);
