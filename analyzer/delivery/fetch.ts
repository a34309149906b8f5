/**
 * One HTTP request as the delivery checks need it: the status, the body (bounded), and how long
 * the answer took. A server is untrusted: every failure is a result, never a throw, no answer
 * may hold more than `maxBytes` in memory, and each request has three deadlines (the headers,
 * a silence within the body, the whole answer) and follows at most MAX_REDIRECTS redirects.
 */

export interface FetchResult {
  /** HTTP status, or null when no response came (connection refused, timeout, reset). */
  status: number | null;
  /** The body of a 2xx answer (empty for a headers-only request); null otherwise. */
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
}

/**
 * How a resource is asked for: its whole body, only what its headers say (`head`, or `range`:
 * one byte), or its first `maxBytes` (`peek`: a GET whose body is read no further).
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

/** A GET of the whole body. */
export function httpGet(url: string, options: FetchOptions): Promise<FetchResult> {
  return httpRequest(url, 'get', options);
}

/**
 * One request. `head` asks for the headers only; `range` asks for the first byte (RFC 9110
 * 14.2: a server that ignores Range answers 200, whose body is then not read).
 */
export async function httpRequest(url: string, kind: RequestKind, options: FetchOptions): Promise<FetchResult> {
  const clock = options.clock ?? monotonicSeconds;
  const started = clock();
  const total = options.totalSeconds ?? 2 * options.timeoutSeconds;
  // One controller for the three deadlines and the monitor's stop: its reason says which ended it.
  const abort = new AbortController();
  const onStop = (): void => abort.abort(new Error('aborted'));
  options.signal.addEventListener('abort', onStop, { once: true });
  if (options.signal.aborted) onStop();
  const totalTimer = setTimeout(
    () => abort.abort(new FetchDeadline(`no complete answer within ${total} s`)),
    total * 1000,
  );
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
    const response = await follow(url, kind, options, abort, total);
    headersSeconds = clock() - started;
    status = response.status;
    const type = response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() ?? '';
    contentType = type === '' ? null : type;
    if (response.status < 200 || response.status > 299) {
      await response.body?.cancel().catch(() => undefined);
      return failed(response.status, `HTTP ${response.status}`);
    }
    const size = sizeOf(response);
    if (kind === 'peek') {
      const body = await readBounded(response, options.maxBytes, options.timeoutSeconds, abort, true);
      return { status, body, seconds: clock() - started, headersSeconds, size, contentType, error: null };
    }
    if (size !== null && size > options.maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      return failed(response.status, `the body is larger than ${options.maxBytes} bytes (${size})`);
    }
    if (kind !== 'get') {
      // Only what the headers say: a server that ignored the Range is not read further.
      await response.body?.cancel().catch(() => undefined);
      return {
        status: response.status,
        body: Buffer.alloc(0),
        seconds: clock() - started,
        headersSeconds,
        size,
        contentType,
        error: null,
      };
    }
    const body = await readBounded(response, options.maxBytes, options.timeoutSeconds, abort);
    return {
      status: response.status,
      body,
      seconds: clock() - started,
      headersSeconds,
      size: body.length,
      contentType,
      error: null,
    };
  } catch (err) {
    return failed(status, reasonOf(abort.signal.reason ?? err, options.timeoutSeconds));
  } finally {
    clearTimeout(totalTimer);
    options.signal.removeEventListener('abort', onStop);
  }
}

/** The response at the end of at most MAX_REDIRECTS redirects; the headers must come within the timeout. */
async function follow(
  url: string,
  kind: RequestKind,
  options: FetchOptions,
  abort: AbortController,
  total: number,
): Promise<Response> {
  let target = url;
  for (let hop = 0; ; hop++) {
    const headersTimer = setTimeout(
      () => abort.abort(new FetchDeadline(`no answer within ${options.timeoutSeconds} s`)),
      Math.min(options.timeoutSeconds, total) * 1000,
    );
    let response: Response;
    try {
      response = await fetch(target, {
        method: kind === 'head' ? 'HEAD' : 'GET',
        redirect: 'manual',
        signal: abort.signal,
        headers: headersFor(target, kind, options.authorization),
      });
    } finally {
      clearTimeout(headersTimer);
    }
    const location = response.headers.get('location');
    if (response.status < 300 || response.status > 399 || location === null) return response;
    await response.body?.cancel().catch(() => undefined);
    if (hop >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
    const next = new URL(location, target);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new Error(`a redirect to a ${next.protocol} URL, not HTTP`);
    }
    target = next.href;
  }
}

function headersFor(
  url: string,
  kind: RequestKind,
  authorization: FetchOptions['authorization'],
): Record<string, string> {
  const headers: Record<string, string> = kind === 'range' ? { range: 'bytes=0-0' } : {};
  // Per hop: a redirect to another origin (a CDN) never gets the source's credentials.
  if (new URL(url).origin === authorization?.origin) headers.authorization = authorization.header;
  return headers;
}

/** The resource's size: a Content-Range's total (206), else the Content-Length of a full answer. */
function sizeOf(response: Response): number | null {
  const range = /\/(\d+)\s*$/.exec(response.headers.get('content-range') ?? '');
  if (response.status === 206) return range?.[1] === undefined ? null : Number(range[1]);
  const length = response.headers.get('content-length');
  return length !== null && /^\d+$/.test(length.trim()) ? Number(length) : null;
}

/** The body, refused past `maxBytes` (`head`: cut there instead); a silence longer than `idleSeconds` ends it. */
async function readBounded(
  response: Response,
  maxBytes: number,
  idleSeconds: number,
  abort: AbortController,
  head = false,
): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const idle = setTimeout(
      () => abort.abort(new FetchDeadline(`no data for ${idleSeconds} s within the body`)),
      idleSeconds * 1000,
    );
    const chunk = await reader.read().finally(() => clearTimeout(idle));
    if (chunk.done) break;
    size += chunk.value.byteLength;
    chunks.push(chunk.value);
    if (size >= maxBytes && head) {
      await reader.cancel().catch(() => undefined);
      return Buffer.concat(chunks, size).subarray(0, maxBytes);
    }
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`the body is larger than ${maxBytes} bytes`);
    }
  }
  return Buffer.concat(chunks, size);
}

function reasonOf(err: unknown, timeoutSeconds: number): string {
  if (err instanceof FetchDeadline) return err.what;
  if (err instanceof Error && err.name === 'TimeoutError') return `no complete answer within ${timeoutSeconds} s`;
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err instanceof Error ? err.message : String(err)}${cause}`;
}
