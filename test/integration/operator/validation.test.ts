// What the API server refuses (schema, CEL) and what the operator refuses (Accepted=False), without
// retrying an invalid spec over and over.
import { expect } from 'chai';
import { controlPlaneStartTimeout, freshNamespace } from '../../helpers/controlPlane.js';
import { consistently, eventually } from '../../helpers/eventually.js';
import type { MLModel, MLService } from '../../../operator/api/types.js';
import { MLMODELS, MLSERVICES } from '../../../operator/kube/resources.js';
import type { OperatorHandle } from '../../../operator/operator.js';
import { condition, create, emotionModel, installCrds, rejection, metricValue, mlService, mustRead, patch, startScopedOperator } from './support.js';

describe('operator: validation of MLModel and MLService', function () {
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

  describe('the API server enforces the CRD schemas', () => {
    let ns: string;
    beforeEach(async () => {
      ns = await freshNamespace('crd');
    });

    const modelCases: [string, Partial<MLModel['spec']>, RegExp][] = [
      ['an unknown framework', { framework: 'pytorch' as never }, /spec\.framework: Unsupported value: "pytorch"/],
      ['a task that is not <category>/<task> in lower case', { task: 'Vision/grasp' }, /spec\.task/],
      ['a task without category', { task: 'facial-expression' }, /spec\.task/],
      ['an unsupported URI scheme', { source: { uri: 's3://bucket/model.json' } }, /spec\.source\.uri/],
      ['a malformed sha256', { source: { uri: 'https://h/model.json', sha256: 'ABC' } }, /spec\.source\.sha256/],
      ['plain http without a digest (CEL)', { source: { uri: 'http://h/model.json' } }, /an http:\/\/ source must carry a sha256 digest/],
      ['a redirect host given as a URL', { source: { uri: 'https://h/model.json', allowedRedirectHosts: ['https://objects.example.net/'] } }, /spec\.source\.allowedRedirectHosts\[0\]/],
      ['duplicate labels', { labels: ['a', 'b', 'a'] }, /spec\.labels\[2\]: Duplicate value/],
      ['a mean that fits no channel count of the colour (CEL)', { preprocessing: { width: 64, height: 64, colour: 'grayscale', mean: [0.5, 0.5, 0.5] } }, /mean has one value, or one per channel/],
      ['an inverted preprocessing range (CEL)', { preprocessing: { width: 64, height: 64, colour: 'grayscale', range: [1, -1] } }, /range\[0\] must be less than range\[1\]/],
    ];
    for (const [what, spec, message] of modelCases) {
      it(`rejects an MLModel with ${what}`, async () => {
        const err = await rejection(create(MLMODELS, emotionModel(ns, 'bad', spec)));
        expect(err.statusCode).to.equal(422);
        expect(err.message).to.match(message);
      });
    }

    const serviceCases: [string, Partial<MLService['spec']>, RegExp][] = [
      ['no models', { models: [] }, /spec\.models/],
      ['a model listed twice', { models: [{ name: 'a' }, { name: 'a' }] }, /Duplicate value/],
      ['too many replicas', { replicas: 1000 }, /spec\.replicas/],
      ['autoscaling min above max (CEL)', { replicas: 3, autoscaling: { minReplicas: 5, maxReplicas: 2 } }, /minReplicas must not exceed autoscaling\.maxReplicas/],
      ['replicas outside the autoscaling range (CEL)', { replicas: 9, autoscaling: { minReplicas: 1, maxReplicas: 2 } }, /replicas must lie within/],
      ['TLS on port 80 (CEL)', { port: 80, tls: { secretName: 'cert' } }, /port 80 is the plain-HTTP port/],
      ['both cache kinds (CEL)', { modelCache: { hostPath: { path: '/x' }, emptyDir: {} } }, /either hostPath or emptyDir/],
    ];
    for (const [what, spec, message] of serviceCases) {
      it(`rejects an MLService with ${what}`, async () => {
        const err = await rejection(create(MLSERVICES, mlService(ns, 'bad', spec)));
        expect(err.statusCode).to.equal(422);
        expect(err.message).to.match(message);
      });
    }

    it('accepts any <category>/<task>: which tasks exist is for the operator and the runtime to say', async () => {
      const created = await create<MLModel>(MLMODELS, emotionModel(ns, 'robotics', { task: 'robotics/grasp', labels: undefined }));
      expect(created.spec.task).to.equal('robotics/grasp');
    });

    it('keeps a valid redirect host list (not pruned by the schema)', async () => {
      const hosts = ['objects.example.net', '127.0.0.1:9000'];
      const created = await create<MLModel>(MLMODELS, emotionModel(ns, 'redirects', { source: { uri: 'https://models.example.org/emotion/model.json', allowedRedirectHosts: hosts } }));
      expect(created.spec.source.allowedRedirectHosts).to.deep.equal(hosts);
    });

    it('fills in the defaults', async () => {
      const svc = await create<MLService>(MLSERVICES, { apiVersion: 'mloffload.io/v1alpha1', kind: 'MLService', metadata: { name: 'defaults', namespace: ns }, spec: { models: [{ name: 'm' }] } });
      expect(svc.spec).to.deep.include({ replicas: 1, port: 8080, placement: { edgeOnly: true }, modelCache: { hostPath: { path: '/var/lib/mloffload/models' } } });
      const model = await create<MLModel>(MLMODELS, emotionModel(ns, 'm'));
      expect(model.spec.backend).to.equal('auto');
    });
  });

  it('marks an MLModel whose labels do not fit its task as not Accepted, once, and blocks the services using it', async () => {
    const ns = await freshNamespace('val');
    op = await startScopedOperator(ns);
    await create(MLMODELS, emotionModel(ns, 'facial-expression', { labels: ['happy', 'sad'] }));
    await create(MLSERVICES, mlService(ns, 'blocked', { replicas: 1 }));
    const model = await eventually(
      async () => {
        const m = await mustRead<MLModel>(MLMODELS, ns, 'facial-expression');
        expect(condition(m, 'Accepted')).to.include({ status: 'False', reason: 'InvalidLabels', observedGeneration: 1 });
        expect(condition(m, 'Accepted')!.message).to.match(/task vision\/facial-expression has 7 labels .* got 2/);
        expect(m.status?.usedBy).to.deep.equal(['blocked']);
        return m;
      },
      { timeout: 30_000 },
    );
    await eventually(
      async () => {
        const svc = await mustRead<MLService>(MLSERVICES, ns, 'blocked');
        expect(condition(svc, 'Degraded')).to.include({ status: 'True', reason: 'MLModelNotAccepted' });
      },
      { timeout: 30_000 },
    );
    // An invalid spec is not retried: the error count stays put and the object is not rewritten.
    const errors = await metricValue(op, 'reconcile_errors_total', { controller: 'mlmodel' });
    expect(errors).to.be.within(1, 3);
    await consistently(
      async () => {
        expect(await metricValue(op!, 'reconcile_errors_total', { controller: 'mlmodel' })).to.equal(errors);
        expect((await mustRead<MLModel>(MLMODELS, ns, 'facial-expression')).metadata.resourceVersion).to.equal(model.metadata.resourceVersion);
      },
      { duration: 3_000, interval: 250 },
    );
    expect(await metricValue(op, 'reconcile_errors_total', { controller: 'mlmodel', kind: 'error' })).to.equal(0);

    // Fixing the spec is what brings it back.
    await patch(MLMODELS, ns, 'facial-expression', { spec: { labels: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] } });
    await eventually(
      async () => {
        const m = await mustRead<MLModel>(MLMODELS, ns, 'facial-expression');
        expect(condition(m, 'Accepted')).to.include({ status: 'True', observedGeneration: 2 });
        expect(condition(await mustRead<MLService>(MLSERVICES, ns, 'blocked'), 'Degraded')?.reason).to.not.equal('MLModelNotAccepted');
      },
      { timeout: 30_000 },
    );
  });

  it('refuses a malformed npm: source', async () => {
    const ns = await freshNamespace('val');
    op = await startScopedOperator(ns);
    await create(MLMODELS, emotionModel(ns, 'npm-bad', { source: { uri: 'npm:@vladmandic/human/../../etc/model.json' } }));
    await eventually(
      async () => expect(condition(await mustRead<MLModel>(MLMODELS, ns, 'npm-bad'), 'Accepted')).to.include({ status: 'False', reason: 'InvalidSource' }),
      { timeout: 30_000 },
    );
  });
});
