import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '../../env/cacheLayout.js';
import { type TestControlPlane, controlPlaneStartTimeout, useControlPlane } from '../../helpers/controlPlane.js';
import { eventually } from '../../helpers/eventually.js';
import { type DeploymentManifest, type Manifest, chartDir, findManifest, helm, renderChart, run } from './chartTools.js';
import { freePort } from '../../env/processes.js';
import { type OperatorProcess, adminKubectl, serviceAccountKubeconfig, startOperatorProcess } from './clusterAccess.js';
import { canIArgs, leaderElectionPermissions, watchedNamespacePermissions } from './operatorPermissions.js';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface Live {
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown> & { nodeName?: string; holderIdentity?: string };
  status?: { conditions?: Condition[]; readyReplicas?: number; availableReplicas?: number; endpoint?: string; phase?: string };
}

const examplesDir = join(repoRoot, 'examples');
const secretsScript = join(examplesDir, 'facial-expression', 'make-secrets.sh');

/** Every manifest an admin may apply from examples/ (the client code is not a manifest). */
function exampleManifests(dir = examplesDir): string[] {
  return readdirSync(dir)
    .flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return entry === 'client' ? [] : exampleManifests(path);
      return /\.ya?ml$/.test(entry) ? [path] : [];
    })
    .sort();
}

const condition = (obj: Live, type: string) => obj.status?.conditions?.find((c) => c.type === type);

describe('Helm chart on a real control plane', function () {
  this.timeout(600_000);
  let cp: TestControlPlane;
  const created: string[] = [];
  const work = mkdtempSync(join(tmpdir(), 'mloffload-chart-'));

  const get = async (args: string[]): Promise<Live> => JSON.parse(await adminKubectl(cp, ['get', ...args, '-o', 'json'])) as Live;
  const list = async (args: string[]): Promise<Live[]> => (JSON.parse(await adminKubectl(cp, ['get', ...args, '-o', 'json'])) as { items: Live[] }).items;
  async function namespace(prefix: string): Promise<string> {
    const name = `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    await adminKubectl(cp, ['create', 'namespace', name]);
    created.push(name);
    return name;
  }
  /** Runs examples/facial-expression/make-secrets.sh with the cluster's kubectl on PATH, as an admin would. */
  async function makeSecrets(ns: string, out: string): Promise<void> {
    const env = { ...process.env, KUBECONFIG: cp.kubeconfigPath, PATH: `${join(cp.kubectl, '..')}:${process.env.PATH ?? ''}` };
    const result = await run('sh', [secretsScript, ns, out], { env, timeoutMs: 60_000 });
    expect(result.code, result.stderr).to.equal(0);
  }

  before(async function () {
    this.timeout(controlPlaneStartTimeout);
    cp = await useControlPlane();
  });
  after(async function () {
    this.timeout(60_000);
    await Promise.all(created.map((ns) => adminKubectl(cp, ['delete', 'namespace', ns, '--wait=false']).catch(() => undefined)));
    rmSync(work, { recursive: true, force: true });
  });

  describe('helm install, upgrade and uninstall', () => {
    const release = 'mlo-helm';
    let ns: string;
    let apps: string;
    const kube = () => ['--kubeconfig', cp.kubeconfigPath, '--namespace', ns];

    before(async () => {
      ns = await namespace('mlo-helm');
      apps = await namespace('mlo-apps');
    });
    after(async () => {
      await helm(['uninstall', release, ...kube()]).catch(() => undefined);
    });

    it('installs the CRDs from the chart when they are missing', async () => {
      // Start from a cluster without the CRDs, so what exists afterwards came from this chart.
      await adminKubectl(cp, ['delete', 'crd', 'mlmodels.mloffload.io', 'mlservices.mloffload.io', '--ignore-not-found', '--wait=true']);
      const result = await helm(['install', release, chartDir, ...kube()], { timeoutMs: 120_000 });
      expect(result.code, result.stderr).to.equal(0);
      for (const crd of ['mlmodels.mloffload.io', 'mlservices.mloffload.io']) {
        await eventually(async () => expect(condition(await get(['crd', crd]), 'Established')?.status).to.equal('True'), { timeout: 30_000 });
      }
      const dep = await get(['-n', ns, 'deployment', 'mlo-helm-mloffload']);
      expect(dep.metadata.name).to.equal('mlo-helm-mloffload');
    });

    it('keeps MLModels and MLServices through an upgrade, and the upgrade switches leader election on for 2 replicas', async () => {
      await adminKubectl(cp, ['-n', apps, 'apply', '--server-side', '-f', join(examplesDir, 'facial-expression', 'models.yaml'), '-f', join(examplesDir, 'facial-expression', 'service.yaml')]);
      const result = await helm(['upgrade', release, chartDir, ...kube(), '--set', 'replicaCount=2'], { timeoutMs: 120_000 });
      expect(result.code, result.stderr).to.equal(0);
      const dep = (await get(['-n', ns, 'deployment', 'mlo-helm-mloffload'])) as unknown as DeploymentManifest;
      expect(dep.spec.replicas).to.equal(2);
      expect(dep.spec.template.spec.containers[0].args).to.include('--leader-elect');
      expect((await list(['-n', apps, 'mlmodels'])).map((m) => m.metadata.name).sort()).to.deep.equal(['face-detector', 'facial-expression']);
      expect((await list(['-n', apps, 'mlservices'])).map((m) => m.metadata.name)).to.deep.equal(['facial-expressions']);
    });

    it('leaves the CRDs and every MLModel and MLService in place on uninstall', async () => {
      const result = await helm(['uninstall', release, ...kube(), '--wait'], { timeoutMs: 120_000 });
      expect(result.code, result.stderr).to.equal(0);
      expect(await list(['-n', ns, 'deployments'])).to.deep.equal([]);
      expect((await list(['clusterroles', '-l', 'app.kubernetes.io/instance=mlo-helm'])).length).to.equal(0);
      expect((await get(['crd', 'mlmodels.mloffload.io'])).metadata.name).to.equal('mlmodels.mloffload.io');
      expect((await get(['crd', 'mlservices.mloffload.io'])).metadata.name).to.equal('mlservices.mloffload.io');
      expect((await list(['-n', apps, 'mlmodels'])).length).to.equal(2);
      expect((await list(['-n', apps, 'mlservices'])).length).to.equal(1);
    });
  });

  describe('rendered chart applied with kubectl, replicas 2', () => {
    const release = 'mlo';
    let ns: string;
    let apps: string;
    let manifests: Manifest[];
    let serviceAccount: string;
    let leaseName: string;
    let operator: OperatorProcess | undefined;

    before(async () => {
      ns = await namespace('mlo-system');
      apps = await namespace('edge-ml');
      manifests = await renderChart({ release, namespace: ns, includeCrds: true, values: { replicaCount: 2 } });
      serviceAccount = findManifest(manifests, 'ServiceAccount').metadata.name;
      leaseName = findManifest(manifests, 'Role').metadata.name.replace(/-leader-election$/, '');
      const text = manifests.map((m) => JSON.stringify(m)).join('\n');
      await adminKubectl(cp, ['apply', '--server-side', '--force-conflicts', '-f', '-'], text);
    });
    after(async () => {
      await operator?.stop();
    });

    it('brings the operator Deployment to Available with both replicas on cloud nodes', async () => {
      const name = findManifest(manifests, 'Deployment').metadata.name;
      await eventually(
        async () => {
          const dep = await get(['-n', ns, 'deployment', name]);
          expect(condition(dep, 'Available')?.status, JSON.stringify(dep.status)).to.equal('True');
          expect(dep.status?.readyReplicas).to.equal(2);
        },
        { timeout: 120_000, interval: 1_000 },
      );
      const pods = await list(['-n', ns, 'pods', '-l', 'app.kubernetes.io/component=operator']);
      expect(pods).to.have.length(2);
      for (const pod of pods) {
        expect(pod.status?.phase).to.equal('Running');
        expect(cp.cloudNodes, `${pod.metadata.name} on ${pod.spec?.nodeName}`).to.include(pod.spec?.nodeName);
      }
    });

    it("grants the operator's ServiceAccount every verb it uses", async () => {
      const as = `--as=system:serviceaccount:${ns}:${serviceAccount}`;
      const checks: [string, string[], string][] = [];
      for (const p of watchedNamespacePermissions) for (const verb of p.verbs) checks.push([verb, canIArgs(p), apps]);
      for (const p of leaderElectionPermissions) {
        for (const verb of p.verbs) checks.push([verb, canIArgs(p, verb === 'create' ? undefined : leaseName), ns]);
      }
      // Cluster-wide list/watch for the informers of an all-namespaces operator.
      checks.push(['watch', ['mlservices.mloffload.io', '--all-namespaces'], apps], ['list', ['deployments.apps', '--all-namespaces'], apps]);
      const answers = await Promise.all(
        checks.map(async ([verb, args, where]) => {
          const r = await run(cp.kubectl, [`--kubeconfig=${cp.kubeconfigPath}`, 'auth', 'can-i', verb, ...args, '-n', where, as]);
          return `${verb} ${args.join(' ')} -n ${where}: ${r.stdout.trim() || r.stderr.trim()}`;
        }),
      );
      expect(answers.filter((a) => !a.endsWith(': yes'))).to.deep.equal([]);
    });

    it('denies it everything else that was sampled', async () => {
      const as = `--as=system:serviceaccount:${ns}:${serviceAccount}`;
      const denied: [string, string[]][] = [
        ['get', ['secrets', '-n', apps]],
        ['list', ['secrets', '--all-namespaces']],
        ['get', ['secrets', '-n', ns]],
        ['delete', ['nodes']],
        ['create', ['pods', '-n', apps]],
        ['delete', ['pods', '-n', apps]],
        ['create', ['pods/exec', '-n', apps]],
        ['create', ['daemonsets.apps', '-n', apps]],
        ['delete', ['deployments.apps', '-n', apps]],
        ['update', ['deployments.apps', '-n', apps]],
        ['delete', ['mlmodels.mloffload.io', '-n', apps]],
        ['patch', ['mlservices.mloffload.io', '-n', apps]],
        ['update', ['mlservices.mloffload.io', '-n', apps]],
        ['create', ['mlmodels.mloffload.io', '-n', apps]],
        ['get', ['leases.coordination.k8s.io/kube-scheduler', '-n', 'kube-system']],
        ['update', ['leases.coordination.k8s.io/other-lease', '-n', ns]],
        ['create', ['leases.coordination.k8s.io', '-n', apps]],
        ['create', ['clusterrolebindings.rbac.authorization.k8s.io']],
        ['escalate', ['clusterroles.rbac.authorization.k8s.io']],
        ['create', ['serviceaccounts/token', '-n', ns]],
        ['delete', ['customresourcedefinitions.apiextensions.k8s.io']],
        ['delete', ['namespaces']],
      ];
      const answers = await Promise.all(
        denied.map(async ([verb, args]) => {
          const r = await run(cp.kubectl, [`--kubeconfig=${cp.kubeconfigPath}`, 'auth', 'can-i', verb, ...args, as]);
          return `${verb} ${args.join(' ')}: ${r.stdout.trim() || r.stderr.trim()}`;
        }),
      );
      expect(answers.filter((a) => !a.endsWith(': no'))).to.deep.equal([]);
    });

    it('runs the operator with the chart arguments and ServiceAccount token: the examples become Ready', async () => {
      const dep = findManifest(manifests, 'Deployment') as DeploymentManifest;
      const port = await freePort();
      // The pod's arguments, with the metrics port moved off 8081 (other processes may hold it here).
      const args = (dep.spec.template.spec.containers[0].args ?? []).map((a) => (a.startsWith('--metrics-port=') ? `--metrics-port=${port}` : a));
      const kubeconfig = await serviceAccountKubeconfig(cp, ns, serviceAccount, join(work, 'operator.kubeconfig'));
      operator = await startOperatorProcess([...args, `--kubeconfig=${kubeconfig}`, '--metrics-host=127.0.0.1'], {
        POD_NAME: 'mlo-mloffload-test',
        POD_NAMESPACE: ns,
        KUBECONFIG: '',
        // kwok pods run no process: the API server's pod proxy would dial their unroutable IPs.
        MLOFFLOAD_OBSERVE_RUNTIME_PODS: 'false',
      });
      const probe = (path: string) => fetch(`http://127.0.0.1:${operator!.port}${path}`).then((r) => r.status);
      expect(await probe('/healthz')).to.equal(200);
      await eventually(async () => expect(await probe('/readyz')).to.equal(200), { timeout: 30_000 });
      await eventually(async () => expect((await get(['-n', ns, 'lease', leaseName])).spec?.holderIdentity).to.match(/^mlo-mloffload-test_/), { timeout: 30_000 });

      await makeSecrets(apps, join(work, 'secrets'));
      for (const file of exampleManifests()) await adminKubectl(cp, ['-n', apps, 'apply', '--server-side', '-f', file]);

      for (const name of ['facial-expressions', 'object-detection']) {
        await eventually(
          async () => {
            const svc = await get(['-n', apps, 'mlservice', name]);
            expect(condition(svc, 'Ready')?.status, JSON.stringify(svc.status)).to.equal('True');
          },
          { timeout: 180_000, interval: 1_000, message: `MLService ${name} Ready` },
        ).catch((error: Error) => {
          throw new Error(`${error.message}\noperator log:\n${operator!.logs().slice(-5).map((l) => JSON.stringify(l)).join('\n')}`);
        });
      }
      const svc = await get(['-n', apps, 'mlservice', 'facial-expressions']);
      expect(svc.status?.endpoint).to.equal(`https://facial-expressions.${apps}.svc:8443`);
      const hpa = await get(['-n', apps, 'hpa', 'object-detection']);
      expect(hpa.spec).to.deep.include({ minReplicas: 1, maxReplicas: 3 });
      // 403 as a number of its own: the started line's random health port (40327 in one run) is no refusal.
      const refused = operator.logs().filter((l) => /forbidden|\b403\b/i.test(JSON.stringify(l)));
      expect(refused, 'the API server refused the operator').to.deep.equal([]);
      const mlmodel = await get(['-n', apps, 'mlmodel', 'facial-expression']);
      expect(condition(mlmodel, 'Accepted')?.status).to.equal('True');

      expect(await operator.stop()).to.equal(0);
      // SIGTERM released the Lease for the standby.
      expect((await get(['-n', ns, 'lease', leaseName])).spec?.holderIdentity).to.equal('');
    });
  });

  describe('examples/', () => {
    it('passes server-side dry-run for every manifest (schema, defaults and CEL rules of the CRDs)', async () => {
      const files = exampleManifests();
      expect(files.map((f) => relative(examplesDir, f))).to.include.members(['facial-expression/models.yaml', 'facial-expression/service.yaml', 'object-detection/object-detection.yaml']);
      const ns = await namespace('examples');
      for (const file of files) {
        const out = await adminKubectl(cp, ['-n', ns, 'apply', '--server-side', '--dry-run=server', '--validate=strict', '-f', file]);
        expect(out, relative(repoRoot, file)).to.match(/serverside-applied \(server dry run\)/);
      }
      expect(await list(['-n', ns, 'mlmodels'])).to.deep.equal([]);
    });
  });
});
