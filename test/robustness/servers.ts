/**
 * Hostile endpoints on loopback for the fuzz suite: one HTTP server whose first path segment
 * picks a behaviour (an error status, a redirect loop, silence, a drip of bytes, HLS playlists
 * that loop back on themselves, files with and without Range), and one TCP server that accepts
 * and never says a word (for rtmp and rtsp).
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { basename, join } from 'node:path';
import { seededBytes } from './noise.js';

/** How a request under `/<behaviour>/...` is answered. */
type Behaviour = (req: IncomingMessage, res: ServerResponse, rest: string[]) => void;

export interface HostileServers {
  /** `http://127.0.0.1:PORT` */
  readonly httpBase: string;
  /** A TCP port that accepts connections and never sends a byte. */
  readonly silentTcpPort: number;
  /** The URL of `file` under `behaviour`; `marker` keeps each input's URL unique. */
  url(behaviour: HostileBehaviour, marker: string, file: string): string;
  close(): Promise<void>;
}

export interface ServedMedia {
  /** A finite MPEG-TS clip served whole (with and without Range). */
  clip: string;
  /** A folder holding an HLS VOD playlist `index.m3u8` and its segments. */
  hlsDir: string;
}

const DRIP_BYTES = 64;
const DRIP_EVERY_MS = 100;

function status(code: number, headers: Record<string, string> = {}): Behaviour {
  return (_req, res) => {
    res.writeHead(code, { 'content-type': 'text/plain', ...headers });
    res.end(`${code}\n`);
  };
}

function playlist(text: string): Behaviour {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' });
    res.end(text);
  };
}

/** A file served with byte ranges, as a CDN does: the analyzer may seek and learn the duration. */
function fileWithRange(path: string): Behaviour {
  return (req, res) => {
    const size = statSync(path).size;
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (!range) {
      res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': size, 'accept-ranges': 'bytes' });
      createReadStream(path).pipe(res);
      return;
    }
    const start = range[1] === '' ? Math.max(0, size - Number(range[2])) : Number(range[1]);
    const end = range[1] !== '' && range[2] !== '' ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start >= size) {
      res.writeHead(416, { 'content-range': `bytes */${size}` });
      res.end();
      return;
    }
    res.writeHead(206, {
      'content-type': 'video/mp2t',
      'content-length': end - start + 1,
      'content-range': `bytes ${start}-${end}/${size}`,
      'accept-ranges': 'bytes',
    });
    createReadStream(path, { start, end }).pipe(res);
  };
}

/** The whole file, whatever Range asked: a plain server that cannot seek. */
function fileWithoutRange(path: string): Behaviour {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': statSync(path).size });
    createReadStream(path).pipe(res);
  };
}

/** Files of `dir` by name; the names in `missing` answer 404. */
function folder(dir: string, missing: ReadonlySet<string>): Behaviour {
  return (_req, res, rest) => {
    const name = basename(rest.join('/'));
    if (missing.has(name)) {
      status(404)(_req, res, rest);
      return;
    }
    try {
      const body = readFileSync(join(dir, name));
      res.writeHead(200, { 'content-type': name.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp2t' });
      res.end(body);
    } catch {
      status(404)(_req, res, rest);
    }
  };
}

/** Seeded noise, a few bytes at a time, forever: no timeout fires and no format is ever found. */
function drip(): Behaviour {
  return (req, res) => {
    res.writeHead(200, { 'content-type': 'video/mp2t' });
    let seed = 1;
    const timer = setInterval(() => res.write(seededBytes(seed++, DRIP_BYTES)), DRIP_EVERY_MS);
    req.socket.on('close', () => clearInterval(timer));
  };
}

const MASTER_TO = (target: string): string =>
  `#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=100000,RESOLUTION=160x90\n${target}\n`;

function behaviours(media: ServedMedia) {
  return {
    unauthorized: status(401, { 'www-authenticate': 'Basic realm="streamqc-fuzz"' }),
    forbidden: status(403),
    'not-found': status(404),
    'server-error': status(500),
    'redirect-loop': (req, res) => {
      res.writeHead(302, { location: req.url ?? '/' });
      res.end();
    },
    html: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>login</title><p>Please sign in.</p>\n'.repeat(40));
    },
    // Never answers: the request is read and left open.
    silent: () => undefined,
    drip: drip(),
    file: fileWithRange(media.clip),
    'file-no-range': fileWithoutRange(media.clip),
    hls: folder(media.hlsDir, new Set()),
    'hls-missing-segment': folder(media.hlsDir, new Set(['index1.ts'])),
    'hls-all-segments-missing': (req, res, rest) =>
      (rest.at(-1)?.endsWith('.ts') ? status(404) : folder(media.hlsDir, new Set()))(req, res, rest),
    // A master playlist whose only variant is itself.
    'hls-self-master': playlist(MASTER_TO('master.m3u8')),
    // Two masters naming each other.
    'hls-ping-pong': (req, res, rest) =>
      playlist(MASTER_TO(rest.at(-1) === 'a.m3u8' ? 'b.m3u8' : 'a.m3u8'))(req, res, rest),
    // A media playlist whose only segment is the playlist itself.
    'hls-self-segment': playlist('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nself.m3u8\n#EXT-X-ENDLIST\n'),
  } satisfies Record<string, Behaviour>;
}

export type HostileBehaviour = keyof ReturnType<typeof behaviours>;

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

export async function startHostileServers(media: ServedMedia): Promise<HostileServers> {
  const table: Record<string, Behaviour> = behaviours(media);
  const http = createHttpServer((req, res) => {
    const [behaviour = '', ...rest] = new URL(req.url ?? '/', 'http://x').pathname.split('/').filter(Boolean);
    (table[behaviour] ?? status(404))(req, res, rest);
  });
  const sockets = new Set<Socket>();
  const tcp = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  const httpPort = await listen(http);
  const silentTcpPort = await listen(tcp);
  const httpBase = `http://127.0.0.1:${httpPort}`;
  return {
    httpBase,
    silentTcpPort,
    url: (behaviour, marker, file) => `${httpBase}/${behaviour}/${marker}/${file}`,
    async close() {
      http.closeAllConnections();
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise((r) => http.close(r)), new Promise((r) => tcp.close(r))]);
    },
  };
}
