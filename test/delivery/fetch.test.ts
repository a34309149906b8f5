/**
 * The delivery client's HTTP requests against loopback servers that misbehave: each request
 * has a deadline for its headers, for a silence within its body and for the whole answer,
 * refuses a body over its limit, follows few redirects (credentials to the source's own origin
 * only), and a headers-only check reads the size from Content-Length or Content-Range.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { httpGet, httpRequest, MAX_REDIRECTS, type FetchOptions } from '../../analyzer/delivery/fetch.js';

interface Loopback {
  url: (path: string) => string;
  requests: IncomingMessage[];
  close: () => Promise<void>;
}

async function loopback(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Loopback> {
  const requests: IncomingMessage[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const options = (extra: Partial<FetchOptions> = {}): FetchOptions => ({
  timeoutSeconds: 1,
  maxBytes: 1024 * 1024,
  signal: new AbortController().signal,
  ...extra,
});

test('a server that never sends its headers: no answer within the timeout, not the whole-answer deadline', async () => {
  const server = await loopback(() => undefined);
  try {
    const r = await httpGet(server.url('/a.m3u8'), options({ totalSeconds: 60 }));
    assert.deepEqual([r.status, r.body, r.error], [null, null, 'no answer within 1 s']);
  } finally {
    await server.close();
  }
});

test('a body that falls silent ends after the timeout, naming the silence', async () => {
  const server = await loopback((_req, res) => {
    res.writeHead(200, { 'content-length': 1000 });
    res.write(Buffer.alloc(10));
  });
  try {
    const r = await httpGet(server.url('/seg.ts'), options({ totalSeconds: 60 }));
    assert.deepEqual([r.status, r.body, r.error], [200, null, 'no data for 1 s within the body']);
  } finally {
    await server.close();
  }
});

test("the monitor's stop ends a request at once: before any answer, waiting for the headers, or within the body", async () => {
  const server = await loopback((req, res) => {
    if (req.url === '/body.ts') {
      res.writeHead(200, { 'content-length': 1000 });
      res.write(Buffer.alloc(10));
    }
  });
  try {
    const stopped = new AbortController();
    stopped.abort();
    const before = await httpGet(server.url('/a.m3u8'), options({ signal: stopped.signal }));
    assert.deepEqual([before.status, before.error], [null, 'aborted']);
    // Deadlines far away: only the stop can end these two.
    const long = { timeoutSeconds: 60, totalSeconds: 60 };
    for (const [path, status] of [
      ['/headers.m3u8', null],
      ['/body.ts', 200],
    ] as const) {
      const stop = new AbortController();
      const pending = httpGet(server.url(path), options({ ...long, signal: stop.signal }));
      while (!server.requests.some((r) => r.url === path)) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 50));
      stop.abort();
      const r = await pending;
      assert.deepEqual([r.status, r.body, r.error], [status, null, 'aborted'], path);
    }
  } finally {
    await server.close();
  }
});

test('a body that drips a byte at a time ends at the whole-answer deadline', async () => {
  const timers: NodeJS.Timeout[] = [];
  const server = await loopback((_req, res) => {
    res.writeHead(200);
    timers.push(setInterval(() => res.write('#'), 100));
  });
  try {
    const r = await httpGet(server.url('/a.m3u8'), options({ totalSeconds: 2 }));
    assert.deepEqual([r.status, r.body, r.error], [200, null, 'no complete answer within 2 s']);
  } finally {
    for (const t of timers) clearInterval(t);
    await server.close();
  }
});

test('a body over the limit is refused: from its Content-Length before reading, or once it grows past it', async () => {
  const server = await loopback((req, res) => {
    if (req.url === '/declared.ts') res.writeHead(200, { 'content-length': 4096 }).end(Buffer.alloc(4096));
    else res.writeHead(200).end(Buffer.alloc(4096));
  });
  try {
    const declared = await httpGet(server.url('/declared.ts'), options({ maxBytes: 1000 }));
    assert.deepEqual([declared.body, declared.error], [null, 'the body is larger than 1000 bytes (4096)']);
    const chunked = await httpGet(server.url('/chunked.ts'), options({ maxBytes: 1000 }));
    assert.deepEqual([chunked.body, chunked.error], [null, 'the body is larger than 1000 bytes']);
  } finally {
    await server.close();
  }
});

test(`a redirect loop ends after ${MAX_REDIRECTS} redirects; credentials never leave the source's origin`, async () => {
  const other = await loopback((_req, res) => res.writeHead(200).end('#EXTM3U\n'));
  const server = await loopback((req, res) => {
    if (req.url === '/loop.m3u8') res.writeHead(302, { location: '/loop.m3u8' }).end();
    else res.writeHead(301, { location: other.url('/cdn.m3u8') }).end();
  });
  try {
    const loop = await httpGet(server.url('/loop.m3u8'), options());
    assert.deepEqual([loop.status, loop.error], [null, `more than ${MAX_REDIRECTS} redirects`]);
    assert.equal(server.requests.length, MAX_REDIRECTS + 1);

    const origin = new URL(server.url('/')).origin;
    const authorization = { origin, header: 'Basic c2VjcmV0' };
    const moved = await httpGet(server.url('/moved.m3u8'), options({ authorization }));
    assert.equal(moved.body?.toString(), '#EXTM3U\n');
    assert.equal(server.requests.at(-1)?.headers.authorization, 'Basic c2VjcmV0');
    assert.equal(other.requests.at(-1)?.headers.authorization, undefined);
  } finally {
    await server.close();
    await other.close();
  }
});

test('a redirect to another scheme is refused', async () => {
  const server = await loopback((_req, res) => res.writeHead(302, { location: 'file:///etc/passwd' }).end());
  try {
    const r = await httpGet(server.url('/a.m3u8'), options());
    assert.deepEqual([r.body, r.error], [null, 'a redirect to a file: URL, not HTTP']);
  } finally {
    await server.close();
  }
});

test('a headers-only check: the size from a HEAD, from a Content-Range, or from a server that ignores Range', async () => {
  const body = Buffer.alloc(5000, 1);
  const server = await loopback((req, res) => {
    if (req.url === '/ranged.ts' && req.headers.range === 'bytes=0-0') {
      res.writeHead(206, { 'content-range': `bytes 0-0/${body.length}` }).end(body.subarray(0, 1));
    } else {
      res.writeHead(200, { 'content-length': body.length }).end(body);
    }
  });
  try {
    const head = await httpRequest(server.url('/seg.ts'), 'head', options());
    assert.deepEqual([head.status, head.size, head.body?.length, head.error], [200, 5000, 0, null]);
    assert.equal(server.requests.at(-1)?.method, 'HEAD');
    const ranged = await httpRequest(server.url('/ranged.ts'), 'range', options());
    assert.deepEqual([ranged.status, ranged.size, ranged.error], [206, 5000, null]);
    const ignored = await httpRequest(server.url('/seg.ts'), 'range', options());
    assert.deepEqual([ignored.status, ignored.size, ignored.error], [200, 5000, null]);
    assert.ok(head.headersSeconds !== null && head.headersSeconds <= head.seconds);
  } finally {
    await server.close();
  }
});

test('kept connections the server closed as they are reused: the request is sent again until it is answered', async () => {
  const served = new WeakSet<Socket>();
  const server = await loopback((req, res) => {
    // As a server whose idle timeout ends kept connections just as the client reuses them.
    if (served.has(req.socket)) {
      req.socket.destroy();
      return;
    }
    served.add(req.socket);
    res.writeHead(200, { 'content-length': 8 }).end('#EXTM3U\n');
  });
  try {
    // Two at once: two kept connections.
    const first = await Promise.all([
      httpGet(server.url('/a.m3u8'), options()),
      httpGet(server.url('/b.m3u8'), options()),
    ]);
    const next = await httpGet(server.url('/a.m3u8'), options());
    assert.deepEqual(
      first.map((r) => [r.status, r.error]),
      [
        [200, null],
        [200, null],
      ],
    );
    assert.deepEqual([next.status, next.body?.toString(), next.error], [200, '#EXTM3U\n', null]);
    // The third was asked three times: on each kept connection, then on a new one.
    assert.equal(server.requests.length, 5);
  } finally {
    await server.close();
  }
});

test('a body arrives byte for byte in many pieces, with a Content-Length or without; one cut before its length is an error', async () => {
  // 3 MB in 7000-byte writes: dozens of socket reads, none aligned with the pieces.
  const body = Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 31 + (i >> 9)) & 0xff));
  const server = await loopback((req, res) => {
    const declared = req.url !== '/chunked.ts';
    res.writeHead(200, declared ? { 'content-length': body.length } : {});
    // Cut: the declared length, and half of it sent before the connection ends.
    const end = req.url === '/cut.ts' ? body.length / 2 : body.length;
    for (let at = 0; at < end; at += 7000) res.write(body.subarray(at, Math.min(at + 7000, end)));
    if (req.url === '/cut.ts') res.socket?.destroy();
    else res.end();
  });
  try {
    const options4 = options({ maxBytes: 4 * 1024 * 1024 });
    for (const path of ['/declared.ts', '/chunked.ts']) {
      const got = await httpGet(server.url(path), options4);
      assert.deepEqual([got.status, got.error, got.size], [200, null, body.length], path);
      assert.ok(got.body?.equals(body), `${path}: the body differs from what was sent`);
    }
    const cut = await httpGet(server.url('/cut.ts'), options4);
    assert.deepEqual([cut.body, cut.error?.length ? 'an error' : cut.error], [null, 'an error']);
    const peek = await httpRequest(server.url('/declared.ts'), 'peek', options({ maxBytes: 100_000 }));
    assert.deepEqual([peek.error, peek.size], [null, body.length]);
    assert.ok(peek.body?.equals(body.subarray(0, 100_000)), 'a peek is the first maxBytes of the body');
  } finally {
    await server.close();
  }
});
