// The simulated node fleet kwok runs: plain nodes, and GPU nodes that look like the NVIDIA
// device plugin and GPU feature discovery had set them up (capacity, labels, taint).
import type { V1Node } from '@kubernetes/client-node';

/** Annotation kwok's controller selects the nodes it manages by (--manage-nodes-with-annotation-selector). */
export const kwokNodeAnnotation = { key: 'kwok.x-k8s.io/node', value: 'fake' } as const;

/** Loopback range kwok assigns pod IPs from: node i gets 127.1.(i+1).0/24, 127.1.0.0/24 is the fallback. */
export const podNetwork = { fallbackCIDR: '127.1.0.0/24', nodeCIDR: (index: number) => `127.1.${index + 1}.0/24` };

export const gpuResource = 'nvidia.com/gpu';
export const gpuTaint = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' } as const;

export interface SimulatedNode {
  name: string;
  /** GPUs the node advertises as `nvidia.com/gpu` capacity; 0 for a plain node. */
  gpus: number;
}

export const defaultFleet: readonly SimulatedNode[] = [
  { name: 'kwok-node-0', gpus: 0 },
  { name: 'kwok-node-1', gpus: 0 },
  { name: 'kwok-node-2', gpus: 0 },
  { name: 'kwok-gpu-0', gpus: 4 },
  { name: 'kwok-gpu-1', gpus: 4 },
];

export function nodeManifest(node: SimulatedNode, index: number): V1Node {
  const resources: Record<string, string> = { cpu: '32', memory: '128Gi', pods: '110', 'ephemeral-storage': '1Ti' };
  const labels: Record<string, string> = {
    'kubernetes.io/hostname': node.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'node-role.kubernetes.io/agent': '',
    type: 'kwok',
  };
  if (node.gpus > 0) {
    resources[gpuResource] = String(node.gpus);
    labels['nvidia.com/gpu.present'] = 'true';
    labels['nvidia.com/gpu.count'] = String(node.gpus);
    labels['nvidia.com/gpu.product'] = 'NVIDIA-L4';
  }
  const cidr = podNetwork.nodeCIDR(index);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      labels,
      annotations: { [kwokNodeAnnotation.key]: kwokNodeAnnotation.value, 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: {
      podCIDR: cidr,
      podCIDRs: [cidr],
      taints: node.gpus > 0 ? [{ ...gpuTaint }] : undefined,
    },
    // kwok's node-initialize stage keeps capacity and allocatable given at creation.
    status: { capacity: resources, allocatable: resources },
  };
}

/**
 * The real node (test/cluster/real-node.ts): a kubelet on this machine. Its name is `localhost`
 * because the API server reaches a kubelet by the node's Hostname address first, and only that
 * name resolves to the 127.0.0.1 the kubelet listens on. Tainted and labelled so that only pods
 * that ask for it (toleration + nodeSelector) land there: other test files' pods stay on kwok.
 */
export const realNode = {
  name: 'localhost',
  label: { key: 'streamqc.io/real-node', value: 'true' },
  taint: { key: 'streamqc.io/real-node', value: 'true', effect: 'NoSchedule' },
} as const;

/** What a pod spec needs to be scheduled onto the real node. */
export const onRealNode = {
  nodeSelector: { [realNode.label.key]: realNode.label.value },
  tolerations: [{ ...realNode.taint, operator: 'Equal' }],
};
