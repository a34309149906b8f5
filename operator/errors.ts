/** One line that says what went wrong with a Kubernetes request (the API server's own message when it gave one). */
import { ApiException } from '@kubernetes/client-node';

export function describeError(err: unknown): string {
  if (err instanceof ApiException) {
    const raw: unknown = err.body;
    const body = typeof raw === 'string' ? parsedOrText(raw) : raw;
    const message = (body as { message?: unknown } | undefined)?.message;
    return `HTTP ${err.code}: ${typeof message === 'string' ? message : String(body).slice(0, 300)}`;
  }
  return err instanceof Error ? err.message.split('\n', 1).join('') : String(err);
}

/** A response body as JSON where it is JSON, else the text itself. */
function parsedOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
