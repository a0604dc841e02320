/**
 * MLService reconcile: resolve the referenced MLModels, write the ConfigMap, Deployment, Service (and HPA)
 * they call for when they differ from the live copies, then report what the Deployment shows in status.
 * It reads current state only; which event brought the key here does not matter.
 */
import type { KubeObject, MLModel, MLService, MLServiceStatus } from '../api/types.js';
import { splitKey } from '../api/types.js';
import type { Reconcile } from '../controller/controller.js';
import { configMapFor } from '../builders/configMap.js';
import { deploymentFor } from '../builders/deployment.js';
import { hpaFor } from '../builders/hpa.js';
import { selectorLabels } from '../builders/metadata.js';
import { serviceFor } from '../builders/service.js';
import { POLICY_VIOLATION, checkTenancy, describeViolations } from '../policy/tenancy.js';
import { applyIfChanged } from '../kube/apply.js';
import type { Informer } from '../kube/informer.js';
import { CONFIGMAPS, DEPLOYMENTS, HPAS, MLSERVICES, PODS, type ResourceType, SERVICES, collectionPath, objectPath } from '../kube/resources.js';
import { nowTimestamp } from './conditions.js';
import type { ReconcileContext } from './context.js';
import { describeProblems, validateModelSpec } from './modelValidation.js';
import { type PodView, podProblemFrom } from './podProblems.js';
import { type ModelStateEntry, type Problem, computeServiceStatus } from './serviceStatus.js';
import { statusEqual, writeStatus } from './status.js';

/** How long a rollout may be incomplete before the reconcile looks at the pods for a cause. */
const POD_INSPECTION_GRACE_MS = 10_000;
/** Pods are listed at most this often per MLService (they are not watched: a list is the cost). */
const POD_INSPECTION_INTERVAL_MS = 30_000;
/** Pod states are not watched: look again while a rollout is incomplete. */
const ROLLOUT_RECHECK_MS = 15_000;

export function resolveModels(svc: MLService, models: Informer<MLModel>): { entries: ModelStateEntry[]; usable: MLModel[] } {
  const ns = svc.metadata.namespace ?? 'default';
  const entries: ModelStateEntry[] = [];
  const usable: MLModel[] = [];
  for (const ref of svc.spec.models ?? []) {
    const m = models.get(ns, ref.name);
    if (!m || m.metadata.deletionTimestamp) {
      entries.push({ name: ref.name, ...(ref.version ? { version: ref.version } : {}), state: 'NotFound' });
      continue;
    }
    const problems = validateModelSpec(m.spec);
    if (problems.length) {
      entries.push({ name: ref.name, version: m.spec.version, state: 'NotAccepted', detail: describeProblems(problems) });
    } else if (ref.version && ref.version !== m.spec.version) {
      entries.push({ name: ref.name, version: m.spec.version, state: 'VersionMismatch', detail: `has version ${m.spec.version}, the service pins ${ref.version}` });
    } else {
      entries.push({ name: ref.name, version: m.spec.version, state: 'Configured' });
      usable.push(m);
    }
  }
  return { entries, usable };
}

function ownedBy(obj: KubeObject | undefined, svc: MLService): boolean {
  return !!obj?.metadata.ownerReferences?.some((r) => r.controller && r.uid === svc.metadata.uid);
}

export function makeServiceReconciler(ctx: ReconcileContext): Reconcile {
  const apply = async <T extends KubeObject>(informer: Informer<T>, type: ResourceType, desired: { metadata?: object }, ns: string, name: string) => {
    const out = await applyIfChanged<T>(ctx.client, type, desired, informer.get(ns, name));
    if (out.wrote) {
      informer.observe(out.object);
      ctx.metrics.childWrites.labels('mlservice', type.plural).inc();
    }
    return out.object;
  };

  const inspected = new Map<string, { at: number; problem?: Problem }>();
  const inspectPods = async (key: string, svc: MLService, now: number): Promise<Problem | undefined> => {
    const last = inspected.get(key);
    if (last && now - last.at < POD_INSPECTION_INTERVAL_MS) return last.problem;
    const selector = Object.entries(selectorLabels(svc)).map(([k, v]) => `${k}=${v}`).join(',');
    const { items } = await ctx.client.list<PodView>(collectionPath(PODS, svc.metadata.namespace), { labelSelector: selector });
    const problem = podProblemFrom(items);
    inspected.set(key, { at: now, problem });
    return problem;
  };

  return async (key) => {
    const { namespace: ns, name } = splitKey(key);
    const svc = ctx.services.get(ns, name);
    if (!svc || svc.metadata.deletionTimestamp) {
      inspected.delete(key);
      ctx.observer?.forget(key);
      return;
    }
    const { entries, usable } = resolveModels(svc, ctx.models);
    const violations = checkTenancy(svc, ctx.policy);
    const policyProblem = violations.length ? { reason: POLICY_VIOLATION, message: describeViolations(violations) } : undefined;
    if (policyProblem && svc.status?.conditions?.find((c) => c.type === 'Degraded')?.reason !== POLICY_VIOLATION) {
      ctx.logger.info('MLService refused by the tenancy policy', { key, violations: violations.map((v) => v.field) });
      ctx.events.record(svc, 'Warning', POLICY_VIOLATION, policyProblem.message);
    }
    // Nothing is written for a spec that breaks the policy, not even the parts that comply.
    const blocked = !!policyProblem || entries.some((e) => e.state !== 'Configured');
    let deployment = ctx.deployments.get(ns, name);
    let serviceExists = ownedBy(ctx.k8sServices.get(ns, name), svc);

    if (!blocked) {
      // The children do not depend on each other (a pod waits for its ConfigMap anyway): write them at once.
      const hpa = hpaFor(svc);
      const [, dep] = await Promise.all([
        apply(ctx.configMaps, CONFIGMAPS, configMapFor(svc, usable), ns, name),
        apply(ctx.deployments, DEPLOYMENTS, deploymentFor(svc, usable, ctx.runtime), ns, name),
        apply(ctx.k8sServices, SERVICES, serviceFor(svc), ns, name),
        hpa ? apply(ctx.hpas, HPAS, hpa, ns, name) : ownedBy(ctx.hpas.get(ns, name), svc) ? ctx.client.delete(objectPath(HPAS, ns, name)) : undefined,
      ]);
      deployment = dep;
      serviceExists = true;
    }
    if (deployment && !ownedBy(deployment, svc)) deployment = undefined;

    const now = ctx.now?.() ?? new Date();
    const input = { svc, models: entries, deployment, serviceExists, now: nowTimestamp(now), ...(policyProblem ? { policyProblem } : {}) };
    let out = computeServiceStatus(input);
    const created = Date.parse(String(deployment?.metadata.creationTimestamp ?? ''));
    if (!blocked && deployment && !out.rolloutComplete && now.getTime() - (Number.isNaN(created) ? 0 : created) > POD_INSPECTION_GRACE_MS) {
      const podProblem = await inspectPods(key, svc, now.getTime());
      if (podProblem) out = computeServiceStatus({ ...input, podProblem });
    }
    if (out.rolloutComplete) inspected.delete(key);
    if (ctx.observer && deployment && !blocked) {
      const endpoints = await ctx.observer.observe(key, svc, usable, out.status.readyReplicas ?? 0);
      if (endpoints.length) out.status.endpoints = endpoints;
    }
    await updateStatus(ctx, svc, out.status);
    if (!blocked && !out.rolloutComplete) return { requeueAfter: ROLLOUT_RECHECK_MS };
    // Services, node addresses and new pods' benchmarks are not watched: look again later.
    if (ctx.observer && !blocked) return { requeueAfter: ctx.observer.refreshMs };
  };
}

async function updateStatus(ctx: ReconcileContext, svc: MLService, next: MLServiceStatus): Promise<void> {
  if (statusEqual(svc.status, next)) return;
  const updated = await writeStatus(ctx.client, MLSERVICES, svc, next);
  ctx.services.observe(updated);
  ctx.metrics.childWrites.labels('mlservice', 'mlservices/status').inc();
  const before = svc.status?.conditions?.find((c) => c.type === 'Ready');
  const after = next.conditions?.find((c) => c.type === 'Ready');
  if (after && (before?.status === 'True') !== (after.status === 'True')) {
    const becameReady = after.status === 'True';
    if (becameReady || before) ctx.events.record(updated, becameReady ? 'Normal' : 'Warning', becameReady ? 'Ready' : after.reason, after.message);
  }
}
