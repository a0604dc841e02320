// An MLService author gets no more than the operator's tenancy policy allows: the API server refuses what
// is wrong whatever the policy (CEL), the operator refuses the rest with Degraded/PolicyViolation and applies
// nothing; what it does apply mounts Secrets by key only and bounds memory.
import { expect } from 'chai';
import { controlPlaneStartTimeout, freshNamespace } from '../../helpers/controlPlane.js';
import { consistently, eventually } from '../../helpers/eventually.js';
import type { KubeObject, MLService } from '../../../operator/api/types.js';
import { CONFIGMAPS, DEPLOYMENTS, EVENTS, MLMODELS, MLSERVICES, SERVICES } from '../../../operator/kube/resources.js';
import type { OperatorHandle } from '../../../operator/operator.js';
import { condition, create, emotionModel, installCrds, rejection, list, mlService, mustRead, patch, read, startScopedOperator } from './support.js';

interface Volume {
  name: string;
  hostPath?: { path: string };
  secret?: { secretName: string; items?: { key: string; path: string }[] };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { runAsUser?: number; capabilities?: { add?: string[]; drop?: string[] } };
}
interface Deployment extends KubeObject {
  spec: { template: { spec: { containers: Container[]; initContainers?: Container[]; volumes: Volume[] } } };
}

describe('operator: tenancy policy on a real control plane', function () {
  this.timeout(120_000);
  let op: OperatorHandle | undefined;

  before(async function () {
    this.timeout(controlPlaneStartTimeout);
    await installCrds();
  });

  afterEach(async () => {
    await op?.stop();
    op = undefined;
  });

  describe('admission (CEL and schema, whatever the operator settings)', () => {
    const cases: [string, Partial<MLService['spec']>, RegExp][] = [
      ['a host path with a .. segment', { modelCache: { hostPath: { path: '/var/lib/mloffload/../../etc' } } }, /hostPath.path must be absolute and normalised/],
      ['a host path with a . segment', { modelCache: { hostPath: { path: '/var/lib/mloffload/./models' } } }, /hostPath.path must be absolute and normalised/],
      ['a host path with an empty segment', { modelCache: { hostPath: { path: '/var/lib//mloffload' } } }, /hostPath.path must be absolute and normalised/],
      ['a host path with a trailing slash', { modelCache: { hostPath: { path: '/var/lib/mloffload/' } } }, /hostPath.path must be absolute and normalised/],
      ['a relative host path', { modelCache: { hostPath: { path: 'var/lib/mloffload' } } }, /spec\.modelCache\.hostPath\.path/],
      ['an API-key Secret key of ..', { auth: { apiKeySecretName: 'keys', apiKeySecretKey: '..' } }, /apiKeySecretKey must be a Secret key/],
      ['an API-key Secret key with a slash', { auth: { apiKeySecretName: 'keys', apiKeySecretKey: '../token' } }, /spec\.auth\.apiKeySecretKey/],
      ['an image reference with a space', { image: 'evil image:1' }, /spec\.image/],
    ];
    for (const [what, spec, message] of cases) {
      it(`refuses ${what}`, async () => {
        const ns = await freshNamespace('ten');
        const err = await rejection(create(MLSERVICES, mlService(ns, 'svc', spec)));
        expect(err.statusCode).to.equal(422);
        expect(err.message).to.match(message);
      });
    }

    it('accepts a normalised path, which the operator then judges against its prefix', async () => {
      const ns = await freshNamespace('ten');
      await create(MLSERVICES, mlService(ns, 'a', { modelCache: { hostPath: { path: '/var/lib/mloffload/models' } } }));
      await create(MLSERVICES, mlService(ns, 'b', { modelCache: { hostPath: { path: '/etc' } } }));
      expect((await mustRead<MLService>(MLSERVICES, ns, 'a')).spec.modelCache?.hostPath?.path).to.equal('/var/lib/mloffload/models');
    });
  });

  async function policyViolation(ns: string, name: string): Promise<MLService> {
    return eventually(
      async () => {
        const svc = await mustRead<MLService>(MLSERVICES, ns, name);
        expect(condition(svc, 'Degraded'), JSON.stringify(svc.status?.conditions)).to.include({ status: 'True', reason: 'PolicyViolation' });
        expect(condition(svc, 'Ready')).to.include({ status: 'False', reason: 'PolicyViolation' });
        expect(condition(svc, 'Degraded')!.observedGeneration).to.equal(svc.metadata.generation);
        return svc;
      },
      { timeout: 30_000, interval: 200 },
    );
  }

  async function nothingApplied(ns: string, name: string): Promise<void> {
    await consistently(
      async () => {
        for (const type of [DEPLOYMENTS, SERVICES, CONFIGMAPS]) expect(await read(type, ns, name), `${type.kind} ${name}`).to.equal(undefined);
      },
      { duration: 2_000, interval: 250 },
    );
  }

  it('refuses an image outside the allow-list: Degraded/PolicyViolation naming the field, a Warning event, nothing created', async () => {
    const ns = await freshNamespace('ten');
    op = await startScopedOperator(ns);
    await create(MLMODELS, emotionModel(ns));
    await create(MLSERVICES, mlService(ns, 'miner', { image: 'evil.example/miner:latest' }));
    const svc = await policyViolation(ns, 'miner');
    expect(condition(svc, 'Degraded')!.message).to.contain('spec.image').and.to.contain('evil.example/miner:latest').and.to.contain('docker.io/mloffload/inference-runtime');
    await nothingApplied(ns, 'miner');
    await eventually(async () => {
      const events = await list<KubeObject & { reason?: string; type?: string; involvedObject?: { name?: string } }>(EVENTS, ns);
      expect(events.some((e) => e.reason === 'PolicyViolation' && e.type === 'Warning' && e.involvedObject?.name === 'miner')).to.equal(true);
    });

    // The default image of the operator (another tag of the same repository) is fine: the service proceeds.
    await patch(MLSERVICES, ns, 'miner', { spec: { image: 'mloffload/inference-runtime:other-tag' } });
    await eventually(async () => expect((await mustRead<Deployment>(DEPLOYMENTS, ns, 'miner')).spec.template.spec.containers[0]!.image).to.equal('mloffload/inference-runtime:other-tag'), {
      timeout: 30_000,
    });
  });

  /** The Deployment's spec stays as applied (its status moves with the rollout, its generation does not). */
  async function unchanged(ns: string, name: string, before: Deployment): Promise<void> {
    await consistently(
      async () => {
        const now = await mustRead<Deployment>(DEPLOYMENTS, ns, name);
        expect(now.metadata.generation).to.equal(before.metadata.generation);
        expect(now.spec.template).to.deep.equal(before.spec.template);
      },
      { duration: 2_000, interval: 250 },
    );
  }

  it('refuses a host path outside the prefix and placement beyond the allowed keys, and leaves the running Deployment as it was', async () => {
    const ns = await freshNamespace('ten');
    op = await startScopedOperator(ns);
    await create(MLMODELS, emotionModel(ns));
    await create(MLSERVICES, mlService(ns, 'faces', { replicas: 1 }));
    const before = await eventually(() => mustRead<Deployment>(DEPLOYMENTS, ns, 'faces'), { timeout: 30_000 });
    expect(before.spec.template.spec.volumes.find((v) => v.name === 'model-cache')?.hostPath?.path).to.equal('/var/lib/mloffload/models');

    await patch(MLSERVICES, ns, 'faces', { spec: { modelCache: { hostPath: { path: '/etc' } } } });
    const svc = await policyViolation(ns, 'faces');
    expect(condition(svc, 'Degraded')!.message).to.contain('spec.modelCache.hostPath.path').and.to.contain('/var/lib/mloffload');
    await unchanged(ns, 'faces', before);

    await patch(MLSERVICES, ns, 'faces', {
      spec: { modelCache: null, placement: { tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }], nodeSelector: { 'kubernetes.io/hostname': 'cloud-0' } } },
    });
    await eventually(async () => {
      const s = await mustRead<MLService>(MLSERVICES, ns, 'faces');
      const message = condition(s, 'Degraded')?.message ?? '';
      expect(message).to.contain('spec.placement.tolerations[0].key').and.to.contain('spec.placement.nodeSelector["kubernetes.io/hostname"]');
      expect(condition(s, 'Degraded')!.observedGeneration).to.equal(s.metadata.generation);
    }, { timeout: 30_000 });
    await unchanged(ns, 'faces', before);
  });

  it('applies what the operator settings allow: another image prefix, another host path prefix', async () => {
    const ns = await freshNamespace('ten');
    op = await startScopedOperator(ns, { tenancy: { allowedImages: ['registry.example/edge/*'], hostPathPrefix: '/data/ml', allowedTolerationKeys: ['example.com/*'] } });
    await create(MLMODELS, emotionModel(ns));
    await create(MLSERVICES, mlService(ns, 'ok', {
      image: 'registry.example/edge/runtime:2',
      modelCache: { hostPath: { path: '/data/ml/cache' } },
      placement: { edgeOnly: true, tolerations: [{ key: 'example.com/gpu', operator: 'Exists' }] },
    }));
    const dep = await eventually(() => mustRead<Deployment>(DEPLOYMENTS, ns, 'ok'), { timeout: 30_000 });
    expect(dep.spec.template.spec.volumes.find((v) => v.name === 'model-cache')?.hostPath?.path).to.equal('/data/ml/cache');
    await create(MLSERVICES, mlService(ns, 'default-path', {}));
    const svc = await policyViolation(ns, 'default-path');
    expect(condition(svc, 'Degraded')!.message).to.contain('/var/lib/mloffload/models').and.to.contain('/data/ml');
  });

  it('writes Deployments that mount Secrets by key only, bound memory, and prepare the hostPath cache as root with CAP_CHOWN only', async () => {
    const ns = await freshNamespace('ten');
    op = await startScopedOperator(ns);
    await create(MLMODELS, emotionModel(ns));
    await create(MLSERVICES, mlService(ns, 'secure', { port: 8443, tls: { secretName: 'secure-tls' }, auth: { apiKeySecretName: 'secure-keys', apiKeySecretKey: 'keys.txt' } }));
    // The API server validated and stored the pod template as written.
    const dep = await eventually(() => mustRead<Deployment>(DEPLOYMENTS, ns, 'secure'), { timeout: 30_000 });
    const pod = dep.spec.template.spec;
    const secretVolumes = pod.volumes.filter((v) => v.secret);
    expect(secretVolumes.map((v) => [v.secret!.secretName, v.secret!.items?.map((i) => i.key)])).to.deep.equal([
      ['secure-tls', ['tls.crt', 'tls.key']],
      ['secure-keys', ['keys.txt']],
    ]);
    expect(pod.containers[0]!.resources).to.deep.equal({ requests: { cpu: '250m', memory: '768Mi' }, limits: { memory: '1536Mi' } });
    const init = pod.initContainers?.[0];
    expect(init?.image).to.equal(pod.containers[0]!.image);
    expect(init?.securityContext).to.deep.include({ runAsUser: 0 });
    expect(init?.securityContext?.capabilities).to.deep.equal({ drop: ['ALL'], add: ['CHOWN'] });
  });
});
