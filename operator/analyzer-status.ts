/**
 * Reads an analyzer's /status over the pod network. The analyzer holds no credentials and
 * the operator only reads: an analyzer that does not answer is "status unknown", not an error.
 *
 * Plain node:http with a short-lived connection, not the global fetch: fetch keeps a
 * connection pool per origin for the life of the process (about 16 KiB of queues each), and
 * every analyzer pod is its own origin, so at thousands of monitors those pools were the
 * largest part of the operator's memory. The body is bounded: the analyzer parses untrusted
 * media, and what it answers must not be able to exhaust the operator.
 */
import { get } from 'node:http';
import type { AnalyzerStatus } from '../analyzer/pipeline.js';

const MAX_STATUS_BYTES = 1 << 20;

function getJson(url: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent: false, headers: { accept: 'application/json' } }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`HTTP ${response.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_STATUS_BYTES) request.destroy(new Error(`status larger than ${MAX_STATUS_BYTES} bytes`));
        else chunks.push(chunk);
      });
      response.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          reject(err);
        }
      });
      response.on('error', reject);
    });
    // One bound on the whole exchange (connect, headers and body), not only on idle sockets.
    const deadline = setTimeout(() => request.destroy(new Error('timed out')), timeoutMs);
    request.on('close', () => clearTimeout(deadline));
    request.on('error', reject);
  });
}

export function analyzerStatusReader(timeoutMs: number): (podIP: string, port: number) => Promise<AnalyzerStatus | undefined> {
  return async (podIP, port) => {
    try {
      const host = podIP.includes(':') ? `[${podIP}]` : podIP;
      const body = (await getJson(`http://${host}:${port}/status`, timeoutMs)) as Partial<AnalyzerStatus> | null;
      // Only what the status derivation relies on is checked; an older analyzer may add fields.
      if (body === null || typeof body !== 'object') return undefined;
      if (typeof body.mediaFlowing !== 'boolean' || !Array.isArray(body.activeDefects) || typeof body.format !== 'object') return undefined;
      return body as AnalyzerStatus;
    } catch {
      return undefined;
    }
  };
}
