/**
 * Every request the operator sends carries `User-Agent: streamqc-operator/<version>`, as
 * kubectl and client-go components name themselves, so that kube-apiserver's audit log and a
 * cluster admin can tell its requests from everyone else's. @kubernetes/client-node 1.x has no
 * public option that reaches both of its request paths: API clients could take a middleware,
 * but Watch (the informers) builds its request from the KubeConfig alone. Both take their
 * headers from the KubeConfig's private applyOptions, which is wrapped here: one place for
 * every request, at the price of a private API (checked by the audit-log test in
 * test/integration/operator-process.test.ts).
 */
import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';

interface RequestOptions {
  headers?: Record<string, unknown>;
}

type ApplyOptions = (opts: RequestOptions) => Promise<void>;

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const OPERATOR_USER_AGENT = `streamqc-operator/${version()}`;

export function withUserAgent(kubeConfig: KubeConfig, userAgent = OPERATOR_USER_AGENT): KubeConfig {
  const target = kubeConfig as unknown as { applyOptions: ApplyOptions };
  const apply = target.applyOptions.bind(kubeConfig);
  target.applyOptions = async (opts) => {
    await apply(opts);
    opts.headers = { ...opts.headers, 'User-Agent': userAgent };
  };
  return kubeConfig;
}
