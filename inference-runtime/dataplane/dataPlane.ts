import type { Registry } from 'prom-client';
import type { InferOptions } from '../core/executor.js';
import type { ModelRegistry, ModelStatus, ServingModel } from '../core/registry.js';
import type { ModelSignature } from '../core/backend.js';
import type { NamedTensors } from '../core/tensor.js';
import { InferenceSession } from './inferenceSession.js';
import { MeteredModel } from './meteredModel.js';
import { ModelMetrics } from './modelMetrics.js';
import type { CancelSignal } from '../core/cancelSignal.js';

/** A model's metadata in the runtime's own terms; each protocol prints it in its own shape. */
export interface ModelMetadata {
  name: string;
  version: string;
  task: string;
  framework: ModelStatus['framework'];
  /** The engine serving it, and why another was passed over, when it was. */
  backend?: { name: string; note?: string };
  signature: ModelSignature;
}

export interface DataPlaneOptions {
  /** Where the per-model metrics are registered (the app's `/metrics` registry). */
  metrics?: Registry;
}

/**
 * The one object every protocol (TF Serving REST, V2) and task API calls to infer, read metadata and
 * readiness. It owns what every caller needs alike: the request's deadline travels with each inference down
 * to the micro-batcher and the worker queue, which drop work whose deadline passed or whose client left
 * before it runs; inputs built for one call move to the inference thread instead of being copied
 * (`transfer`); every inference is counted per model; and failures are the `DomainError` tree
 * (core/errors.ts), which each protocol maps to its own error shape.
 *
 * It is a ModelRegistry too (resolve, forTask, list, isReady), so code written against the registry works
 * over the plane unchanged.
 */
export class DataPlane implements ModelRegistry {
  readonly metrics: ModelMetrics;

  constructor(
    readonly registry: ModelRegistry,
    options: DataPlaneOptions = {},
  ) {
    this.metrics = new ModelMetrics(options.metrics);
  }

  /** The plane over `registry`, or `registry` itself when it is one already. */
  static over(registry: ModelRegistry, options: DataPlaneOptions = {}): DataPlane {
    return registry instanceof DataPlane ? registry : new DataPlane(registry, options);
  }

  resolve(name: string, version?: string): ServingModel {
    return this.registry.resolve(name, version);
  }

  forTask(task: string): ServingModel {
    return this.registry.forTask(task);
  }

  list(): ModelStatus[] {
    return this.registry.list();
  }

  /** True when every configured model is loaded and warmed up. */
  isReady(): boolean {
    return this.registry.isReady();
  }

  /** Whether one model (latest version without `version`) is AVAILABLE; throws ModelNotFound for an unknown one. */
  modelReady(name: string, version?: string): boolean {
    return this.registry.resolve(name, version).status().state === 'AVAILABLE';
  }

  /** Throws ModelNotFound for an unknown model or version, NotReady for one not AVAILABLE. */
  metadata(name: string, version?: string): ModelMetadata {
    const model = this.registry.resolve(name, version);
    const signature = model.signature();
    const status = model.status();
    return {
      name: model.name,
      version: model.version,
      task: status.task,
      framework: status.framework,
      ...(status.backend ? { backend: { name: status.backend, ...(status.backendNote ? { note: status.backendNote } : {}) } } : {}),
      signature,
    };
  }

  /**
   * Runs one inference of a protocol request. `options.signal` is the request's deadline: aborting it removes
   * the work from the batcher or worker queue if it has not started, and answers RequestTimeout at once if
   * it has. Pass `transfer: true` when the inputs were built for this call alone.
   */
  infer(model: ServingModel, inputs: NamedTensors, options: InferOptions = {}): Promise<NamedTensors> {
    return new MeteredModel(model, options.signal, this.metrics).infer(inputs, options);
  }

  /** The models of one task request, bound to its deadline (see InferenceSession). */
  session(signal?: CancelSignal): InferenceSession {
    return new InferenceSession(this.registry, signal, this.metrics);
  }

  close(): Promise<void> {
    return this.registry.close();
  }
}
