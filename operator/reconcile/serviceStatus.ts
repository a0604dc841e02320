/**
 * The status of an MLService as a pure function of what the reconcile observed: the state of its models,
 * its Deployment, and problems seen on its pods. Reasons are meant to tell an admin what to fix.
 */
import type { MLService, MLServiceStatus, ModelState } from '../api/types.js';
import { endpointFor } from '../builders/metadata.js';
import { type ConditionInput, setConditions } from './conditions.js';

/** The fields of a live Deployment the status looks at. */
export interface DeploymentView {
  metadata: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export interface ModelStateEntry {
  name: string;
  version?: string;
  state: ModelState;
  detail?: string;
}

export interface Problem {
  reason: string;
  message: string;
}

export interface StatusInput {
  svc: MLService;
  models: ModelStateEntry[];
  deployment?: DeploymentView;
  serviceExists: boolean;
  /** Failing or unschedulable pods, when the rollout is stuck. */
  podProblem?: Problem;
  /** The spec breaks the operator's tenancy policy: nothing was applied. */
  policyProblem?: Problem;
  now: string;
}

export interface StatusOutput {
  status: MLServiceStatus;
  /** The Deployment runs the current template on every wanted replica. */
  rolloutComplete: boolean;
}

const MODEL_REASONS: Record<Exclude<ModelState, 'Configured'>, string> = {
  NotFound: 'MLModelNotFound',
  NotAccepted: 'MLModelNotAccepted',
  VersionMismatch: 'MLModelVersionMismatch',
};

/** The first model problem as a condition reason and a message naming every affected model. */
export function modelProblem(models: ModelStateEntry[], namespace: string): Problem | undefined {
  const bad = models.filter((m) => m.state !== 'Configured');
  if (!bad.length) return undefined;
  const reason = MODEL_REASONS[bad[0]!.state as Exclude<ModelState, 'Configured'>];
  const parts = bad.map((m) => {
    if (m.state === 'NotFound') return `MLModel "${m.name}" not found in namespace ${namespace}`;
    if (m.state === 'NotAccepted') return `MLModel "${m.name}" is not accepted: ${m.detail ?? 'invalid spec'}`;
    return `MLModel "${m.name}" ${m.detail ?? 'has another version than the one pinned'}`;
  });
  return { reason, message: `${parts.join('; ')}. The running pods, if any, keep the last applied pool.` };
}

export function computeServiceStatus(input: StatusInput): StatusOutput {
  const { svc, deployment, now } = input;
  const generation = svc.metadata.generation;
  const namespace = svc.metadata.namespace ?? 'default';
  const st = deployment?.status ?? {};
  const desired = deployment?.spec?.replicas ?? svc.spec.replicas ?? 1;
  const ready = st.readyReplicas ?? 0;
  const available = st.availableReplicas ?? 0;
  const observed = !!deployment && (st.observedGeneration ?? 0) >= (deployment.metadata.generation ?? 0);
  const rolloutComplete = observed && (st.updatedReplicas ?? 0) >= desired && (st.replicas ?? 0) === (st.updatedReplicas ?? 0) && available >= desired;

  let ready_: ConditionInput;
  let progressing: ConditionInput;
  let degraded: ConditionInput;
  // A policy violation outranks model problems: fixing the models would still apply nothing.
  const blocked = input.policyProblem ?? modelProblem(input.models, namespace);
  const depCond = (type: string) => st.conditions?.find((c) => c.type === type);
  const replicaFailure = depCond('ReplicaFailure');
  const deadline = depCond('Progressing');

  if (blocked) {
    ready_ = { type: 'Ready', status: 'False', ...blocked };
    progressing = { type: 'Progressing', status: 'False', ...blocked };
    degraded = { type: 'Degraded', status: 'True', ...blocked };
  } else if (!deployment) {
    ready_ = { type: 'Ready', status: 'False', reason: 'DeploymentNotCreated', message: 'the runtime Deployment is being created' };
    progressing = { type: 'Progressing', status: 'True', reason: 'Creating', message: 'creating the ConfigMap, Deployment and Service' };
    degraded = { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no problem detected' };
  } else {
    const summary = `${ready}/${desired} replicas ready`;
    if (desired === 0) {
      ready_ = { type: 'Ready', status: 'False', reason: 'ScaledToZero', message: 'replicas is 0: nothing serves the endpoint' };
    } else if (available >= desired && input.serviceExists) {
      ready_ = { type: 'Ready', status: 'True', reason: 'Available', message: `${summary}; serving at ${endpointFor(svc)}` };
    } else {
      ready_ = { type: 'Ready', status: 'False', reason: 'DeploymentUnavailable', message: `${summary}${input.podProblem ? `: ${input.podProblem.message}` : ''}` };
    }
    progressing = rolloutComplete
      ? { type: 'Progressing', status: 'False', reason: 'RolloutComplete', message: `every replica runs the current pool (${summary})` }
      : { type: 'Progressing', status: 'True', reason: 'RollingOut', message: `rolling out the current pool: ${st.updatedReplicas ?? 0}/${desired} updated, ${summary}` };
    if (input.podProblem) degraded = { type: 'Degraded', status: 'True', ...input.podProblem };
    else if (replicaFailure?.status === 'True') degraded = { type: 'Degraded', status: 'True', reason: 'ReplicaFailure', message: replicaFailure.message ?? 'the Deployment cannot create pods' };
    else if (deadline?.status === 'False' && deadline.reason === 'ProgressDeadlineExceeded') degraded = { type: 'Degraded', status: 'True', reason: 'ProgressDeadlineExceeded', message: deadline.message ?? 'the rollout made no progress' };
    else degraded = { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no problem detected' };
  }

  const status: MLServiceStatus = {
    observedGeneration: generation,
    conditions: setConditions(svc.status?.conditions, [ready_, progressing, degraded], generation, now),
    replicas: st.replicas ?? 0,
    readyReplicas: ready,
    replicaSummary: `${ready}/${desired}`,
    models: input.models.map((m) => (m.version !== undefined ? { name: m.name, version: m.version, state: m.state } : { name: m.name, state: m.state })),
  };
  if (input.serviceExists) status.endpoint = endpointFor(svc);
  return { status, rolloutComplete };
}
