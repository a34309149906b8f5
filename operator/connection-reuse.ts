/**
 * @kubernetes/client-node 1.x builds a new https.Agent for every request, so every request
 * pays a fresh TCP and TLS handshake and nothing is kept alive. At thousands of monitors that
 * dominates the operator's CPU and memory. This keeps one keep-alive agent per server and
 * client identity (a rotated certificate gets a new agent) by replacing the KubeConfig's
 * private createAgent, the only hook that reaches both API clients and Watch (an API client's
 * middleware could set an agent; Watch takes its agent from createAgent alone). The status
 * write goes through an API client too, so it shares these connections.
 */
import { createHash } from 'node:crypto';
import type { Agent } from 'node:http';
import type { AgentOptions } from 'node:https';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';

type CreateAgent = (cluster: Cluster | null, options: AgentOptions) => Agent;

export function withConnectionReuse(kubeConfig: KubeConfig, maxSockets = 64): KubeConfig {
  const target = kubeConfig as unknown as { createAgent: CreateAgent };
  const create = target.createAgent.bind(kubeConfig);
  const agents = new Map<string, Agent>();
  target.createAgent = (cluster, options) => {
    const key = createHash('sha256')
      .update(
        JSON.stringify([
          cluster?.server,
          cluster?.proxyUrl,
          options.servername,
          options.rejectUnauthorized,
          String(options.ca ?? ''),
          String(options.cert ?? ''),
          String(options.key ?? ''),
        ]),
      )
      .digest('hex');
    let agent = agents.get(key);
    if (agent === undefined) {
      agent = create(cluster, { ...options, keepAlive: true, maxSockets });
      agents.set(key, agent);
    }
    return agent;
  };
  return kubeConfig;
}
