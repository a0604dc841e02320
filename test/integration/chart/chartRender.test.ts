import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { load } from 'js-yaml';
import * as operatorResources from '../../../operator/kube/resources.js';
import { repoRoot } from '../../env/cacheLayout.js';
import {
  type DeploymentManifest,
  type Manifest,
  type PolicyRule,
  type RoleManifest,
  chartDir,
  findManifest,
  helm,
  renderChart,
  templateChart,
} from './chartTools.js';
import { leaderElectionPermissions, watchedNamespacePermissions } from './operatorPermissions.js';

const packageVersion = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const operatorContainer = (manifests: Manifest[]) => (findManifest(manifests, 'Deployment') as DeploymentManifest).spec.template.spec.containers[0];
const argsOf = (manifests: Manifest[]) => operatorContainer(manifests).args ?? [];
const kinds = (manifests: Manifest[]) => manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort();

/** Every (group, resource, verb) a set of rules grants, as "group/resource:verb". */
function grants(rules: PolicyRule[]): string[] {
  return rules.flatMap((r) => (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`)))).sort();
}
const expectedGrants = (permissions: typeof watchedNamespacePermissions) =>
  permissions.flatMap((p) => p.verbs.map((v) => `${p.group}/${p.resource}:${v}`)).sort();

describe('Helm chart charts/mloffload: lint and render', function () {
  this.timeout(60_000);

  it('passes helm lint --strict with the default values and with customised ones', async () => {
    const plain = await helm(['lint', '--strict', chartDir]);
    expect(plain.code, plain.stdout + plain.stderr).to.equal(0);
    const custom = await helm(['lint', '--strict', chartDir, '--set', 'replicaCount=3,watchNamespace=edge-ml,runtime.image.tag=1.2.3']);
    expect(custom.code, custom.stdout + custom.stderr).to.equal(0);
  });

  it('ships the same CRD files as crds/ (run `npm run chart:sync` after changing a CRD)', () => {
    const source = readdirSync(join(repoRoot, 'crds')).filter((f) => f.endsWith('.yaml')).sort();
    const shipped = readdirSync(join(chartDir, 'crds')).sort();
    expect(shipped).to.deep.equal(source);
    for (const file of source) {
      expect(readFileSync(join(chartDir, 'crds', file), 'utf8'), `charts/mloffload/crds/${file} differs from crds/${file}`).to.equal(
        readFileSync(join(repoRoot, 'crds', file), 'utf8'),
      );
    }
  });

  it('carries the package version as appVersion and default image tags', async () => {
    const chart = load(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { appVersion: string; version: string };
    expect(chart.appVersion).to.equal(packageVersion);
    const manifests = await renderChart();
    expect(operatorContainer(manifests).image).to.equal(`mloffload/operator:${packageVersion}`);
    expect(argsOf(manifests)).to.include(`--runtime-image=mloffload/inference-runtime:${packageVersion}`);
  });

  describe('default values', () => {
    let manifests: Manifest[];
    before(async () => {
      manifests = await renderChart({ release: 'mlo', namespace: 'mloffload-system' });
    });

    it('renders the operator, its service account, cluster-wide RBAC and a metrics Service, and nothing else', () => {
      expect(kinds(manifests)).to.deep.equal(['ClusterRole/mlo-mloffload', 'ClusterRoleBinding/mlo-mloffload', 'Deployment/mlo-mloffload', 'Service/mlo-mloffload-metrics', 'ServiceAccount/mlo-mloffload']);
      for (const m of manifests.filter((x) => !x.kind.startsWith('Cluster'))) expect(m.metadata.namespace, `${m.kind} namespace`).to.equal('mloffload-system');
    });

    it('runs one operator without leader election, replaced (not surged) on upgrade', () => {
      const dep = findManifest(manifests, 'Deployment') as DeploymentManifest;
      expect(dep.spec.replicas).to.equal(1);
      expect(dep.spec.strategy?.type).to.equal('Recreate');
      expect(argsOf(manifests).filter((a) => a.startsWith('--leader-elect') || a.startsWith('--lease'))).to.deep.equal([]);
      expect(argsOf(manifests)).to.include.members(['--metrics-port=8081', '--workers=4', '--log-level=info']);
      expect(argsOf(manifests).some((a) => a.startsWith('--namespace'))).to.equal(false);
    });

    it('passes the tenancy policy, the runtime memory defaults and the cache init step to the operator', () => {
      expect(argsOf(manifests)).to.include.members([
        '--default-memory-limit=1536Mi',
        '--default-memory-request=768Mi',
        '--prepare-cache=true',
        '--host-path-prefix=/var/lib/mloffload',
        '--allowed-toleration-keys=node-role.kubernetes.io/edge',
        '--allowed-node-selector-keys=node-role.kubernetes.io/edge',
      ]);
      // No list: the operator allows the repository of its runtime image only.
      expect(argsOf(manifests).some((a) => a.startsWith('--allowed-images'))).to.equal(false);
    });

    it('hardens the pod: non-root, read-only root file system, no capabilities, RuntimeDefault seccomp, resources set', () => {
      const spec = (findManifest(manifests, 'Deployment') as DeploymentManifest).spec.template.spec;
      expect(spec.securityContext).to.include({ runAsNonRoot: true, runAsUser: 1000 });
      expect(spec.securityContext?.seccompProfile).to.deep.equal({ type: 'RuntimeDefault' });
      const c = spec.containers[0];
      expect(c.securityContext).to.deep.include({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(c.securityContext?.seccompProfile).to.deep.equal({ type: 'RuntimeDefault' });
      expect(c.resources?.requests).to.have.keys('cpu', 'memory');
      expect(c.resources?.limits).to.have.property('memory');
      // The read-only root needs a writable /tmp.
      expect(c.volumeMounts).to.deep.include({ name: 'tmp', mountPath: '/tmp' });
    });

    it('probes /healthz and /readyz on the metrics port, which the metrics Service exposes', () => {
      const dep = findManifest(manifests, 'Deployment') as DeploymentManifest;
      const c = dep.spec.template.spec.containers[0];
      expect(c.ports).to.deep.include({ name: 'metrics', containerPort: 8081, protocol: 'TCP' });
      expect(c.livenessProbe?.httpGet).to.deep.equal({ path: '/healthz', port: 'metrics' });
      expect(c.readinessProbe?.httpGet).to.deep.equal({ path: '/readyz', port: 'metrics' });
      const svc = findManifest(manifests, 'Service') as Manifest & { spec: { selector: Record<string, string>; ports: { targetPort: string; port: number }[] } };
      expect(svc.spec.ports).to.deep.equal([{ name: 'metrics', port: 8081, targetPort: 'metrics', protocol: 'TCP' }]);
      expect(dep.spec.template.metadata.labels).to.include(svc.spec.selector);
      expect(dep.spec.selector.matchLabels).to.deep.equal(svc.spec.selector);
    });

    it('runs as the chart service account, passes its pod namespace and keeps the operator off edge nodes', () => {
      const spec = (findManifest(manifests, 'Deployment') as DeploymentManifest).spec.template.spec;
      expect(spec.serviceAccountName).to.equal(findManifest(manifests, 'ServiceAccount').metadata.name);
      expect(spec.automountServiceAccountToken).to.equal(true);
      expect(spec.containers[0].env).to.deep.include({ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } });
      expect(JSON.stringify(spec.affinity)).to.include('"key":"node-role.kubernetes.io/edge","operator":"DoesNotExist"');
    });

    it('grants exactly the verbs the operator uses, no secrets and no wildcards', () => {
      const role = findManifest(manifests, 'ClusterRole') as RoleManifest;
      expect(grants(role.rules)).to.deep.equal(expectedGrants(watchedNamespacePermissions));
      const text = JSON.stringify(role.rules);
      expect(text).not.to.include('*');
      expect(text).not.to.include('secrets');
      const binding = findManifest(manifests, 'ClusterRoleBinding') as Manifest & { roleRef: { name: string }; subjects: { kind: string; name: string; namespace: string }[] };
      expect(binding.roleRef.name).to.equal(role.metadata.name);
      expect(binding.subjects).to.deep.equal([{ kind: 'ServiceAccount', name: 'mlo-mloffload', namespace: 'mloffload-system' }]);
    });

    it('covers every resource type the operator code talks to', () => {
      const used = Object.values(operatorResources).filter((v): v is operatorResources.ResourceType => typeof v === 'object' && v !== null && 'plural' in v);
      const granted = new Set([...watchedNamespacePermissions, ...leaderElectionPermissions].map((p) => `${p.group}/${p.resource}`));
      for (const t of used) expect(granted.has(`${t.group}/${t.plural}`), `${t.group}/${t.plural} (operator/kube/resources.ts) has no RBAC rule`).to.equal(true);
    });
  });

  describe('customised values', () => {
    it('switches leader election on with 2 replicas, with a Lease Role limited to its Lease', async () => {
      const manifests = await renderChart({ release: 'edge', namespace: 'ops', values: { replicaCount: 2 } });
      const dep = findManifest(manifests, 'Deployment') as DeploymentManifest;
      expect(dep.spec.replicas).to.equal(2);
      expect(dep.spec.strategy).to.deep.equal({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
      expect(argsOf(manifests)).to.include.members(['--leader-elect', '--lease-namespace=ops', '--lease-name=edge-mloffload', '--lease-duration=15s', '--renew-deadline=10s', '--retry-period=2s']);
      const role = findManifest(manifests, 'Role', 'edge-mloffload-leader-election') as RoleManifest;
      expect(role.metadata.namespace).to.equal('ops');
      expect(role.rules).to.deep.equal([
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['edge-mloffload'], verbs: ['get', 'update'] },
      ]);
      expect(grants(role.rules)).to.deep.equal(expectedGrants(leaderElectionPermissions));
      const binding = findManifest(manifests, 'RoleBinding', 'edge-mloffload-leader-election') as Manifest & { subjects: { name: string }[] };
      expect(binding.subjects.map((s) => s.name)).to.deep.equal(['edge-mloffload']);
    });

    it('switches leader election on for one replica when asked, with custom timings', async () => {
      const manifests = await renderChart({ values: { leaderElection: { enabled: true, leaseDuration: '30s', renewDeadline: '20s', retryPeriod: '5s' } } });
      expect(argsOf(manifests)).to.include.members(['--leader-elect', '--lease-duration=30s', '--renew-deadline=20s', '--retry-period=5s']);
      expect(kinds(manifests)).to.include('Role/mlo-mloffload-leader-election');
    });

    it('watches one namespace with a namespaced Role instead of a ClusterRole', async () => {
      const manifests = await renderChart({ values: { watchNamespace: 'edge-ml' } });
      expect(argsOf(manifests)).to.include('--namespace=edge-ml');
      expect(kinds(manifests).filter((k) => k.startsWith('Cluster'))).to.deep.equal([]);
      const role = findManifest(manifests, 'Role', 'mlo-mloffload') as RoleManifest;
      expect(role.metadata.namespace).to.equal('edge-ml');
      expect(grants(role.rules)).to.deep.equal(expectedGrants(watchedNamespacePermissions));
      const binding = findManifest(manifests, 'RoleBinding', 'mlo-mloffload') as Manifest & { subjects: { namespace: string }[] };
      expect(binding.metadata.namespace).to.equal('edge-ml');
      expect(binding.subjects[0].namespace).to.equal('mloffload-system');
    });

    it('passes runtime and operator images (tag or digest), pull policy, resources and placement through', async () => {
      const digest = `sha256:${'a'.repeat(64)}`;
      const manifests = await renderChart({
        values: {
          image: { repository: 'registry.example/mlo/operator', digest, pullPolicy: 'Always' },
          runtime: { image: { repository: 'registry.example/mlo/inference-runtime', tag: '1.2.3' } },
          resources: { requests: { cpu: '100m', memory: '200Mi' }, limits: { cpu: 1, memory: '300Mi' } },
          nodeSelector: { 'node-role.kubernetes.io/cloud': '' },
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ops', effect: 'NoSchedule' }],
          imagePullSecrets: [{ name: 'pull' }],
          workers: 8,
          logLevel: 'debug',
        },
      });
      const dep = findManifest(manifests, 'Deployment') as DeploymentManifest;
      const c = dep.spec.template.spec.containers[0];
      expect(c.image).to.equal(`registry.example/mlo/operator@${digest}`);
      expect(c.imagePullPolicy).to.equal('Always');
      expect(c.args).to.include.members(['--runtime-image=registry.example/mlo/inference-runtime:1.2.3', '--workers=8', '--log-level=debug']);
      expect(c.resources).to.deep.equal({ requests: { cpu: '100m', memory: '200Mi' }, limits: { cpu: 1, memory: '300Mi' } });
      expect(dep.spec.template.spec.nodeSelector).to.deep.equal({ 'node-role.kubernetes.io/cloud': '' });
      expect(dep.spec.template.spec.tolerations).to.have.length(1);
    });

    it('passes a customised tenancy policy and memory defaults through', async () => {
      const manifests = await renderChart({
        values: {
          runtime: { defaultMemory: { limit: '2Gi', request: '' }, modelCache: { prepare: false } },
          tenancy: { allowedImages: ['registry.example/mlo/*', 'mloffload/inference-runtime'], hostPathPrefix: '', allowedTolerationKeys: [], allowedNodeSelectorKeys: ['kubernetes.io/hostname', 'example.com/*'] },
        },
      });
      expect(argsOf(manifests)).to.include.members([
        '--default-memory-limit=2Gi',
        '--default-memory-request=',
        '--prepare-cache=false',
        '--allowed-images=registry.example/mlo/*,mloffload/inference-runtime',
        '--host-path-prefix=',
        '--allowed-toleration-keys=',
        '--allowed-node-selector-keys=kubernetes.io/hostname,example.com/*',
      ]);
    });

    it('uses an existing service account and no RBAC when told to', async () => {
      const manifests = await renderChart({ values: { serviceAccount: { create: false, name: 'platform-operator' }, rbac: { create: false }, metrics: { service: { enabled: false } } } });
      expect(kinds(manifests)).to.deep.equal(['Deployment/mlo-mloffload']);
      expect((findManifest(manifests, 'Deployment') as DeploymentManifest).spec.template.spec.serviceAccountName).to.equal('platform-operator');
    });

    it('includes the two CRDs with --include-crds, and only then', async () => {
      const withCrds = await renderChart({ includeCrds: true });
      expect(withCrds.filter((m) => m.kind === 'CustomResourceDefinition').map((m) => m.metadata.name).sort()).to.deep.equal(['mlmodels.mloffload.io', 'mlservices.mloffload.io']);
      expect((await renderChart()).some((m) => m.kind === 'CustomResourceDefinition')).to.equal(false);
    });
  });

  describe('values.schema.json refuses wrong values', () => {
    const invalid: [string, Record<string, unknown>, RegExp][] = [
      ['a misspelt key', { replicas: 2 }, /additional properties 'replicas' not allowed/],
      ['replicaCount as a word', { replicaCount: 'two' }, /replicaCount/],
      ['a negative replica count', { replicaCount: -1 }, /replicaCount/],
      ['an unknown pull policy', { image: { repository: 'mloffload/operator', pullPolicy: 'Sometimes' } }, /pullPolicy/],
      ['an unknown log level', { logLevel: 'trace' }, /logLevel/],
      ['a resource quantity that is not one', { resources: { limits: { memory: 'lots' } } }, /resources\/limits\/memory/],
      ['a duration without a unit', { leaderElection: { leaseDuration: '15' } }, /leaseDuration/],
      ['a port out of range', { metrics: { port: 70000 } }, /metrics\/port/],
      ['a namespace that is not a DNS label', { watchNamespace: 'Edge_ML' }, /watchNamespace/],
      ['a malformed digest', { runtime: { image: { repository: 'mloffload/inference-runtime', digest: 'sha256:xyz' } } }, /runtime\/image\/digest/],
      ['a host path prefix with a .. segment', { tenancy: { hostPathPrefix: '/var/lib/../etc' } }, /tenancy\/hostPathPrefix/],
      ['a relative host path prefix', { tenancy: { hostPathPrefix: 'var/lib' } }, /tenancy\/hostPathPrefix/],
      ['a toleration key with a space', { tenancy: { allowedTolerationKeys: ['bad key'] } }, /tenancy\/allowedTolerationKeys/],
      ['an allowed image with a space', { tenancy: { allowedImages: ['evil image'] } }, /tenancy\/allowedImages/],
      ['a default memory limit that is not a quantity', { runtime: { defaultMemory: { limit: 'lots' } } }, /runtime\/defaultMemory\/limit/],
      // null removes the default, as `--set runtime.image.repository=null` would.
      ['a runtime image without a repository', { runtime: { image: { repository: null, tag: '1' } } }, /missing propert(y|ies) 'repository'/],
    ];
    for (const [what, values, message] of invalid) {
      it(`refuses ${what}`, async () => {
        const result = await templateChart({ values });
        expect(result.code, result.stdout).not.to.equal(0);
        expect(result.stderr).to.match(/values don't meet the specifications of the schema/);
        expect(result.stderr).to.match(message);
      });
    }
  });
});
