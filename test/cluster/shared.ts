// What a test file uses to reach the run's shared control plane (started by global-setup.ts).
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { auditLogOf } from './cluster.js';

export const clusterEnv = { kubeconfig: 'STREAMQC_KUBECONFIG', binDir: 'STREAMQC_CLUSTER_BIN' } as const;

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run cluster tests through scripts/run-tests.mjs (e.g. node scripts/run-tests.mjs integration/), whose global set-up starts the shared control plane`,
    );
  }
  return value;
}

export function sharedKubeconfigPath(): string {
  return required(clusterEnv.kubeconfig);
}

export function sharedKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(sharedKubeconfigPath());
  return kc;
}

/** The shared control plane's audit log of write requests (see test/cluster/audit.ts). */
export function sharedAuditLogPath(): string {
  return auditLogOf(sharedKubeconfigPath());
}

/** Path of a tool built with the control plane: kubectl, helm, etcd, kwok, ... */
export function clusterTool(name: string): string {
  return join(required(clusterEnv.binDir), name);
}
