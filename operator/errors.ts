/** One line that says what went wrong with a Kubernetes request (the API server's own message when it gave one). */
import { ApiException } from '@kubernetes/client-node';

export function describeError(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown =
      typeof err.body === 'string'
        ? (() => {
            try {
              return JSON.parse(err.body as string);
            } catch {
              return err.body;
            }
          })()
        : err.body;
    const message = (body as { message?: unknown } | undefined)?.message;
    return `HTTP ${err.code}: ${typeof message === 'string' ? message : String(body).slice(0, 300)}`;
  }
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}
