import type { ModelRegistry, ServingModel } from '../core/registry.js';
import { MeteredModel } from './meteredModel.js';
import type { ModelMetrics } from './modelMetrics.js';
import type { CancelSignal } from '../core/cancelSignal.js';

/**
 * The models one request uses, each bound to the request's deadline and metered. A task route takes its
 * models from here instead of from the registry, so no pipeline can drop the deadline on the way to the
 * engine, and the response can name the models that answered and the time they took.
 */
export class InferenceSession {
  private readonly models: MeteredModel[] = [];

  constructor(
    private readonly registry: ModelRegistry,
    readonly signal?: CancelSignal,
    private readonly metrics?: ModelMetrics,
  ) {}

  /** The AVAILABLE model serving `task`; throws ModelNotFound / NotReady. */
  forTask(task: string): MeteredModel {
    return this.bind(this.registry.forTask(task));
  }

  /** A model by name (latest available version without `version`); throws ModelNotFound. */
  resolve(name: string, version?: string): MeteredModel {
    return this.bind(this.registry.resolve(name, version));
  }

  /** Models that ran at least once in this request, in the order they were first taken. */
  used(): MeteredModel[] {
    return this.models.filter((m) => m.calls > 0);
  }

  /** Milliseconds spent waiting for the engines (queueing included). */
  get inferenceMs(): number {
    return this.models.reduce((s, m) => s + m.inferenceMs, 0);
  }

  private bind(model: ServingModel): MeteredModel {
    const metered = new MeteredModel(model, this.signal, this.metrics);
    this.models.push(metered);
    return metered;
  }
}
