/**
 * Reads an analyzer's /status over the pod network. The analyzer holds no credentials and
 * the operator only reads: an analyzer that does not answer is "status unknown", not an error.
 */
import type { AnalyzerStatus } from '../analyzer/pipeline.js';

export function analyzerStatusReader(timeoutMs: number): (podIP: string, port: number) => Promise<AnalyzerStatus | undefined> {
  return async (podIP, port) => {
    try {
      const response = await fetch(`http://${podIP}:${port}/status`, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) return undefined;
      const body = (await response.json()) as Partial<AnalyzerStatus>;
      // Only what the status derivation relies on is checked; an older analyzer may add fields.
      if (typeof body.mediaFlowing !== 'boolean' || !Array.isArray(body.activeDefects) || typeof body.format !== 'object') return undefined;
      return body as AnalyzerStatus;
    } catch {
      return undefined;
    }
  };
}
