// Pod discovery for Prometheus through the test API server. Debian's prometheus (2.42.0+ds) is
// built without the Kubernetes service discovery (`kubernetes_sd_configs` is an unknown field),
// so this serves Prometheus' HTTP SD format from the pods the API server lists, with the same
// target and `__meta_kubernetes_pod_*` labels `kubernetes_sd_configs: [{role: pod}]` produces
// (one target per container port, or one per pod without ports), so the scrape config's
// relabeling is the one a cluster with Kubernetes SD would use.
import { createServer, type Server } from 'node:http';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';

const sanitize = (name: string): string => name.replace(/[^a-zA-Z0-9_]/g, '_');

export function podTargetGroups(pods: V1Pod[]): { targets: string[]; labels: Record<string, string> }[] {
  const groups: { targets: string[]; labels: Record<string, string> }[] = [];
  for (const pod of pods) {
    const ip = pod.status?.podIP ?? '';
    const base: Record<string, string> = {
      __meta_kubernetes_namespace: pod.metadata?.namespace ?? '',
      __meta_kubernetes_pod_name: pod.metadata?.name ?? '',
      __meta_kubernetes_pod_ip: ip,
      __meta_kubernetes_pod_node_name: pod.spec?.nodeName ?? '',
      __meta_kubernetes_pod_host_ip: pod.status?.hostIP ?? '',
      __meta_kubernetes_pod_uid: pod.metadata?.uid ?? '',
      __meta_kubernetes_pod_phase: pod.status?.phase ?? '',
      __meta_kubernetes_pod_ready: String(
        pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      ),
    };
    for (const [k, v] of Object.entries(pod.metadata?.labels ?? {})) {
      base[`__meta_kubernetes_pod_label_${sanitize(k)}`] = v;
      base[`__meta_kubernetes_pod_labelpresent_${sanitize(k)}`] = 'true';
    }
    for (const [k, v] of Object.entries(pod.metadata?.annotations ?? {})) {
      base[`__meta_kubernetes_pod_annotation_${sanitize(k)}`] = v;
      base[`__meta_kubernetes_pod_annotationpresent_${sanitize(k)}`] = 'true';
    }
    for (const c of pod.spec?.containers ?? []) {
      const ports = c.ports ?? [];
      if (ports.length === 0) {
        groups.push({ targets: [ip], labels: { ...base, __meta_kubernetes_pod_container_name: c.name } });
        continue;
      }
      for (const p of ports) {
        groups.push({
          targets: [`${ip}:${p.containerPort}`],
          labels: {
            ...base,
            __meta_kubernetes_pod_container_name: c.name,
            __meta_kubernetes_pod_container_port_name: p.name ?? '',
            __meta_kubernetes_pod_container_port_number: String(p.containerPort),
            __meta_kubernetes_pod_container_port_protocol: p.protocol ?? 'TCP',
          },
        });
      }
    }
  }
  return groups;
}

/** Serves `GET /targets` (HTTP SD) for the pods of one namespace; resolves with the server and its port. */
export async function startPodSd(kc: KubeConfig, namespace: string): Promise<{ server: Server; port: number }> {
  const core = kc.makeApiClient(CoreV1Api);
  const server = createServer((_req, res) => {
    core.listNamespacedPod({ namespace }).then(
      (list) =>
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(podTargetGroups(list.items))),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0 };
}
