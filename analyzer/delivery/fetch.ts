/**
 * One HTTP request as the delivery checks need it: the status, the body (bounded), and how long
 * the answer took. A server is untrusted: every failure is a result, never a throw, no answer
 * may hold more than `maxBytes` in memory, and each request has three deadlines (the headers,
 * a silence within the body, the whole answer) and follows at most MAX_REDIRECTS redirects.
 */

import { Agent as HttpAgent, request as httpRequestOf, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface FetchResult {
  /** HTTP status, or null when no response came (connection refused, timeout, reset). */
  status: number | null;
  /** The body of a 2xx answer (a 206's first bytes; empty for a headers-only request); null otherwise. */
  body: Buffer | null;
  /** Seconds from the request to the last byte of the body (or to the failure). */
  seconds: number;
  /** Seconds from the request to the response headers (time to first byte); null when none came. */
  headersSeconds: number | null;
  /**
   * The size of the resource as the headers say (Content-Length of a full answer, the total
   * of a Content-Range); null when they do not say.
   */
  size: number | null;
  /** The Content-Type of the answer (lower case, without parameters); null when none came. */
  contentType: string | null;
  /** Why it failed, for people; null on success. */
  error: string | null;
}

export interface FetchOptions {
  /** Seconds for the response headers, and the longest silence within the body. */
  timeoutSeconds: number;
  /** Seconds for the whole answer; default: twice timeoutSeconds. */
  totalSeconds?: number;
  maxBytes: number;
  /** Aborts the request when the monitor stops. */
  signal: AbortSignal;
  /** Credentials of the source, sent only to its own origin (never to a CDN a playlist points at). */
  authorization?: { origin: string; header: string };
  /** Monotonic seconds (performance.now based by default). */
  clock?: () => number;
  /** Bytes a `range` request asks for from the start of the resource (default 1). */
  rangeBytes?: number;
}

/**
 * How a resource is asked for: its whole body, only what its headers say (`head`), its first
 * `rangeBytes` (`range`: a Range request), or its first `maxBytes` (`peek`: a GET whose body
 * is read no further, for a server that may not honour Range).
 */
export type RequestKind = 'get' | 'head' | 'range' | 'peek';

/** Redirects followed per request (RFC 9110 15.4 leaves the limit to the client; browsers use 20, a playlist needs few). */
export const MAX_REDIRECTS = 5;

const monotonicSeconds = (): number => performance.now() / 1000;

class FetchDeadline extends Error {
  constructor(readonly what: string) {
    super(what);
  }
}

/**
 * Why a request ended early (one of its deadlines, or the monitor's stop; the first reason
 * wins), and the one thing that ending stops: the request in flight, then the body being read.
 * Not an AbortController: making one with its AbortSignal, and the listeners Node's request
 * and the body reader put on that signal, were the largest share of this module's own work
 * per request (client CPU per playlist GET or HEAD on loopback, warm: 52-62 us with this,
 * 78-81 us with the controller).
 */
class RequestEnd {
  reason: Error | null = null;
  private stopper: ((reason: Error) => void) | null = null;

  end(reason: Error): void {
    if (this.reason !== null) return;
    this.reason = reason;
    this.stopper?.(reason);
  }

  /** What ending stops from now on (replacing the last); run at once when it has ended already. */
  stops(stopper: ((reason: Error) => void) | null): void {
    this.stopper = stopper;
    if (stopper !== null && this.reason !== null) stopper(this.reason);
  }
}

/** A GET of the whole body. */
export function httpGet(url: string, options: FetchOptions): Promise<FetchResult> {
  return httpRequest(url, 'get', options);
}

/**
 * One request. `head` asks for the headers only; `range` asks for the first `rangeBytes`
 * (RFC 9110 14.2: a server that ignores Range answers 200, whose body is then not read).
 */
export async function httpRequest(url: string, kind: RequestKind, options: FetchOptions): Promise<FetchResult> {
  const clock = options.clock ?? monotonicSeconds;
  const started = clock();
  const total = options.totalSeconds ?? 2 * options.timeoutSeconds;
  // One end for the three deadlines and the monitor's stop: its reason says which ended it.
  const end = new RequestEnd();
  const onStop = (): void => end.end(new Error('aborted'));
  options.signal.addEventListener('abort', onStop, { once: true });
  if (options.signal.aborted) onStop();
  const totalTimer = setTimeout(() => end.end(new FetchDeadline(`no complete answer within ${total} s`)), total * 1000);
  let headersSeconds: number | null = null;
  let status: number | null = null;
  let contentType: string | null = null;
  const failed = (status: number | null, error: string): FetchResult => ({
    status,
    body: null,
    seconds: clock() - started,
    headersSeconds,
    size: null,
    contentType,
    error,
  });
  try {
    const response = await follow(url, kind, options, end, total);
    headersSeconds = clock() - started;
    status = response.statusCode ?? null;
    const type = response.headers['content-type']?.split(';')[0]?.trim().toLowerCase() ?? '';
    contentType = type === '' ? null : type;
    if (status === null || status < 200 || status > 299) {
      response.destroy();
      return failed(status, `HTTP ${status}`);
    }
    const size = sizeOf(response);
    if (kind === 'peek') {
      const body = await readBounded(response, options.maxBytes, options.timeoutSeconds, end, true);
      return { status, body, seconds: clock() - started, headersSeconds, size, contentType, error: null };
    }
    if (size !== null && size > options.maxBytes) {
      response.destroy();
      return failed(status, `the body is larger than ${options.maxBytes} bytes (${size})`);
    }
    if (kind === 'head' || (kind === 'range' && status !== 206)) {
      // Only what the headers say: a server that ignored the Range is not read further
      // (a HEAD's answer has no body: its connection is kept).
      if (kind === 'head') response.resume();
      else response.destroy();
      return {
        status,
        body: Buffer.alloc(0),
        seconds: clock() - started,
        headersSeconds,
        size,
        contentType,
        error: null,
      };
    }
    const body = await readBounded(response, options.maxBytes, options.timeoutSeconds, end);
    return {
      status,
      body,
      seconds: clock() - started,
      headersSeconds,
      size: kind === 'range' ? size : body.length,
      contentType,
      error: null,
    };
  } catch (err) {
    return failed(status, reasonOf(end.reason ?? err, options.timeoutSeconds));
  } finally {
    clearTimeout(totalTimer);
    options.signal.removeEventListener('abort', onStop);
  }
}

/**
 * Connections kept open between requests: a ladder reloads every playlist each target
 * duration. node:http rather than fetch: on a 6-rendition ladder fetch's web streams cost
 * about 2.5x the CPU per request and per segment byte (measured: 100 segments of 860 kB and
 * 500 HEADs on loopback, 1.85 s against 0.55-0.73 s for client and server together).
 */
const AGENTS = {
  'http:': new HttpAgent({ keepAlive: true }),
  'https:': new HttpsAgent({ keepAlive: true }),
} as const;

/** The response at the end of at most MAX_REDIRECTS redirects; the headers must come within the timeout. */
async function follow(
  url: string,
  kind: RequestKind,
  options: FetchOptions,
  end: RequestEnd,
  total: number,
): Promise<IncomingMessage> {
  let target = new URL(url);
  for (let hop = 0; ; hop++) {
    const headersTimer = setTimeout(
      () => end.end(new FetchDeadline(`no answer within ${options.timeoutSeconds} s`)),
      Math.min(options.timeoutSeconds, total) * 1000,
    );
    let response: IncomingMessage;
    try {
      response = await requestOnce(target, kind, options, end);
    } finally {
      clearTimeout(headersTimer);
    }
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status < 300 || status > 399 || location === undefined) return response;
    response.destroy();
    if (hop >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
    const next = new URL(location, target);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new Error(`a redirect to a ${next.protocol} URL, not HTTP`);
    }
    target = next;
  }
}

/**
 * One request on a kept connection: resolves with the response once its headers arrived. A
 * kept connection the server closed as it was reused (its idle timeout) fails with ECONNRESET
 * before anything was answered: the request is sent again, as Node's documentation of
 * request.reusedSocket advises, until it fails on a connection of its own (several kept
 * connections to one server may have closed at once; each failed one leaves the pool).
 */
function requestOnce(url: URL, kind: RequestKind, options: FetchOptions, end: RequestEnd): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      reject(new Error(`${url.protocol} URLs are not HTTP`));
      return;
    }
    if (end.reason !== null) {
      reject(end.reason);
      return;
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequestOf;
    const req = send(url, {
      method: kind === 'head' ? 'HEAD' : 'GET',
      agent: AGENTS[url.protocol],
      headers: headersFor(url, kind, options),
    });
    end.stops((reason) => req.destroy(reason));
    let answered = false;
    req.once('response', (response) => {
      answered = true;
      resolve(response);
    });
    // on, not once: a socket may fail again after the first error.
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (!answered && req.reusedSocket && err.code === 'ECONNRESET' && end.reason === null) {
        resolve(requestOnce(url, kind, options, end));
      } else {
        reject(err);
      }
    });
    req.end();
  });
}

function headersFor(url: URL, kind: RequestKind, options: FetchOptions): Record<string, string> {
  const { authorization } = options;
  const headers: Record<string, string> = kind === 'range' ? { range: `bytes=0-${(options.rangeBytes ?? 1) - 1}` } : {};
  // Per hop: a redirect to another origin (a CDN) never gets the source's credentials.
  if (url.origin === authorization?.origin) headers.authorization = authorization.header;
  return headers;
}

/** The resource's size: a Content-Range's total (206), else the Content-Length of a full answer. */
function sizeOf(response: IncomingMessage): number | null {
  const range = /\/(\d+)\s*$/.exec(response.headers['content-range'] ?? '');
  if (response.statusCode === 206) return range?.[1] === undefined ? null : Number(range[1]);
  return bodyLength(response);
}

/** The Content-Length of the body this answer carries (a 206's part, not the resource), or null. */
function bodyLength(response: IncomingMessage): number | null {
  const length = response.headers['content-length'];
  return length !== undefined && /^\d+$/.test(length.trim()) ? Number(length) : null;
}

/**
 * The body, refused past `maxBytes` (`head`: cut there instead); a silence longer than
 * `idleSeconds` ends it. A body whose length the headers give is copied as it arrives into one
 * buffer of that size: no list of socket chunks kept alive until the end (they die young, which
 * the garbage collector finds cheap) and no second buffer to join them; Node's parser never
 * hands more than the Content-Length, and a body cut short ends as an error ('close').
 */
function readBounded(
  response: IncomingMessage,
  maxBytes: number,
  idleSeconds: number,
  end: RequestEnd,
  head = false,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const length = bodyLength(response);
    const whole = length !== null && length <= maxBytes ? Buffer.allocUnsafe(length) : null;
    const chunks: Buffer[] = [];
    let size = 0;
    const idle = setTimeout(
      () => end.end(new FetchDeadline(`no data for ${idleSeconds} s within the body`)),
      idleSeconds * 1000,
    );
    const finish = (error: Error | null): void => {
      clearTimeout(idle);
      end.stops(null);
      if (error) reject(error);
      else if (whole) resolve(whole.subarray(0, size));
      else resolve(Buffer.concat(chunks, size).subarray(0, maxBytes));
    };
    end.stops((reason) => {
      response.destroy();
      finish(reason);
    });
    response.on('data', (chunk: Buffer) => {
      idle.refresh();
      if (whole) {
        if (size + chunk.length > whole.length) {
          response.destroy();
          finish(new Error(`the body is longer than its Content-Length (${whole.length})`));
          return;
        }
        chunk.copy(whole, size);
        size += chunk.length;
        if (head && size >= maxBytes) {
          response.destroy();
          finish(null);
        }
        return;
      }
      size += chunk.length;
      if (head && size >= maxBytes) {
        chunks.push(chunk);
        response.destroy();
        finish(null);
        return;
      }
      if (size > maxBytes) {
        response.destroy();
        finish(new Error(`the body is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    response.once('end', () => finish(null));
    // A connection cut within the body (a server that ends before its Content-Length).
    response.once('close', () => {
      if (!response.complete) finish(new Error('the connection closed within the body'));
    });
    response.on('error', (err) => finish(err));
  });
}

function reasonOf(err: unknown, timeoutSeconds: number): string {
  if (err instanceof FetchDeadline) return err.what;
  if (err instanceof Error && err.name === 'TimeoutError') return `no complete answer within ${timeoutSeconds} s`;
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err instanceof Error ? err.message : String(err)}${cause}`;
}
