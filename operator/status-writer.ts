/**
 * The status write, with the client's own status call: a PUT of the status subresource that
 * carries the monitor's resourceVersion, so that a write based on a stale read is refused
 * (409) and retried by the work queue on a fresh read. It goes through the KubeConfig's API
 * client like every other request (its shared agent, its User-Agent), and a refusal keeps the
 * API server's code and message, which the queue logs.
 */
import { ApiException, type CustomObjectsApi } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, PLURAL, type StreamMonitor, type StreamMonitorStatus } from './api.js';
import { describeError } from './errors.js';

/** A refused status write: the API server's HTTP code (when it answered) and its words. */
export class StatusWriteError extends Error {
  readonly code: number | undefined;

  constructor(monitor: StreamMonitor, cause: unknown) {
    super(`status write of ${monitor.metadata.namespace}/${monitor.metadata.name} failed: ${describeError(cause)}`, {
      cause,
    });
    this.name = 'StatusWriteError';
    this.code = cause instanceof ApiException ? cause.code : undefined;
  }
}

export type StatusWriter = (monitor: StreamMonitor, status: StreamMonitorStatus) => Promise<void>;

export function statusWriter(custom: CustomObjectsApi): StatusWriter {
  return async (monitor, status) => {
    const { name, namespace, resourceVersion } = monitor.metadata;
    try {
      await custom.replaceNamespacedCustomObjectStatus({
        group: API_GROUP,
        version: API_VERSION,
        plural: PLURAL,
        namespace,
        name,
        body: {
          apiVersion: monitor.apiVersion,
          kind: monitor.kind,
          metadata: { name, namespace, resourceVersion },
          status,
        },
      });
    } catch (err) {
      throw new StatusWriteError(monitor, err);
    }
  };
}
