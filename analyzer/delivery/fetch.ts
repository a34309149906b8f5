/**
 * One HTTP GET as the delivery checks need it: the status, the body (bounded), and how long
 * the whole body took to arrive. A server is untrusted: every failure is a result, never a
 * throw, and no answer may hold more than `maxBytes` in memory.
 */

export interface FetchResult {
  /** HTTP status, or null when no response came (connection refused, timeout, reset). */
  status: number | null;
  /** The body of a 2xx answer; null otherwise. */
  body: Buffer | null;
  /** Seconds from the request to the last byte of the body (or to the failure). */
  seconds: number;
  /** Why it failed, for people; null on success. */
  error: string | null;
}

export interface FetchOptions {
  timeoutSeconds: number;
  maxBytes: number;
  /** Aborts the request when the monitor stops. */
  signal: AbortSignal;
  /** Credentials of the source, sent only to its own origin (never to a CDN a playlist points at). */
  authorization?: { origin: string; header: string };
  /** Monotonic seconds (performance.now based by default). */
  clock?: () => number;
}

const monotonicSeconds = (): number => performance.now() / 1000;

export async function httpGet(url: string, options: FetchOptions): Promise<FetchResult> {
  const clock = options.clock ?? monotonicSeconds;
  const started = clock();
  const failed = (status: number | null, error: string): FetchResult => ({
    status,
    body: null,
    seconds: clock() - started,
    error,
  });
  let response: Response;
  try {
    response = await fetch(url, {
      signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutSeconds * 1000)]),
      headers:
        new URL(url).origin === options.authorization?.origin ? { authorization: options.authorization.header } : {},
    });
  } catch (err) {
    return failed(null, reasonOf(err, options.timeoutSeconds));
  }
  if (response.status < 200 || response.status > 299) {
    await response.body?.cancel().catch(() => undefined);
    return failed(response.status, `HTTP ${response.status}`);
  }
  try {
    const body = await readBounded(response, options.maxBytes);
    return { status: response.status, body, seconds: clock() - started, error: null };
  } catch (err) {
    return failed(response.status, reasonOf(err, options.timeoutSeconds));
  }
}

async function readBounded(response: Response, maxBytes: number): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error(`the body is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

function reasonOf(err: unknown, timeoutSeconds: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return err.name === 'TimeoutError' ? `no complete answer within ${timeoutSeconds} s` : 'aborted';
  }
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err instanceof Error ? err.message : String(err)}${cause}`;
}
