import type { MemoryBudget } from '../core/memoryBudget.js';
import type { ServingModel } from '../core/registry.js';
import { inferenceBytes } from '../core/requestMemory.js';
import type { NamedTensors } from '../core/tensor.js';
import type { DataPlane } from '../dataplane/dataPlane.js';
import type { RequestState } from './requestState.js';

/**
 * One inference of a protocol request (TF Serving `:predict`, V2 `/infer`), the same way for each: admitted
 * by the memory budget for what the engine will allocate, run through the data plane under the request's
 * deadline (which takes queued work out of the batcher and the worker queue, and counts the inference in
 * the per-model metrics) with the input buffers handed to the inference thread, and timed into
 * `state.inferenceSeconds` for the request's metrics. The claim is held until the engine is done, even when
 * the client was answered first (deadline): the engine keeps its memory until then.
 */
export async function runModelInference(plane: DataPlane, model: ServingModel, inputs: NamedTensors, state: RequestState, budget: MemoryBudget): Promise<NamedTensors> {
  const claim = budget.admit(inferenceBytes(inputs), `inference on ${model.name}`);
  const start = process.hrtime.bigint();
  try {
    let work: Promise<NamedTensors>;
    try {
      // The inputs were built for this call alone, so their buffers can move to the inference thread.
      work = plane.infer(model, inputs, { signal: state.deadline, transfer: true });
    } catch (error) {
      claim.release();
      throw error;
    }
    work.then(claim.release, claim.release);
    return await work;
  } finally {
    state.inferenceSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  }
}
