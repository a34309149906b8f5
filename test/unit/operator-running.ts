/** A monitor and its Running, Ready analyzer pod: the state in which status reads the analyzer's answer. */
import type { StreamMonitor } from '../../operator/api.js';

export function runningMonitor(url = 'udp://127.0.0.1:5000'): StreamMonitor {
  return {
    apiVersion: 'streamqc.io/v1alpha1',
    kind: 'StreamMonitor',
    metadata: { name: 'm', namespace: 'ns', uid: 'u1', generation: 1, resourceVersion: '1' },
    spec: { source: { url } },
  };
}

export const runningPod = {
  metadata: { name: 'm-abc', namespace: 'ns' },
  status: { phase: 'Running', podIP: '127.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
};
