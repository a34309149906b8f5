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
          credential(options.ca),
          credential(options.cert),
          credential(options.key),
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

const objectIds = new WeakMap<object, number>();
let objectsSeen = 0;

/**
 * A TLS credential as text for the agent's key. KubeConfig gives strings or bytes; anything else
 * (a KeyObject) is known by its identity, so two different credentials never share an agent.
 */
function credential(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map(credential).join('\n');
  if (typeof value !== 'object') return typeof value;
  let id = objectIds.get(value);
  if (id === undefined) objectIds.set(value, (id = objectsSeen += 1));
  return `object-${id}`;
}
