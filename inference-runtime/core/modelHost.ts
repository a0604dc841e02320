import type { EngineMemory, LoadedModel, LoadPlan, ModelFiles, ModelSignature } from '../backends/backend.js';
import { BackendSet } from '../backends/backendSelection.js';
import type { PoolModel } from '../config/types.js';
import { ModelNotFound } from './errors.js';
import { exampleInputs } from './exampleInputs.js';
import type { NamedTensors } from './tensor.js';

/** What a thread reports after loading a model. */
export interface HostedModelInfo {
  signature: ModelSignature;
  backend: string;
  backendNote?: string;
}

/** Engine memory and loaded models of one thread (the main thread in-process, or one worker). */
export interface EngineStats {
  /** `main` or `worker-<n>`. */
  thread: string;
  threadId: number;
  models: string[];
  /** By backend name, e.g. `tfjs-wasm`. */
  memory: Record<string, EngineMemory>;
}

/**
 * The models loaded in one thread. Both serving modes use it: in-process directly, worker pools through
 * the worker message protocol. Loading includes a warm-up inference, so a hosted model is ready to serve.
 */
export class ModelHost {
  private readonly models = new Map<string, LoadedModel>();

  constructor(private readonly backends: BackendSet = new BackendSet()) {}

  /** Loads on the plan's backend when given (the registry's decision), else on the first that accepts it. */
  async load(key: string, model: PoolModel, files: ModelFiles, plan?: LoadPlan): Promise<HostedModelInfo> {
    if (this.models.has(key)) await this.unload(key);
    const { loaded, note } = await this.backends.load(model, files, plan);
    try {
      await loaded.infer(exampleInputs(loaded.signature.inputs, 1, model.preprocessing));
    } catch (err) {
      await loaded.dispose().catch(() => undefined);
      throw new Error(`warm-up inference failed: ${(err as Error).message}`, { cause: err });
    }
    this.models.set(key, loaded);
    return { signature: loaded.signature, backend: loaded.backendName, backendNote: note };
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

  async stats(thread: string, threadId: number): Promise<EngineStats> {
    return { thread, threadId, models: [...this.models.keys()], memory: await this.backends.memory() };
  }

  async close(): Promise<void> {
    for (const key of [...this.models.keys()]) await this.unload(key);
  }
}
