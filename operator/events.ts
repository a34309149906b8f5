/**
 * Kubernetes Events on a StreamMonitor, for `kubectl describe`: what the operator did to the
 * analyzer and what the analyzer saw. An event that cannot be written is logged, never retried:
 * it must not hold up convergence.
 */
import { hostname } from 'node:os';
import type { CoreV1Api } from '@kubernetes/client-node';
import { monitorKey, type StreamMonitor } from './api.js';
import { describeError } from './errors.js';
import type { EventRateLimiter } from './event-rate-limit.js';
import { systemClock, type Clock } from './clock.js';
import { safeMessage } from './messages.js';

export type EventReason =
  | 'AnalyzerCreated'
  | 'AnalyzerReplaced'
  | 'AnalyzerRecreated'
  | 'AnalyzerEvicted'
  | 'AnalyzerRemoved'
  | 'InvalidConfig'
  | 'ConfigMapConflict'
  | 'PodConflict'
  | 'DefectStarted'
  | 'DefectCleared'
  | 'SourceLost'
  | 'SourceRecovered'
  /** Signal events of the stream (not defects): a PID came or went, an ad cue out or in. */
  | 'PidChanged'
  | 'CueSignalled';

export type EventRecorder = (
  monitor: StreamMonitor,
  type: 'Normal' | 'Warning',
  reason: EventReason,
  message: string,
) => Promise<void>;

/** Events per monitor are rate-limited; one refused is counted (by reason), not written. */
export interface EventLimits {
  limiter: EventRateLimiter;
  onDropped: (reason: EventReason) => void;
}

export function eventRecorder(
  core: CoreV1Api,
  log: (message: string) => void,
  limits?: EventLimits,
  clock: Clock = systemClock,
): EventRecorder {
  const instance = hostname();
  return async (monitor, type, reason, message) => {
    if (limits && !limits.limiter.allow(monitorKey(monitor.metadata.namespace, monitor.metadata.name))) {
      limits.onDropped(reason);
      return;
    }
    const now = new Date(clock.now());
    try {
      await core.createNamespacedEvent({
        namespace: monitor.metadata.namespace,
        body: {
          metadata: { generateName: `${monitor.metadata.name}.`, namespace: monitor.metadata.namespace },
          involvedObject: {
            apiVersion: monitor.apiVersion,
            kind: monitor.kind,
            name: monitor.metadata.name,
            namespace: monitor.metadata.namespace,
            uid: monitor.metadata.uid,
            resourceVersion: monitor.metadata.resourceVersion,
          },
          type,
          reason,
          // Built from analyzer answers and spec values: URL secrets masked, length bounded.
          message: safeMessage(message),
          count: 1,
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: 'streamqc-operator' },
          reportingComponent: 'streamqc.io/operator',
          reportingInstance: instance,
        },
      });
    } catch (err) {
      log(
        safeMessage(
          `event ${reason} on ${monitor.metadata.namespace}/${monitor.metadata.name} not written: ${describeError(err)}`,
        ),
      );
    }
  };
}
