/**
 * MLModel reconcile: validate what the schema cannot, record the verdict in the Accepted condition, and keep
 * status.usedBy listing the MLServices that reference the model.
 */
import { type MLModelStatus, splitKey } from '../api/types.js';
import { TerminalError } from '../controller/errors.js';
import type { Reconcile } from '../controller/controller.js';
import { MLMODELS } from '../kube/resources.js';
import { nowTimestamp, setConditions } from './conditions.js';
import { type ReconcileContext, servicesUsing } from './context.js';
import { describeProblems, validateModelSpec } from './modelValidation.js';
import { statusEqual, writeStatus } from './status.js';

export function makeModelReconciler(ctx: ReconcileContext): Reconcile {
  return async (key) => {
    const { namespace, name } = splitKey(key);
    const model = ctx.models.get(namespace, name);
    if (!model || model.metadata.deletionTimestamp) return;
    const generation = model.metadata.generation;
    const problems = validateModelSpec(model.spec);
    const accepted = problems.length
      ? { type: 'Accepted', status: 'False' as const, reason: problems[0]!.reason, message: describeProblems(problems) }
      : { type: 'Accepted', status: 'True' as const, reason: 'Valid', message: `${model.spec.framework} model for ${model.spec.task}, version ${model.spec.version}` };
    // Benchmarks read from runtime pods; after an operator restart, the ones already in status until re-read.
    const benchmark = (ctx.benchmarks?.forModel(namespace, name, model.spec.version) ?? model.status?.benchmark ?? []).filter((b) => b.version === model.spec.version);
    const { benchmark: _previous, ...kept } = model.status ?? {};
    const next: MLModelStatus = {
      ...kept,
      observedGeneration: generation,
      conditions: setConditions(model.status?.conditions, [accepted], generation, nowTimestamp(ctx.now?.())),
      usedBy: servicesUsing(ctx.services, namespace, name).map((s) => s.metadata.name).sort(),
      ...(benchmark.length ? { benchmark } : {}),
    };
    if (!statusEqual(model.status, next)) {
      const updated = await writeStatus(ctx.client, MLMODELS, model, next);
      ctx.models.observe(updated);
      ctx.metrics.childWrites.labels('mlmodel', 'mlmodels/status').inc();
      const wasAccepted = model.status?.conditions?.find((c) => c.type === 'Accepted')?.status;
      if (wasAccepted !== accepted.status) {
        ctx.events.record(updated, accepted.status === 'True' ? 'Normal' : 'Warning', accepted.status === 'True' ? 'Accepted' : accepted.reason, accepted.message);
      }
    }
    if (problems.length) throw new TerminalError(accepted.reason, accepted.message);
  };
}
