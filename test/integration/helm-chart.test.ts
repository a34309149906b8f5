// The Helm chart, rendered by the helm binary built with the test control plane: it lints, the
// operator runs under the restricted Pod Security profile, RBAC follows the watch mode, bad values
// are refused by values.schema.json naming the key, the chart's CRD and alert rules are the
// repository's own, and the rendered manifests pass a server-side dry-run on a real API server.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import type { KubeConfig } from '@kubernetes/client-node';
import { sharedKubeConfig, sharedKubeconfigPath } from '../cluster/shared.js';
import {
  chartDir as chart,
  projectRoot as root,
  renderChart,
  runTool as run,
  type ToolRun as Run,
} from './chart-tools.js';
import { deleteNamespaces, freshNamespace, installCrd } from './operator-helpers.js';
import { renderAnalyzer } from '../../operator/analyzer-pod.js';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

function helm(args: string[]): Run {
  return run('helm', args);
}

/** `helm template` output, as text; fails the test with helm's message when it does not render. */
function renderText(args: string[] = []): string {
  return renderChart('sq', 'streamqc-system', args);
}

function render(args: string[] = []): Manifest[] {
  return YAML.parseAllDocuments(renderText(args))
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

function only(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  assert.equal(found.length, 1, `expected one ${kind}${name ? ` ${name}` : ''}, got ${found.length}`);
  return found[0]!;
}

interface Container {
  name: string;
  image: string;
  args: string[];
  env: { name: string; value?: string }[];
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext: Record<string, unknown>;
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  ports: { name: string; containerPort: number }[];
}
interface PodSpec {
  securityContext: Record<string, unknown>;
  serviceAccountName: string;
  containers: Container[];
}
interface Deployment extends Manifest {
  spec: { replicas: number; template: { spec: PodSpec } };
}

function operatorDeployment(manifests: Manifest[]): Deployment {
  return only(manifests, 'Deployment') as Deployment;
}

let work: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'streamqc-helm-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

function valuesFile(name: string, values: unknown): string {
  const path = join(work, `${name}.yaml`);
  writeFileSync(path, YAML.stringify(values));
  return path;
}

describe('helm chart: rendering', () => {
  it('passes helm lint --strict', () => {
    const r = helm(['lint', '--strict', chart]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    const everything = helm([
      'lint',
      '--strict',
      chart,
      '--set',
      'watchNamespaces={news,sports}',
      '--set',
      'monitoring.analyzerPodMonitor.enabled=true',
      '--set',
      'monitoring.operatorMonitor.enabled=true',
      '--set',
      'monitoring.prometheusRule.enabled=true',
    ]);
    assert.equal(everything.code, 0, everything.out);
  });

  it('runs two operator replicas with leader election, probes, resources and the restricted profile', () => {
    const deployment = operatorDeployment(render());
    assert.equal(deployment.spec.replicas, 2);
    const pod = deployment.spec.template.spec;
    assert.deepEqual(pod.securityContext, {
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.equal(pod.containers.length, 1);
    const [c] = pod.containers;
    assert.ok(c);
    assert.equal(c.image, 'ghcr.io/streamqc/operator:0.1.0');
    assert.deepEqual(c.securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.ok(c.args.includes('--leader-elect'), c.args.join(' '));
    assert.ok(c.args.includes('--lease-namespace=streamqc-system'), c.args.join(' '));
    assert.ok(!c.args.some((a) => a.startsWith('--namespaces')), 'cluster-wide mode passes no --namespaces');
    assert.deepEqual(c.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.equal(c.livenessProbe.httpGet.port, 'http');
    assert.ok(
      c.resources.requests?.cpu && c.resources.requests.memory && c.resources.limits?.memory,
      JSON.stringify(c.resources),
    );
    const env = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
    assert.equal(env.STREAMQC_ANALYZER_IMAGE, 'ghcr.io/streamqc/analyzer:0.1.0');
    assert.equal(env.STREAMQC_ANALYZER_GPU_IMAGE, 'ghcr.io/streamqc/analyzer-cuda:0.1.0');
    assert.deepEqual(JSON.parse(env.STREAMQC_ANALYZER_RESOURCES ?? '{}'), {
      requests: { cpu: '500m', memory: '256Mi' },
      limits: { memory: '1Gi' },
    });
  });

  it('keeps one operator available through disruptions and serves its metrics through a Service', () => {
    const manifests = render();
    const pdb = only(manifests, 'PodDisruptionBudget') as Manifest & {
      spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } };
    };
    assert.equal(pdb.spec.minAvailable, 1);
    const podLabels = (
      operatorDeployment(manifests).spec.template as unknown as { metadata: { labels: Record<string, string> } }
    ).metadata.labels;
    for (const [k, v] of Object.entries(pdb.spec.selector.matchLabels))
      assert.equal(podLabels[k], v, `PDB selector ${k}`);
    const service = only(manifests, 'Service') as Manifest & {
      spec: { ports: { port: number; targetPort: string }[] };
    };
    assert.deepEqual(
      service.spec.ports.map((p) => [p.port, p.targetPort]),
      [[8080, 'http']],
    );
  });

  it('cluster-wide mode: a ClusterRole and its binding, plus only the leader-election Role', () => {
    const manifests = render();
    const role = only(manifests, 'ClusterRole') as Manifest & {
      rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    };
    only(manifests, 'ClusterRoleBinding');
    const grants = (resource: string): string[] =>
      role.rules.filter((r) => r.resources.includes(resource)).flatMap((r) => r.verbs);
    assert.deepEqual(grants('streammonitors'), ['get', 'list', 'watch']);
    assert.deepEqual(grants('streammonitors/status'), ['get', 'update', 'patch']);
    assert.ok(grants('pods').includes('create') && grants('pods').includes('delete'));
    assert.ok(grants('events').includes('create'));
    assert.ok(
      !role.rules.some((r) => r.verbs.includes('*') || r.resources.includes('*') || r.resources.includes('secrets')),
      'no wildcard and no secrets',
    );
    const roles = manifests.filter((m) => m.kind === 'Role');
    assert.deepEqual(
      roles.map((r) => [r.metadata.name, r.metadata.namespace]),
      [['sq-streamqc-operator-leader-election', 'streamqc-system']],
    );
  });

  it('namespaced mode: a Role and RoleBinding in each listed namespace, no ClusterRole, --namespaces set', () => {
    const manifests = render(['--set', 'watchNamespaces={news,sports}']);
    assert.equal(manifests.filter((m) => m.kind === 'ClusterRole' || m.kind === 'ClusterRoleBinding').length, 0);
    const operatorRoles = manifests.filter((m) => m.kind === 'Role' && m.metadata.name === 'sq-streamqc-operator');
    assert.deepEqual(
      operatorRoles.map((r) => r.metadata.namespace),
      ['news', 'sports'],
    );
    const bindings = manifests.filter(
      (m) => m.kind === 'RoleBinding' && m.metadata.name === 'sq-streamqc-operator',
    ) as (Manifest & { subjects: { name: string; namespace: string }[] })[];
    assert.deepEqual(
      bindings.map((b) => b.metadata.namespace),
      ['news', 'sports'],
    );
    for (const b of bindings)
      assert.deepEqual(
        b.subjects.map((s) => [s.name, s.namespace]),
        [['sq-streamqc-operator', 'streamqc-system']],
      );
    const [c] = operatorDeployment(manifests).spec.template.spec.containers;
    assert.ok(c, 'the operator container');
    assert.ok(c.args.includes('--namespaces=news,sports'), c.args.join(' '));
  });

  it('the analyzer PodMonitor adds namespace, pod, stream and streamqc_component="analyzer"', () => {
    const manifests = render(['--set', 'monitoring.analyzerPodMonitor.enabled=true']);
    const monitor = only(manifests, 'PodMonitor') as Manifest & {
      spec: {
        selector: { matchLabels: Record<string, string> };
        podMetricsEndpoints: {
          port: string;
          relabelings: { sourceLabels?: string[]; targetLabel: string; replacement?: string }[];
        }[];
      };
    };
    assert.equal(monitor.spec.selector.matchLabels['app.kubernetes.io/component'], 'analyzer');
    const [endpoint] = monitor.spec.podMetricsEndpoints;
    assert.ok(endpoint, 'a pod metrics endpoint');
    assert.equal(endpoint.port, 'http');
    const target = (label: string): { sourceLabels?: string[]; replacement?: string } | undefined =>
      endpoint.relabelings.find((r) => r.targetLabel === label);
    assert.deepEqual(target('namespace')?.sourceLabels, ['__meta_kubernetes_namespace']);
    assert.deepEqual(target('pod')?.sourceLabels, ['__meta_kubernetes_pod_name']);
    assert.equal(target('streamqc_component')?.replacement, 'analyzer');
  });

  it('the operator monitor is a ServiceMonitor or a PodMonitor as asked', () => {
    only(render(['--set', 'monitoring.operatorMonitor.enabled=true']), 'ServiceMonitor');
    const pm = render([
      '--set',
      'monitoring.operatorMonitor.enabled=true',
      '--set',
      'monitoring.operatorMonitor.kind=PodMonitor',
    ]);
    assert.equal(pm.filter((m) => m.kind === 'PodMonitor').length, 1);
  });

  it('the dashboard ConfigMap carries the sidecar label and the dashboard JSON unchanged', () => {
    const cm = only(render(), 'ConfigMap') as Manifest & { data: Record<string, string> };
    assert.equal(cm.metadata.labels?.grafana_dashboard, '1');
    const file = readFileSync(join(chart, 'dashboards', 'streamqc.json'), 'utf8');
    const dashboard = cm.data['streamqc.json'];
    assert.ok(dashboard, 'the ConfigMap carries streamqc.json');
    assert.deepEqual(JSON.parse(dashboard), JSON.parse(file));
    const relabelled = only(
      render(['--set', 'dashboard.labels.grafana_dashboard=null', '--set', 'dashboard.labels.dashboards=streamqc']),
      'ConfigMap',
    );
    assert.equal(relabelled.metadata.labels?.dashboards, 'streamqc');
  });
});

interface PolicyPeer {
  namespaceSelector?: { matchLabels?: Record<string, string> };
  podSelector?: { matchLabels?: Record<string, string> };
}
interface NetworkPolicy extends Manifest {
  spec: {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: string[];
    ingress: { from: PolicyPeer[]; ports: { port: number | string; protocol: string }[] }[];
    egress?: { to?: PolicyPeer[]; ports?: { port: number | string; protocol?: string }[] }[];
  };
}

function networkPolicies(manifests: Manifest[]): NetworkPolicy[] {
  return manifests.filter((m) => m.kind === 'NetworkPolicy') as NetworkPolicy[];
}

/** True when every label the selector asks for is on the pod. */
function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return (
    selector !== undefined &&
    Object.keys(selector).length > 0 &&
    Object.entries(selector).every(([k, v]) => labels[k] === v)
  );
}

/** The pod the operator renders for a monitor in `namespace` (operator/analyzer-pod.ts), as it would run. */
function analyzerPod(namespace: string): { labels: Record<string, string>; portNames: string[]; ports: number[] } {
  const { pod } = renderAnalyzer({
    apiVersion: 'streamqc.io/v1alpha1',
    kind: 'StreamMonitor',
    metadata: { name: 'news-hd', namespace, uid: 'u-1', resourceVersion: '1' },
    spec: { source: { url: 'srt://192.0.2.1:9000' } },
  });
  const ports = pod.spec?.containers[0]?.ports ?? [];
  return {
    labels: pod.metadata?.labels ?? {},
    portNames: ports.map((p) => p.name ?? ''),
    ports: ports.map((p) => p.containerPort),
  };
}

const prometheusPeer = {
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
  podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
};

describe('helm chart: NetworkPolicies', () => {
  it('analyzer pods: ingress to their http port only from the operator pods and Prometheus; egress open', () => {
    const manifests = render();
    const [policy, ...more] = networkPolicies(manifests).filter((p) => p.metadata.name === 'sq-streamqc-analyzer');
    assert.ok(policy, 'an analyzer NetworkPolicy');
    assert.equal(more.length, 0, 'cluster-wide mode: one analyzer policy, in the release namespace');
    assert.equal(policy.metadata.namespace, 'streamqc-system');
    const analyzer = analyzerPod('streamqc-system');
    assert.ok(
      selects(policy.spec.podSelector.matchLabels, analyzer.labels),
      `${JSON.stringify(policy.spec.podSelector)} selects the operator's analyzer pods ${JSON.stringify(analyzer.labels)}`,
    );
    assert.deepEqual(policy.spec.policyTypes, ['Ingress'], 'egress open: sources are arbitrary URLs');
    assert.equal(policy.spec.ingress.length, 1);
    const [rule] = policy.spec.ingress;
    assert.ok(rule);
    assert.deepEqual(rule.ports, [{ port: 'http', protocol: 'TCP' }]);
    assert.deepEqual(
      analyzer.portNames,
      ['http'],
      "the named port is the analyzer container's (9090, /metrics and /status)",
    );
    const [operatorPeer, prometheus] = rule.from;
    assert.equal(rule.from.length, 2);
    assert.ok(operatorPeer);
    assert.deepEqual(operatorPeer.namespaceSelector, {
      matchLabels: { 'kubernetes.io/metadata.name': 'streamqc-system' },
    });
    const operatorPodLabels = (
      operatorDeployment(manifests).spec.template as unknown as { metadata: { labels: Record<string, string> } }
    ).metadata.labels;
    assert.ok(
      selects(operatorPeer.podSelector?.matchLabels, operatorPodLabels),
      "the operator peer selects the operator's pods",
    );
    assert.ok(!selects(operatorPeer.podSelector?.matchLabels, analyzer.labels), 'analyzers may not reach each other');
    assert.deepEqual(prometheus, prometheusPeer);
  });

  it('analyzer pods: one policy per watched namespace, or per listed namespace; egress restricted on request', () => {
    const watched = networkPolicies(render(['--set', 'watchNamespaces={news,sports}'])).filter(
      (p) => p.metadata.name === 'sq-streamqc-analyzer',
    );
    assert.deepEqual(
      watched.map((p) => p.metadata.namespace),
      ['news', 'sports'],
    );
    const listed = networkPolicies(render(['--set', 'networkPolicy.analyzer.namespaces={tv}'])).filter(
      (p) => p.metadata.name === 'sq-streamqc-analyzer',
    );
    assert.deepEqual(
      listed.map((p) => p.metadata.namespace),
      ['tv'],
    );
    const dns = { to: [{ namespaceSelector: {} }], ports: [{ port: 53, protocol: 'UDP' }] };
    const file = valuesFile('analyzer-egress', {
      networkPolicy: { analyzer: { egress: { restrict: true, rules: [dns] } } },
    });
    const [restricted] = networkPolicies(render(['-f', file])).filter(
      (p) => p.metadata.name === 'sq-streamqc-analyzer',
    );
    assert.ok(restricted, 'the analyzer NetworkPolicy with restricted egress');
    assert.deepEqual(restricted.spec.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(restricted.spec.egress, [dns]);
  });

  it('the operator: ingress to its http port (metrics, health) only from Prometheus; egress open unless restricted', () => {
    const manifests = render();
    const policy = networkPolicies(manifests).find((p) => p.metadata.name === 'sq-streamqc-operator');
    assert.ok(policy, 'an operator NetworkPolicy');
    assert.equal(policy.metadata.namespace, 'streamqc-system');
    const deployment = operatorDeployment(manifests);
    const podLabels = (deployment.spec.template as unknown as { metadata: { labels: Record<string, string> } }).metadata
      .labels;
    assert.ok(selects(policy.spec.podSelector.matchLabels, podLabels));
    assert.deepEqual(policy.spec.policyTypes, ['Ingress']);
    assert.deepEqual(policy.spec.ingress, [{ from: [prometheusPeer], ports: [{ port: 'http', protocol: 'TCP' }] }]);
    assert.deepEqual(
      deployment.spec.template.spec.containers[0]!.ports.map((p) => p.name),
      ['http'],
    );

    const apiServer = { to: [{ ipBlock: { cidr: '10.0.0.1/32' } }], ports: [{ port: 6443, protocol: 'TCP' }] };
    const file = valuesFile('operator-egress', {
      networkPolicy: { operator: { egress: { restrict: true, rules: [apiServer] } } },
    });
    const restricted = networkPolicies(render(['-f', file])).find((p) => p.metadata.name === 'sq-streamqc-operator');
    assert.deepEqual(restricted?.spec.policyTypes, ['Ingress', 'Egress']);
    const [toAnalyzers, toApiServer] = restricted.spec.egress ?? [];
    assert.ok(toAnalyzers, 'an egress rule to the analyzers');
    const analyzer = analyzerPod('news');
    assert.ok(
      selects(toAnalyzers.to?.[0]?.podSelector?.matchLabels, analyzer.labels),
      'the operator may reach analyzer pods',
    );
    assert.deepEqual(toAnalyzers.to?.[0]?.namespaceSelector, {}, 'in every namespace');
    assert.deepEqual(toAnalyzers.ports, [{ port: analyzer.ports[0], protocol: 'TCP' }]);
    assert.deepEqual(toApiServer, apiServer);
  });

  it('networkPolicy.enabled=false renders none', () => {
    assert.equal(networkPolicies(render(['--set', 'networkPolicy.enabled=false'])).length, 0);
  });
});

describe('helm chart: one source of truth', () => {
  it("the chart's CRD is byte-identical to crds/", () => {
    const name = 'streamqc.io_streammonitors.yaml';
    assert.ok(
      readFileSync(join(chart, 'crds', name)).equals(readFileSync(join(root, 'crds', name))),
      `helm/streamqc/crds/${name} differs from crds/${name}: copy it again`,
    );
  });

  it('the PrometheusRule holds exactly the groups of the plain rules file', () => {
    const rule = only(render(['--set', 'monitoring.prometheusRule.enabled=true']), 'PrometheusRule') as Manifest & {
      spec: { groups: unknown[] };
    };
    const plain = YAML.parse(readFileSync(join(chart, 'files', 'streamqc-alerts.rules.yaml'), 'utf8')) as {
      groups: unknown[];
    };
    assert.ok(plain.groups.length > 0);
    assert.deepEqual(rule.spec.groups, plain.groups);
  });
});

describe('helm chart: values.schema.json refuses bad values, naming the key', () => {
  const bad: { name: string; values: unknown; message: RegExp }[] = [
    {
      name: 'wrong type',
      values: { operator: { replicas: 'two' } },
      message: /\/operator\/replicas'?: got string, want integer/,
    },
    {
      name: 'unknown key',
      values: { operator: { replica: 2 } },
      message: /\/operator'?: additional properties 'replica' not allowed/,
    },
    {
      name: 'unknown top-level key',
      values: { analyser: { image: 'x' } },
      message: /additional properties 'analyser' not allowed/,
    },
    {
      name: 'bad enum',
      values: { operator: { image: { pullPolicy: 'Sometimes' } } },
      message: /\/operator\/image\/pullPolicy'?: value must be one of/,
    },
    {
      name: 'negative replicas',
      values: { operator: { replicas: -1 } },
      message: /\/operator\/replicas'?: minimum: got -1/,
    },
    {
      name: 'bad operator monitor kind',
      values: { monitoring: { operatorMonitor: { kind: 'Probe' } } },
      message: /\/monitoring\/operatorMonitor\/kind/,
    },
    {
      name: 'namespace that is not a DNS label',
      values: { watchNamespaces: ['News_Desk'] },
      message: /\/watchNamespaces\/0/,
    },
    {
      name: 'bad resource quantity',
      values: { analyzer: { resources: { limits: { memory: 'lots' } } } },
      message: /\/analyzer\/resources\/limits\/memory/,
    },
    {
      name: 'image prefix that admits look-alikes',
      values: { admissionPolicy: { allowedImagePrefixes: ['ghcr.io/streamqc/analyzer'] } },
      message: /\/admissionPolicy\/allowedImagePrefixes\/0/,
    },
    {
      name: 'operator egress restricted without a way to the API server',
      values: { networkPolicy: { operator: { egress: { restrict: true } } } },
      message: /\/networkPolicy\/operator\/egress/,
    },
    {
      name: 'Prometheus selector with an unknown key',
      values: { networkPolicy: { prometheus: { podSelector: { matchLabel: { a: 'b' } } } } },
      message: /\/networkPolicy\/prometheus\/podSelector'?: additional properties 'matchLabel' not allowed/,
    },
  ];
  for (const { name, values, message } of bad) {
    it(`${name}: helm template and helm lint fail with the key in the message`, () => {
      const file = valuesFile(name.replace(/\W+/g, '-'), values);
      const template = helm(['template', 'sq', chart, '-f', file]);
      assert.notEqual(template.code, 0, `helm template accepted ${JSON.stringify(values)}`);
      assert.match(template.out, message);
      const lint = helm(['lint', chart, '-f', file]);
      assert.notEqual(lint.code, 0, `helm lint accepted ${JSON.stringify(values)}`);
      assert.match(lint.out, message);
    });
  }
});

describe('helm chart: on a real API server', () => {
  let kc: KubeConfig;
  const namespaces: string[] = [];
  before(() => {
    kc = sharedKubeConfig();
  });
  after(async () => deleteNamespaces(kc, namespaces));

  /** Server-side dry-run apply of the CRDs and the rendered chart; returns kubectl's output. */
  function dryRun(manifests: string): Run {
    return run(
      'kubectl',
      [
        '--kubeconfig',
        sharedKubeconfigPath(),
        'apply',
        '--server-side',
        '--force-conflicts',
        '--field-manager=helm-chart-test',
        '--dry-run=server',
        '-f',
        '-',
      ],
      manifests,
    );
  }

  it('cluster-wide mode: the rendered chart passes a server-side dry-run under PSS restricted', async () => {
    const release = await freshNamespace(kc, 'helm-sq', namespaces);
    const text = renderText(['--include-crds', '--namespace', release]);
    const r = dryRun(text);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /deployment\.apps\/sq-streamqc-operator serverside-applied \(server dry run\)/);
    assert.match(r.out, /clusterrole\.rbac\.authorization\.k8s\.io\/sq-streamqc-operator serverside-applied/);
    assert.match(
      r.out,
      /customresourcedefinition\.apiextensions\.k8s\.io\/streammonitors\.streamqc\.io serverside-applied/,
    );
    assert.match(r.out, /networkpolicy\.networking\.k8s\.io\/sq-streamqc-analyzer serverside-applied/);
    assert.match(r.out, /networkpolicy\.networking\.k8s\.io\/sq-streamqc-operator serverside-applied/);
    assert.match(
      r.out,
      /validatingadmissionpolicy\.admissionregistration\.k8s\.io\/sq-streamqc-monitor-author serverside-applied/,
    );
    assert.match(
      r.out,
      /validatingadmissionpolicybinding\.admissionregistration\.k8s\.io\/sq-streamqc-monitor-author serverside-applied/,
    );
    // freshNamespace enforces the restricted profile; the API server warns on a workload that breaks it.
    assert.doesNotMatch(r.stderr, /PodSecurity/, r.stderr);
    // The check has teeth: the same Deployment allowed to escalate privileges draws the warning.
    const loosened = dryRun(text.replace('allowPrivilegeEscalation: false', 'allowPrivilegeEscalation: true'));
    assert.equal(loosened.code, 0, loosened.out);
    assert.match(loosened.stderr, /would violate PodSecurity "restricted:[^"]*": allowPrivilegeEscalation != false/);
  });

  it('namespaced mode: Roles in each watched namespace pass a server-side dry-run', async () => {
    const release = await freshNamespace(kc, 'helm-sq', namespaces);
    const news = await freshNamespace(kc, 'helm-news', namespaces);
    const sports = await freshNamespace(kc, 'helm-sports', namespaces);
    const r = dryRun(renderText(['--namespace', release, '--set', `watchNamespaces={${news},${sports}}`]));
    assert.equal(r.code, 0, r.out);
    assert.equal(
      r.out.match(/role\.rbac\.authorization\.k8s\.io\/sq-streamqc-operator serverside-applied/g)?.length,
      2,
      r.out,
    );
    assert.doesNotMatch(r.out, /clusterrole/);
  });

  it("namespaced mode, applied: the operator's account may do its work in watched namespaces only", async () => {
    await installCrd(kc);
    const release = await freshNamespace(kc, 'helm-sq', namespaces);
    const news = await freshNamespace(kc, 'helm-news', namespaces);
    const other = await freshNamespace(kc, 'helm-other', namespaces);
    const rbacOnly = ['--show-only', 'templates/serviceaccount.yaml', '--show-only', 'templates/rbac.yaml'];
    const text = renderText(['--namespace', release, '--set', `watchNamespaces={${news}}`, ...rbacOnly]);
    const applied = run(
      'kubectl',
      ['--kubeconfig', sharedKubeconfigPath(), 'apply', '--server-side', '--field-manager=helm-chart-test', '-f', '-'],
      text,
    );
    assert.equal(applied.code, 0, applied.out);
    const as = `system:serviceaccount:${release}:sq-streamqc-operator`;
    const can = (verb: string, resource: string, namespace: string): boolean => {
      const [kind, subresource] = resource.split('/');
      const r = run('kubectl', [
        '--kubeconfig',
        sharedKubeconfigPath(),
        'auth',
        'can-i',
        verb,
        kind!,
        '-n',
        namespace,
        `--as=${as}`,
        ...(subresource === undefined ? [] : [`--subresource=${subresource}`]),
      ]);
      assert.ok(r.code === 0 || r.code === 1, r.out);
      return r.code === 0;
    };
    // RBAC is enforced as soon as the bindings are stored; the authorizer's cache may lag a moment.
    for (const deadline = Date.now() + 10_000; !can('create', 'pods', news) && Date.now() < deadline;)
      await new Promise((r) => setTimeout(r, 200));
    for (const [verb, resource] of [
      ['watch', 'streammonitors.streamqc.io'],
      ['patch', 'streammonitors.streamqc.io/status'],
      ['create', 'pods'],
      ['delete', 'pods'],
      ['update', 'configmaps'],
      ['watch', 'configmaps'],
      ['create', 'events'],
    ] as const) {
      assert.ok(can(verb, resource, news), `${verb} ${resource} in the watched namespace`);
      assert.ok(!can(verb, resource, other), `no ${verb} ${resource} in a namespace it does not watch`);
    }
    assert.ok(!can('get', 'secrets', news), 'no secrets');
    assert.ok(!can('delete', 'streammonitors.streamqc.io', news), 'never deletes a monitor');
    const canLease = (name: string): boolean =>
      run('kubectl', [
        '--kubeconfig',
        sharedKubeconfigPath(),
        'auth',
        'can-i',
        'update',
        `leases.coordination.k8s.io/${name}`,
        '-n',
        release,
        `--as=${as}`,
      ]).code === 0;
    assert.ok(canLease('streamqc-operator'), 'renews its own lease');
    assert.ok(!canLease('someone-else'), 'cannot touch another lease');
  });

  it('NetworkPolicies with restricted egress, applied: the API server stores them as rendered', async () => {
    const release = await freshNamespace(kc, 'helm-sq', namespaces);
    const news = await freshNamespace(kc, 'helm-news', namespaces);
    const file = valuesFile('applied-egress', {
      watchNamespaces: [news],
      networkPolicy: {
        analyzer: {
          egress: {
            restrict: true,
            rules: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.169.254/32'] } }] }],
          },
        },
        operator: {
          egress: {
            restrict: true,
            rules: [{ to: [{ ipBlock: { cidr: '10.0.0.1/32' } }], ports: [{ port: 6443, protocol: 'TCP' }] }],
          },
        },
      },
    });
    const text = renderText(['--namespace', release, '-f', file, '--show-only', 'templates/networkpolicy.yaml']);
    const applied = run(
      'kubectl',
      ['--kubeconfig', sharedKubeconfigPath(), 'apply', '--server-side', '--field-manager=helm-chart-test', '-f', '-'],
      text,
    );
    assert.equal(applied.code, 0, applied.out);
    const rendered = networkPolicies(
      YAML.parseAllDocuments(text)
        .map((d) => d.toJS() as Manifest | null)
        .filter((m): m is Manifest => m !== null),
    );
    assert.deepEqual(
      rendered.map((p) => [p.metadata.namespace, p.metadata.name]),
      [
        [news, 'sq-streamqc-analyzer'],
        [release, 'sq-streamqc-operator'],
      ],
    );
    for (const policy of rendered) {
      const got = run('kubectl', [
        '--kubeconfig',
        sharedKubeconfigPath(),
        '-n',
        policy.metadata.namespace ?? '',
        'get',
        'networkpolicy',
        policy.metadata.name,
        '-o',
        'json',
      ]);
      assert.equal(got.code, 0, got.out);
      const stored = (JSON.parse(got.out) as NetworkPolicy).spec;
      assert.deepEqual(stored.podSelector, policy.spec.podSelector);
      assert.deepEqual(stored.policyTypes, policy.spec.policyTypes);
      assert.deepEqual(stored.ingress, policy.spec.ingress);
      assert.deepEqual(stored.egress, policy.spec.egress);
    }
  });

  it('NOTES.txt tells the user to apply an example and where the metrics are', () => {
    // A release name of its own: helm looks up the cluster-scoped objects of a release, and the
    // end-to-end test applies release sq's admission policy to the same control plane.
    const r = helm([
      'install',
      'sq-notes',
      chart,
      '--dry-run=client',
      '--namespace',
      'streamqc-system',
      '--kubeconfig',
      sharedKubeconfigPath(),
    ]);
    assert.equal(r.code, 0, r.out);
    const notes = r.out.slice(r.out.indexOf('NOTES:'));
    assert.match(notes, /kubectl apply -f examples\/minimal\.yaml/);
    assert.match(notes, /\/metrics/);
    assert.match(notes, /port 9090/);
  });
});
