/**
 * The body bytes a loopback origin sends in answer to one request, as a network would carry
 * them: a HEAD sends none (Node's server drops its body), a one-byte Range sends one.
 */
import type { ServerResponse } from 'node:http';

/** Adds every body byte `res` sends to `entry.bytes` (none for a HEAD). */
export function countSentBytes(res: ServerResponse, entry: { method: string; bytes: number }): void {
  const count = (chunk: unknown): void => {
    if (entry.method !== 'HEAD' && (typeof chunk === 'string' || Buffer.isBuffer(chunk))) {
      entry.bytes += Buffer.byteLength(chunk);
    }
  };
  const [write, end] = [res.write.bind(res), res.end.bind(res)];
  res.write = ((chunk: unknown, ...rest: unknown[]) => {
    count(chunk);
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof res.write;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    count(chunk);
    return (end as (...args: unknown[]) => ServerResponse)(chunk, ...rest);
  }) as typeof res.end;
}
