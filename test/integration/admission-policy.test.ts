// The chart's ValidatingAdmissionPolicy on the real API server (authorization Node,RBAC), with
// impersonated users: a StreamMonitor grants its author nothing they could not do already.
//   alice: may create and edit StreamMonitors, may not get Secrets nor create pods
//   bob:   as alice, and may get the Secret source-creds
//   carol: as alice, and may create pods
// Every case goes through kubectl --as, as a person would; the refusals name the field and the
// permission that is missing.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import type { KubeConfig } from '@kubernetes/client-node';
import { sharedKubeConfig } from '../cluster/shared.js';
import { API_GROUP, PLURAL, type StreamMonitorSpec } from '../../operator/api.js';
import { kubectl, renderChart, type ToolRun } from './chart-tools.js';
import { deleteNamespaces, eventually, freshNamespace, installCrd, monitorManifest } from './operator-helpers.js';

const AUTHORS = 'streamqc:monitor-authors';
const SECRET = 'source-creds';
const RESOURCE = `${PLURAL}.${API_GROUP}`;
const source = { url: 'https://cdn.example.invalid/live/master.m3u8' };
const release = `adm-${randomBytes(3).toString('hex')}`;
const policyName = `${release}-streamqc-monitor-author`;

let kc: KubeConfig;
let ns: string;
let policyYaml: string;
const namespaces: string[] = [];

function as(user: string, args: string[], input?: string): ToolRun {
  return kubectl([`--as=${user}`, `--as-group=${AUTHORS}`, '-n', ns, ...args], input);
}

function create(
  user: string,
  name: string,
  spec: Partial<StreamMonitorSpec> & Record<string, unknown>,
  dryRun = false,
): ToolRun {
  return as(
    user,
    ['create', ...(dryRun ? ['--dry-run=server'] : []), '-f', '-'],
    JSON.stringify(monitorManifest(name, { source, ...spec })),
  );
}

function patch(user: string, name: string, spec: Record<string, unknown>): ToolRun {
  return as(user, ['patch', RESOURCE, name, '--type=merge', '-p', JSON.stringify({ spec })]);
}

function assertAllowed(r: ToolRun): void {
  assert.equal(r.code, 0, r.out);
}

/** A refusal by this policy (not by RBAC or the CRD's schema), with its message matched. */
function assertDenied(r: ToolRun, message: RegExp): void {
  assert.notEqual(r.code, 0, `accepted:\n${r.out}`);
  assert.match(
    r.out,
    new RegExp(`is forbidden: ValidatingAdmissionPolicy '${policyName}' with binding '${policyName}' denied request`),
    r.out,
  );
  assert.match(r.out, message);
}

function applyAsAdmin(objects: unknown[]): void {
  const r = kubectl(
    ['apply', '--server-side', '--field-manager=admission-policy-test', '-f', '-'],
    objects.map((o) => YAML.stringify(o)).join('---\n'),
  );
  assert.equal(r.code, 0, r.out);
}

function role(name: string, rules: unknown[]): unknown {
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace: ns }, rules };
}

function binding(name: string, subject: { kind: 'User' | 'Group'; name: string }): unknown {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: `${name}-${subject.name.replace(/\W+/g, '-')}`, namespace: ns },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', ...subject }],
  };
}

function can(user: string, verb: string, resource: string): boolean {
  const r = as(user, ['auth', 'can-i', verb, resource]);
  assert.ok(r.code === 0 || r.code === 1, r.out);
  return r.code === 0;
}

before(async () => {
  kc = sharedKubeConfig();
  await installCrd(kc);
  ns = await freshNamespace(kc, 'admission', namespaces);
  const labelled = kubectl(['label', 'namespace', ns, `streamqc.io/admission-test=${release}`]);
  assert.equal(labelled.code, 0, labelled.out);
  // Only this test's namespace is bound, so other test files on the shared control plane are not judged.
  policyYaml = renderChart(release, ns, [
    '--show-only',
    'templates/admission-policy.yaml',
    '--set',
    `admissionPolicy.namespaceSelector.matchLabels.streamqc\\.io/admission-test=${release}`,
  ]);
  const applied = kubectl(['apply', '--server-side', '--field-manager=admission-policy-test', '-f', '-'], policyYaml);
  assert.equal(applied.code, 0, applied.out);

  applyAsAdmin([
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: SECRET, namespace: ns },
      stringData: { username: 'u', password: 'p' },
    },
    role('monitor-author', [
      { apiGroups: [API_GROUP], resources: [PLURAL], verbs: ['get', 'list', 'create', 'update', 'patch'] },
    ]),
    role('secret-reader', [{ apiGroups: [''], resources: ['secrets'], resourceNames: [SECRET], verbs: ['get'] }]),
    role('pod-creator', [{ apiGroups: [''], resources: ['pods'], verbs: ['create'] }]),
    // The operator's write path: status only (operator/status.ts), never the monitor's spec.
    role('status-writer', [
      { apiGroups: [API_GROUP], resources: [`${PLURAL}/status`], verbs: ['get', 'update', 'patch'] },
    ]),
    binding('monitor-author', { kind: 'Group', name: AUTHORS }),
    binding('secret-reader', { kind: 'User', name: 'bob' }),
    binding('pod-creator', { kind: 'User', name: 'carol' }),
    binding('status-writer', { kind: 'User', name: 'operator' }),
  ]);
  // RBAC and the policy take effect when the API server's caches have seen them.
  await eventually(
    'RBAC for alice, bob and carol',
    () =>
      can('alice', 'create', RESOURCE) &&
      !can('alice', 'get', `secrets/${SECRET}`) &&
      !can('alice', 'create', 'pods') &&
      can('bob', 'get', `secrets/${SECRET}`) &&
      can('carol', 'create', 'pods'),
  );
  await eventually('the policy to be enforced', () =>
    create('alice', 'probe', { source: { ...source, credentialsSecretRef: { name: SECRET } } }, true).out.includes(
      `ValidatingAdmissionPolicy '${policyName}'`,
    ),
  );
});

after(async () => {
  kubectl(['delete', '--ignore-not-found', '-f', '-'], policyYaml);
  await deleteNamespaces(kc, namespaces);
});

const secretDenied = (user: string): RegExp =>
  new RegExp(
    `spec\\.source\\.credentialsSecretRef\\.name: ${user} may not get Secret "${SECRET}" in namespace admission-\\w+; .*\\(RBAC: get secrets\\)`,
  );
const podsDenied = (field: string): RegExp =>
  new RegExp(
    `spec\\.${field}: alice may not create pods in namespace admission-\\w+; setting ${field} on the analyzer pod needs permission to create pods \\(RBAC: create pods\\)`,
  );

describe('admission policy: spec.source.credentialsSecretRef needs get on the Secret', () => {
  it('alice (no get on the Secret): a monitor naming it is denied', () => {
    assertDenied(
      create('alice', 'alice-secret', { source: { ...source, credentialsSecretRef: { name: SECRET } } }),
      secretDenied('alice'),
    );
  });

  it('bob (get on the Secret): a monitor naming it is allowed', () => {
    assertAllowed(create('bob', 'bob-secret', { source: { ...source, credentialsSecretRef: { name: SECRET } } }));
  });

  it('bob: naming another Secret he may not get is denied', () => {
    assertDenied(
      create('bob', 'bob-other-secret', { source: { ...source, credentialsSecretRef: { name: 'someone-elses' } } }),
      /credentialsSecretRef\.name: bob may not get Secret "someone-elses"/,
    );
  });

  it('alice: a monitor without overrides is allowed, and stores no image (the installation default applies)', () => {
    assertAllowed(create('alice', 'alice-plain', {}));
    const stored = JSON.parse(kubectl(['-n', ns, 'get', RESOURCE, 'alice-plain', '-o', 'json']).out) as {
      spec: Record<string, unknown>;
    };
    assert.equal(
      stored.spec.image,
      undefined,
      "the CRD defaults no image, so the chart's analyzer.image / gpuImage apply",
    );
  });

  it("alice: gpu: 1 is allowed (quota, not RBAC, governs GPUs; the image is the installation's)", () => {
    assertAllowed(create('alice', 'alice-gpu', { gpu: 1 }));
  });
});

describe('admission policy: spec.image needs create on pods, or an allow-listed prefix', () => {
  it('alice: an image of her own is denied', () => {
    assertDenied(
      create('alice', 'alice-image', { image: 'registry.example.invalid/evil:1' }),
      /spec\.image: "registry\.example\.invalid\/evil:1" does not start with an allowed prefix \(ghcr\.io\/streamqc\/analyzer:, .*\) and alice may not create pods in namespace admission-\w+; .*\(RBAC: create pods\)/,
    );
  });

  it('alice: a look-alike of the allowed repository is denied', () => {
    assertDenied(
      create('alice', 'alice-lookalike', { image: 'ghcr.io/streamqc/analyzer-evil:1' }),
      /spec\.image: "ghcr\.io\/streamqc\/analyzer-evil:1"/,
    );
  });

  it('alice: another tag of the allow-listed analyzer image is allowed', () => {
    assertAllowed(create('alice', 'alice-allowed-image', { image: 'ghcr.io/streamqc/analyzer-cuda:0.2.0' }));
  });

  it('carol (create pods): an image of her own is allowed', () => {
    assertAllowed(create('carol', 'carol-image', { image: 'registry.example.invalid/own:1' }));
  });
});

describe('admission policy: each scheduling override needs create on pods', () => {
  const overrides: Record<string, unknown> = {
    nodeSelector: { 'kubernetes.io/hostname': 'kwok-node-0' },
    tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['secure'] }] }],
        },
      },
    },
    priorityClassName: 'system-node-critical',
    runtimeClassName: 'unconfined',
  };
  for (const [field, value] of Object.entries(overrides)) {
    const name = field.toLowerCase();
    it(`alice: ${field} is denied`, () => {
      assertDenied(create('alice', `alice-${name}`, { [field]: value }), podsDenied(field));
    });
    it(`carol: ${field} is allowed`, () => {
      assertAllowed(create('carol', `carol-${name}`, { [field]: value }));
    });
  }
});

describe('admission policy: an update is judged like a create when it changes a reference', () => {
  it('alice: an update that adds a Secret reference to her monitor is denied', () => {
    assertAllowed(create('alice', 'alice-update', {}));
    assertDenied(
      patch('alice', 'alice-update', { source: { ...source, credentialsSecretRef: { name: SECRET } } }),
      secretDenied('alice'),
    );
  });

  it('alice: an update that adds an image or a toleration to her monitor is denied', () => {
    assertAllowed(create('alice', 'alice-update-pod', {}));
    assertDenied(
      patch('alice', 'alice-update-pod', { image: 'registry.example.invalid/evil:1' }),
      /spec\.image: .* alice may not create pods/,
    );
    assertDenied(
      patch('alice', 'alice-update-pod', { tolerations: [{ operator: 'Exists' }] }),
      podsDenied('tolerations'),
    );
  });

  it("alice: an edit of an unrelated field of bob's monitor with a Secret reference is allowed (the reference is unchanged)", () => {
    assertAllowed(create('bob', 'bob-shared', { source: { ...source, credentialsSecretRef: { name: SECRET } } }));
    assertAllowed(patch('alice', 'bob-shared', { detectors: { black: { minDuration: 5 } }, suspend: true }));
  });

  it("alice: pointing bob's monitor at another source.url is denied (the Secret would go to a new server)", () => {
    assertAllowed(create('bob', 'bob-url', { source: { ...source, credentialsSecretRef: { name: SECRET } } }));
    assertDenied(
      patch('alice', 'bob-url', { source: { url: 'https://attacker.example.invalid/' } }),
      secretDenied('alice'),
    );
  });

  it("alice: an edit of bob's monitor that leaves carol's image and nodeSelector as they are is allowed", () => {
    assertAllowed(
      create('carol', 'carol-shared', { image: 'registry.example.invalid/own:1', nodeSelector: { disk: 'ssd' } }),
    );
    assertAllowed(patch('alice', 'carol-shared', { suspend: true }));
    assertDenied(patch('alice', 'carol-shared', { nodeSelector: { disk: 'hdd' } }), podsDenied('nodeSelector'));
  });

  it('the status subresource is not judged: a status-only writer updates a monitor with a Secret reference', () => {
    assertAllowed(create('bob', 'bob-status', { source: { ...source, credentialsSecretRef: { name: SECRET } } }));
    const r = kubectl([
      '--as=operator',
      '-n',
      ns,
      'patch',
      RESOURCE,
      'bob-status',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { phase: 'Pending' } }),
    ]);
    assertAllowed(r);
  });
});
