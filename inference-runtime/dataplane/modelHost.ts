import type { LoadedModel, LoadPlan, ModelFiles } from '../core/backend.js';
import { BackendSet } from '../backends/backendSelection.js';
import type { PoolModel } from '../config/types.js';
import { ModelNotFound } from '../core/errors.js';
import { exampleInputs } from '../core/exampleInputs.js';
import type { EngineStats, HostedModelInfo } from '../core/executor.js';
import type { ThreadPriority } from '../core/threadPriority.js';
import type { NamedTensors } from '../core/tensor.js';

export type { EngineStats, HostedModelInfo };

/**
 * The models loaded in one thread. Both serving modes use it: in-process directly, worker pools through
 * the worker message protocol. Loading includes a warm-up inference, so a hosted model is ready to serve.
 */
export class ModelHost {
  private readonly models = new Map<string, LoadedModel>();

  constructor(private readonly backends: BackendSet = new BackendSet()) {}

  /** Loads on the plan's backend (the registry's one engine choice) and warms the model up. */
  async load(key: string, model: PoolModel, files: ModelFiles, plan: LoadPlan): Promise<HostedModelInfo> {
    if (this.models.has(key)) await this.unload(key);
    const loaded = await this.backends.load(model, files, plan);
    try {
      await loaded.infer(exampleInputs(loaded.signature.inputs, 1, model.preprocessing));
    } catch (err) {
      await loaded.dispose().catch(() => undefined);
      throw new Error(`warm-up inference failed: ${(err as Error).message}`, { cause: err });
    }
    this.models.set(key, loaded);
    return { signature: loaded.signature, backend: loaded.backendName };
  }

  infer(key: string, inputs: NamedTensors): Promise<NamedTensors> {
    const model = this.models.get(key);
    if (!model) return Promise.reject(new ModelNotFound(`model ${key} is not loaded in this thread`));
    return model.infer(inputs);
  }

  async unload(key: string): Promise<void> {
    const model = this.models.get(key);
    this.models.delete(key);
    await model?.dispose();
  }

  async stats(thread: string, threadId: number, priority?: ThreadPriority): Promise<EngineStats> {
    return { thread, threadId, models: [...this.models.keys()], memory: await this.backends.memory(), priority };
  }

  async close(): Promise<void> {
    for (const key of [...this.models.keys()]) await this.unload(key);
  }
}
