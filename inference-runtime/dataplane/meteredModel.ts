import { performance } from 'node:perf_hooks';
import { raceDeadline } from '../core/deadline.js';
import type { InferOptions } from '../core/executor.js';
import type { ServingModel } from '../core/registry.js';
import type { NamedTensors } from '../core/tensor.js';
import type { ModelMetrics } from './modelMetrics.js';
import type { CancelSignal } from '../core/cancelSignal.js';

/**
 * A serving model seen through one request: every inference carries the request's deadline (so work whose
 * client left or whose time ran out is taken out of the batcher and the worker queue before it runs), is
 * counted in the per-model metrics, and its time is added up so a request that calls several models reports
 * the time spent in the engines apart from decoding and pre/post-processing.
 */
export class MeteredModel implements ServingModel {
  inferenceMs = 0;
  calls = 0;

  constructor(
    private readonly inner: ServingModel,
    private readonly signal?: CancelSignal,
    private readonly metrics?: ModelMetrics,
  ) {}

  get config(): ServingModel['config'] {
    return this.inner.config;
  }
  get name(): string {
    return this.inner.name;
  }
  get version(): string {
    return this.inner.version;
  }
  status(): ReturnType<ServingModel['status']> {
    return this.inner.status();
  }
  signature(): ReturnType<ServingModel['signature']> {
    return this.inner.signature();
  }
  /** `options.signal` defaults to the request's deadline; pass `transfer: true` for inputs built for this call alone. */
  async infer(inputs: NamedTensors, options: InferOptions = {}): Promise<NamedTensors> {
    const t0 = performance.now();
    let outcome: unknown = 'ok';
    try {
      const signal = options.signal ?? this.signal;
      const work = this.inner.infer(inputs, Object.assign({}, options, { signal }));
      // The batcher and the worker queue answer an aborted request themselves; the race covers any other
      // ServingModel (an engine cannot be interrupted mid-graph, so a late result is dropped).
      return await (signal ? raceDeadline(work, signal, `inference on ${this.name}`) : work);
    } catch (error) {
      outcome = error;
      throw error;
    } finally {
      const ms = performance.now() - t0;
      this.inferenceMs += ms;
      this.calls += 1;
      this.metrics?.observe(this.inner, ms / 1000, outcome);
    }
  }
}
