import { expect } from 'chai';
import type { Condition } from '../../../operator/api/types.js';
import { setConditions } from '../../../operator/reconcile/conditions.js';
import { type DeploymentView, computeServiceStatus } from '../../../operator/reconcile/serviceStatus.js';
import { podProblemFrom } from '../../../operator/reconcile/podProblems.js';
import { service } from './fixtures.js';

const configured = [{ name: 'facial-expression', version: '1.0.0', state: 'Configured' as const }];
const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:05:00Z';

function dep(status: DeploymentView['status'], replicas = 2, generation = 4): DeploymentView {
  return { metadata: { generation }, spec: { replicas }, status: { observedGeneration: generation, ...status } };
}

const cond = (conds: Condition[] | undefined, type: string) => conds?.find((c) => c.type === type);

describe('MLService status', () => {
  it('is Ready with the endpoint when every replica of the current template is available', () => {
    const { status, rolloutComplete } = computeServiceStatus({
      svc: service('faces'),
      models: configured,
      deployment: dep({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }),
      serviceExists: true,
      now: T0,
    });
    expect(rolloutComplete).to.equal(true);
    expect(cond(status.conditions, 'Ready')).to.deep.include({ status: 'True', reason: 'Available', observedGeneration: 3, lastTransitionTime: T0 });
    expect(cond(status.conditions, 'Progressing')).to.include({ status: 'False', reason: 'RolloutComplete' });
    expect(cond(status.conditions, 'Degraded')).to.include({ status: 'False' });
    expect(status).to.deep.include({ observedGeneration: 3, readyReplicas: 2, replicaSummary: '2/2', endpoint: 'http://faces.edge.svc:8080' });
    expect(status.models).to.deep.equal([{ name: 'facial-expression', version: '1.0.0', state: 'Configured' }]);
    for (const c of status.conditions!) expect(c.observedGeneration).to.equal(3);
  });

  it('explains a missing model as MLModelNotFound, Degraded', () => {
    const { status } = computeServiceStatus({
      svc: service('faces'),
      models: [{ name: 'facial-expression', state: 'NotFound' }],
      deployment: dep({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }),
      serviceExists: true,
      now: T0,
    });
    expect(cond(status.conditions, 'Ready')).to.include({ status: 'False', reason: 'MLModelNotFound' });
    expect(cond(status.conditions, 'Degraded')).to.include({ status: 'True', reason: 'MLModelNotFound' });
    expect(cond(status.conditions, 'Degraded')!.message).to.match(/MLModel "facial-expression" not found in namespace edge/);
  });

  it('reports a tenancy policy violation as PolicyViolation ahead of model problems, whatever the Deployment shows', () => {
    const { status } = computeServiceStatus({
      svc: service('faces'),
      models: [{ name: 'facial-expression', state: 'NotFound' }],
      deployment: dep({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }),
      serviceExists: true,
      policyProblem: { reason: 'PolicyViolation', message: 'spec.image: image "evil/x" is not in the allowed runtime images' },
      now: T0,
    });
    for (const type of ['Ready', 'Progressing']) expect(cond(status.conditions, type)).to.include({ status: 'False', reason: 'PolicyViolation' });
    expect(cond(status.conditions, 'Degraded')).to.include({ status: 'True', reason: 'PolicyViolation' });
    expect(cond(status.conditions, 'Degraded')!.message).to.contain('spec.image');
  });

  it('reports a rollout in progress and pods that fail', () => {
    const { status, rolloutComplete } = computeServiceStatus({
      svc: service('faces'),
      models: configured,
      deployment: dep({ replicas: 2, updatedReplicas: 1, readyReplicas: 0, availableReplicas: 0 }),
      serviceExists: true,
      podProblem: { reason: 'PodsFailing', message: 'pod faces-1: container runtime is CrashLoopBackOff' },
      now: T0,
    });
    expect(rolloutComplete).to.equal(false);
    expect(cond(status.conditions, 'Ready')).to.include({ status: 'False', reason: 'DeploymentUnavailable' });
    expect(cond(status.conditions, 'Progressing')).to.include({ status: 'True', reason: 'RollingOut' });
    expect(cond(status.conditions, 'Degraded')).to.include({ status: 'True', reason: 'PodsFailing' });
  });

  it('is not complete while the Deployment controller has not seen the new template', () => {
    const d = dep({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
    d.metadata.generation = 5;
    expect(computeServiceStatus({ svc: service('faces'), models: configured, deployment: d, serviceExists: true, now: T0 }).rolloutComplete).to.equal(false);
  });

  it('moves lastTransitionTime only when a condition flips', () => {
    const first = setConditions(undefined, [{ type: 'Ready', status: 'False', reason: 'A', message: 'a' }], 1, T0);
    const same = setConditions(first, [{ type: 'Ready', status: 'False', reason: 'B', message: 'b' }], 2, T1);
    expect(same[0]).to.deep.equal({ type: 'Ready', status: 'False', reason: 'B', message: 'b', observedGeneration: 2, lastTransitionTime: T0 });
    const flipped = setConditions(same, [{ type: 'Ready', status: 'True', reason: 'C', message: 'c' }], 2, T1);
    expect(flipped[0]!.lastTransitionTime).to.equal(T1);
  });

  it('names the pod and container state when pods fail or cannot be scheduled', () => {
    expect(
      podProblemFrom([
        { metadata: { name: 'p1' }, status: { containerStatuses: [{ name: 'runtime', restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } }, lastState: { terminated: { reason: 'Error', exitCode: 1 } } }] } },
      ]),
    ).to.deep.equal({ reason: 'PodsFailing', message: 'pod p1: container runtime is CrashLoopBackOff: back-off 40s (last exit: Error, code 1, 4 restarts)' });
    expect(podProblemFrom([{ metadata: { name: 'p2' }, status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available' }] } }])?.reason).to.equal('PodsUnschedulable');
    expect(podProblemFrom([{ metadata: { name: 'p3' }, status: { phase: 'Running' } }])).to.equal(undefined);
  });
});
