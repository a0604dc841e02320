// The operator against a real API server, scheduler and kwok edge nodes: children, placement, status,
// rollouts on model changes, missing models, and drift correction.
import { expect } from 'chai';
import { load } from 'js-yaml';
import { controlPlaneStartTimeout, freshNamespace, useControlPlane } from '../../helpers/controlPlane.js';
import { consistently, eventually } from '../../helpers/eventually.js';
import type { PoolConfig } from '../../../inference-runtime/config/types.js';
import type { KubeObject, MLModel, MLService } from '../../../operator/api/types.js';
import { CONFIGMAPS, DEPLOYMENTS, EVENTS, HPAS, MLMODELS, MLSERVICES, PODS, SERVICES } from '../../../operator/kube/resources.js';
import type { OperatorHandle } from '../../../operator/operator.js';
import {
  condition, create, emotionModel, faceDetectorModel, installCrds, list, metricValue, mlService, mustRead, patch, read, remove, startScopedOperator,
} from './support.js';

interface Deployment extends KubeObject {
  spec: {
    replicas?: number;
    template: { metadata: { annotations: Record<string, string> }; spec: { containers: { name: string; image: string; args: string[] }[]; tolerations?: { key?: string }[] } };
  };
  status?: { readyReplicas?: number; updatedReplicas?: number; observedGeneration?: number };
}
interface Pod extends KubeObject {
  spec: { nodeName?: string };
  status?: { phase?: string };
}
interface ConfigMap extends KubeObject {
  data: Record<string, string>;
}

const POOL_HASH = 'mloffload.io/pool-hash';

describe('operator: MLService reconcile against a real control plane', function () {
  this.timeout(120_000);
  let op: OperatorHandle | undefined;
  let edgeNodes: readonly string[] = [];

  before(async function () {
    this.timeout(controlPlaneStartTimeout);
    edgeNodes = (await useControlPlane()).edgeNodes;
    await installCrds();
  });

  afterEach(async () => {
    await op?.stop();
    op = undefined;
  });

  async function readyService(ns: string, name: string): Promise<MLService> {
    return eventually(
      async () => {
        const svc = await mustRead<MLService>(MLSERVICES, ns, name);
        expect(condition(svc, 'Ready'), JSON.stringify(svc.status?.conditions)).to.include({ status: 'True', reason: 'Available' });
        return svc;
      },
      { timeout: 60_000, interval: 250, message: `MLService ${name} never turned Ready` },
    );
  }

  it('creates the ConfigMap, Deployment and Service, schedules pods on edge nodes only, and turns Ready with its endpoint', async () => {
    const ns = await freshNamespace('op');
    op = await startScopedOperator(ns);
    await create(MLMODELS, emotionModel(ns));
    await create(MLMODELS, faceDetectorModel(ns));
    await create(MLSERVICES, mlService(ns, 'faces', { models: [{ name: 'face-detector' }, { name: 'facial-expression', version: '1.0.0' }], batching: { maxBatchSize: 4, maxDelayMs: 2 } }));

    const svc = await readyService(ns, 'faces');
    expect(svc.status?.endpoint).to.equal(`http://faces.${ns}.svc:8080`);
    expect(svc.status?.readyReplicas).to.equal(2);
    expect(svc.status?.models).to.deep.equal([
      { name: 'face-detector', version: '0.9.0', state: 'Configured' },
      { name: 'facial-expression', version: '1.0.0', state: 'Configured' },
    ]);
    for (const c of svc.status!.conditions!) expect(c.observedGeneration, c.type).to.equal(svc.metadata.generation);

    const cm = await mustRead<ConfigMap>(CONFIGMAPS, ns, 'faces');
    const pool = load(cm.data['pool.yaml']!) as PoolConfig;
    expect(pool.models.map((m) => [m.name, m.task, m.version])).to.deep.equal([
      ['face-detector', 'vision/face-detection', '0.9.0'],
      ['facial-expression', 'vision/facial-expression', '1.0.0'],
    ]);
    expect(pool.batching).to.deep.equal({ maxBatchSize: 4, maxDelayMs: 2 });

    const dep = await mustRead<Deployment>(DEPLOYMENTS, ns, 'faces');
    expect(dep.metadata.ownerReferences).to.deep.equal([
      { apiVersion: 'mloffload.io/v1alpha1', kind: 'MLService', name: 'faces', uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true },
    ]);
    expect(dep.spec.template.spec.containers[0]!.args.slice(0, 2)).to.deep.equal(['--config', '/etc/mloffload/pool.yaml']);
    expect((dep.metadata as { managedFields?: { manager: string }[] }).managedFields?.map((f) => f.manager)).to.include('mloffload-operator');
    const service = await mustRead<KubeObject & { spec: { ports: { port: number }[] } }>(SERVICES, ns, 'faces');
    expect(service.spec.ports[0]!.port).to.equal(8080);
    expect(await read(HPAS, ns, 'faces')).to.equal(undefined);

    const pods = await list<Pod>(PODS, ns, 'app.kubernetes.io/instance=faces');
    expect(pods).to.have.length(2);
    for (const pod of pods) {
      expect(edgeNodes, `pod ${pod.metadata.name} on ${pod.spec.nodeName}`).to.include(pod.spec.nodeName);
      expect(pod.status?.phase).to.equal('Running');
    }

    const ready = (await list<KubeObject & { reason?: string; involvedObject: { name: string } }>(EVENTS, ns)).filter((e) => e.involvedObject.name === 'faces' && e.reason === 'Ready');
    expect(ready, 'an Event for the Ready flip').to.have.length(1);

    const model = await mustRead<MLModel>(MLMODELS, ns, 'facial-expression');
    expect(condition(model, 'Accepted')).to.include({ status: 'True', observedGeneration: 1 });
    expect(model.status?.usedBy).to.deep.equal(['faces']);
  });

  it('writes nothing when nothing changed', async () => {
    const ns = await freshNamespace('op');
    op = await startScopedOperator(ns);
    await create(MLMODELS, emotionModel(ns));
    await create(MLSERVICES, mlService(ns, 'idle', { replicas: 1 }));
    await readyService(ns, 'idle');
    const versions = async () =>
      Promise.all([
        mustRead<KubeObject>(MLSERVICES, ns, 'idle'),
        mustRead<KubeObject>(CONFIGMAPS, ns, 'idle'),
        mustRead<KubeObject>(DEPLOYMENTS, ns, 'idle'),
        mustRead<KubeObject>(SERVICES, ns, 'idle'),
      ]).then((objs) => objs.map((o) => o.metadata.resourceVersion));
    const before = await versions();
    const writes = await metricValue(op, 'apply_writes_total');
    for (let i = 0; i < 3; i++) await op.reconcileService(`${ns}/idle`);
    expect(await versions()).to.deep.equal(before);
    expect(await metricValue(op, 'apply_writes_total')).to.equal(writes);
  });

  it('rolls the Deployment when a model changes version, and reports a pinned version mismatch', async () => {
    const ns = await freshNamespace('op');
    op = await startScopedOperator(ns);
    await create(MLMODELS, emotionModel(ns));
    await create(MLSERVICES, mlService(ns, 'roll', { replicas: 1 }));
    await readyService(ns, 'roll');
    const before = await mustRead<Deployment>(DEPLOYMENTS, ns, 'roll');
    const hash = before.spec.template.metadata.annotations[POOL_HASH]!;

    await patch(MLMODELS, ns, 'facial-expression', { spec: { version: '1.1.0' } });
    await eventually(
      async () => {
        const dep = await mustRead<Deployment>(DEPLOYMENTS, ns, 'roll');
        expect(dep.spec.template.metadata.annotations[POOL_HASH]).to.not.equal(hash);
        const pool = load((await mustRead<ConfigMap>(CONFIGMAPS, ns, 'roll')).data['pool.yaml']!) as PoolConfig;
        expect(pool.models[0]!.version).to.equal('1.1.0');
      },
      { timeout: 30_000 },
    );
    await eventually(
      async () => {
        const svc = await mustRead<MLService>(MLSERVICES, ns, 'roll');
        expect(svc.status?.models).to.deep.equal([{ name: 'facial-expression', version: '1.1.0', state: 'Configured' }]);
        expect(condition(svc, 'Progressing')).to.include({ status: 'False', reason: 'RolloutComplete' });
        expect(condition(svc, 'Ready')?.status).to.equal('True');
      },
      { timeout: 60_000, interval: 250 },
    );

    await patch(MLSERVICES, ns, 'roll', { spec: { models: [{ name: 'facial-expression', version: '2.0.0' }] } });
    await eventually(
      async () => {
        const svc = await mustRead<MLService>(MLSERVICES, ns, 'roll');
        expect(condition(svc, 'Degraded')).to.include({ status: 'True', reason: 'MLModelVersionMismatch' });
        expect(condition(svc, 'Degraded')!.message).to.match(/has version 1\.1\.0, the service pins 2\.0\.0/);
      },
      { timeout: 30_000 },
    );
  });

  it('turns Degraded with MLModelNotFound when a model is deleted, and recovers when it is restored', async () => {
    const ns = await freshNamespace('op');
    op = await startScopedOperator(ns);
    await create(MLMODELS, emotionModel(ns));
    await create(MLSERVICES, mlService(ns, 'loses', { replicas: 1 }));
    const ready = await readyService(ns, 'loses');
    const readySince = condition(ready, 'Ready')!.lastTransitionTime;

    await remove(MLMODELS, ns, 'facial-expression');
    const degraded = await eventually(
      async () => {
        const svc = await mustRead<MLService>(MLSERVICES, ns, 'loses');
        expect(condition(svc, 'Ready')).to.include({ status: 'False', reason: 'MLModelNotFound' });
        expect(condition(svc, 'Degraded')).to.include({ status: 'True', reason: 'MLModelNotFound' });
        expect(condition(svc, 'Degraded')!.message).to.include(`MLModel "facial-expression" not found in namespace ${ns}`);
        expect(svc.status?.models).to.deep.equal([{ name: 'facial-expression', state: 'NotFound' }]);
        return svc;
      },
      { timeout: 30_000 },
    );
    // The pods keep serving the last pool while the model is gone.
    expect((await mustRead<Deployment>(DEPLOYMENTS, ns, 'loses')).status?.readyReplicas).to.equal(1);

    await create(MLMODELS, emotionModel(ns));
    const recovered = await readyService(ns, 'loses');
    expect(condition(recovered, 'Degraded')).to.include({ status: 'False' });
    expect(condition(recovered, 'Ready')!.lastTransitionTime >= condition(degraded, 'Ready')!.lastTransitionTime).to.equal(true);
    expect(readySince <= condition(degraded, 'Ready')!.lastTransitionTime).to.equal(true);
    const events = (await list<KubeObject & { reason?: string; type?: string; involvedObject: { name: string } }>(EVENTS, ns)).filter((e) => e.involvedObject.name === 'loses');
    expect(events.map((e) => e.reason)).to.include.members(['Ready', 'MLModelNotFound']);
  });

  it('restores a deleted Deployment and sets back an edited owned field', async () => {
    const ns = await freshNamespace('op');
    op = await startScopedOperator(ns);
    await create(MLMODELS, emotionModel(ns));
    await create(MLSERVICES, mlService(ns, 'drift', { replicas: 1 }));
    await readyService(ns, 'drift');
    const original = await mustRead<Deployment>(DEPLOYMENTS, ns, 'drift');

    await remove(DEPLOYMENTS, ns, 'drift');
    await eventually(
      async () => {
        const dep = await mustRead<Deployment>(DEPLOYMENTS, ns, 'drift');
        expect(dep.metadata.uid).to.not.equal(original.metadata.uid);
      },
      { timeout: 30_000 },
    );
    await readyService(ns, 'drift');

    await patch(DEPLOYMENTS, ns, 'drift', { spec: { replicas: 3, template: { spec: { containers: [{ name: 'runtime', image: 'evil/image:latest' }] } } } });
    await eventually(
      async () => {
        const dep = await mustRead<Deployment>(DEPLOYMENTS, ns, 'drift');
        expect(dep.spec.replicas).to.equal(1);
        expect(dep.spec.template.spec.containers[0]!.image).to.equal('mloffload/inference-runtime:test');
      },
      { timeout: 30_000 },
    );

    await remove(CONFIGMAPS, ns, 'drift');
    await eventually(async () => expect(await read(CONFIGMAPS, ns, 'drift')).to.not.equal(undefined), { timeout: 30_000 });
    await patch(CONFIGMAPS, ns, 'drift', { data: { 'pool.yaml': 'models: []\n' } });
    await eventually(async () => expect((await mustRead<ConfigMap>(CONFIGMAPS, ns, 'drift')).data['pool.yaml']).to.include('facial-expression'), { timeout: 30_000 });
    await patch(SERVICES, ns, 'drift', { spec: { selector: { 'app.kubernetes.io/instance': 'someone-else' } } });
    await eventually(
      async () => expect((await mustRead<KubeObject & { spec: { selector: Record<string, string> } }>(SERVICES, ns, 'drift')).spec.selector['app.kubernetes.io/instance']).to.equal('drift'),
      { timeout: 30_000 },
    );
  });

  it('creates an HPA for autoscaling and removes it when autoscaling is dropped', async () => {
    const ns = await freshNamespace('op');
    op = await startScopedOperator(ns);
    await create(MLMODELS, emotionModel(ns));
    await create(MLSERVICES, mlService(ns, 'scales', { replicas: 2, autoscaling: { minReplicas: 1, maxReplicas: 4, targetCPUUtilizationPercentage: 60 } }));
    await eventually(
      async () => {
        const hpa = await mustRead<KubeObject & { spec: { maxReplicas: number } }>(HPAS, ns, 'scales');
        expect(hpa.spec.maxReplicas).to.equal(4);
      },
      { timeout: 30_000 },
    );
    await patch(MLSERVICES, ns, 'scales', { spec: { autoscaling: null } });
    await eventually(async () => expect(await read(HPAS, ns, 'scales')).to.equal(undefined), { timeout: 30_000 });
    await eventually(async () => expect((await mustRead<Deployment>(DEPLOYMENTS, ns, 'scales')).spec.replicas).to.equal(2), { timeout: 30_000 });
  });

  it('names unschedulable pods as the cause when no edge node fits', async () => {
    const ns = await freshNamespace('op');
    // The tenancy policy allows only the edge role as a node-selector key by default.
    op = await startScopedOperator(ns, { tenancy: { allowedNodeSelectorKeys: ['mloffload.io/*'] } });
    await create(MLMODELS, emotionModel(ns));
    await create(MLSERVICES, mlService(ns, 'nowhere', { replicas: 1, placement: { edgeOnly: true, nodeSelector: { 'mloffload.io/no-such-node': 'x' } } }));
    // The operator looks at pods once a rollout has stalled for a while, then names the cause.
    await eventually(
      async () => {
        await op!.reconcileService(`${ns}/nowhere`);
        const svc = await mustRead<MLService>(MLSERVICES, ns, 'nowhere');
        expect(condition(svc, 'Degraded')).to.include({ status: 'True', reason: 'PodsUnschedulable' });
      },
      { timeout: 60_000, interval: 1_000 },
    );
    await consistently(async () => expect(condition(await mustRead<MLService>(MLSERVICES, ns, 'nowhere'), 'Ready')?.status).to.equal('False'), { duration: 1_000 });
  });
});
