// The operator survives an API server outage: watches come back, failed reconciles are retried, and the
// objects changed around the outage converge.
import { expect } from 'chai';
import { load } from 'js-yaml';
import { controlPlaneStartTimeout, freshNamespace, startApiServer, stopApiServer, useControlPlane } from '../../helpers/controlPlane.js';
import { consistently, eventually } from '../../helpers/eventually.js';
import type { PoolConfig } from '../../../inference-runtime/config/types.js';
import type { KubeObject, MLService } from '../../../operator/api/types.js';
import { CONFIGMAPS, MLMODELS, MLSERVICES } from '../../../operator/kube/resources.js';
import type { OperatorHandle } from '../../../operator/operator.js';
import { condition, create, emotionModel, installCrds, mlService, mustRead, patch, startScopedOperator } from './support.js';

async function health(op: OperatorHandle, path: string): Promise<number> {
  return (await fetch(`http://127.0.0.1:${op.port}${path}`)).status;
}

describe('operator: API server outage', function () {
  this.timeout(180_000);
  let op: OperatorHandle | undefined;

  before(async function () {
    this.timeout(controlPlaneStartTimeout);
    await useControlPlane();
    await installCrds();
  });

  afterEach(async () => {
    await op?.stop();
    op = undefined;
  });

  it('recovers after kube-apiserver is killed while objects change, and converges', async () => {
    const ns = await freshNamespace('outage');
    op = await startScopedOperator(ns, { rateLimit: { maxMs: 2_000 } });
    await create(MLMODELS, emotionModel(ns));
    await create(MLSERVICES, mlService(ns, 'before', { replicas: 1 }));
    await eventually(async () => expect(condition(await mustRead<MLService>(MLSERVICES, ns, 'before'), 'Ready')?.status).to.equal('True'), { timeout: 60_000, interval: 250 });

    // Changes the operator is still working on when the API server dies.
    await create(MLSERVICES, mlService(ns, 'during', { replicas: 1 }));
    await patch(MLMODELS, ns, 'facial-expression', { spec: { version: '2.0.0' } });
    await stopApiServer({ signal: 'SIGKILL' });
    try {
      await consistently(
        async () => {
          expect(await health(op!, '/healthz')).to.equal(200);
        },
        { duration: 4_000, interval: 500, message: 'the operator must stay up while the API server is down' },
      );
    } finally {
      await startApiServer();
    }
    await create(MLSERVICES, mlService(ns, 'after', { replicas: 1 }));

    for (const name of ['before', 'during', 'after']) {
      await eventually(
        async () => {
          const svc = await mustRead<MLService>(MLSERVICES, ns, name);
          expect(condition(svc, 'Ready')?.status, `${name}: ${JSON.stringify(svc.status?.conditions)}`).to.equal('True');
          expect(svc.status?.models?.[0]?.version).to.equal('2.0.0');
          const pool = load((await mustRead<KubeObject & { data: Record<string, string> }>(CONFIGMAPS, ns, name)).data['pool.yaml']!) as PoolConfig;
          expect(pool.models[0]!.version).to.equal('2.0.0');
        },
        { timeout: 90_000, interval: 500, message: `MLService ${name} did not converge after the outage` },
      );
    }
    expect(await health(op, '/readyz')).to.equal(200);
  });
});
