import type { MemoryBudget } from '../core/memoryBudget.js';
import type { ServingModel } from '../core/registry.js';
import type { NamedTensors } from '../core/tensor.js';
import { raceDeadline } from './deadline.js';
import type { RequestState } from './requestState.js';

/**
 * One inference for the V2 route (the TF Serving route makes the same call in its own module; both move onto
 * the runtime's data plane, which owns this, when it lands): admitted by the memory budget for what the engine will allocate, run
 * under the request's deadline with the input buffers handed to the inference thread, and timed into
 * `state.inferenceSeconds` for the request's metrics. The claim is held until the engine is done, even when
 * the client was answered first (deadline): the engine keeps its memory until then.
 */
export async function runModelInference(
  model: Pick<ServingModel, 'name' | 'infer'>,
  inputs: NamedTensors,
  state: RequestState,
  budget: MemoryBudget,
  estimatedBytes: number,
): Promise<NamedTensors> {
  const claim = budget.admit(estimatedBytes, `inference on ${model.name}`);
  const start = process.hrtime.bigint();
  try {
    let work: Promise<NamedTensors>;
    try {
      // The inputs were built for this call alone, so their buffers can move to the inference thread.
      work = model.infer(inputs, { signal: state.deadline, transfer: true });
    } catch (error) {
      claim.release();
      throw error;
    }
    work.then(claim.release, claim.release);
    return await raceDeadline(work, state.deadline, `inference on ${model.name}`);
  } finally {
    state.inferenceSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  }
}
