import { performance } from 'node:perf_hooks';
import type { ServingModel } from '../core/registry.js';
import type { InferOptions } from '../core/executor.js';
import type { NamedTensors } from '../core/tensor.js';

/**
 * A serving model whose inference time is added up, so a task request that calls several models reports
 * the time spent in the engines (`ctx.state.inferenceSeconds`) apart from decoding and pre/post-processing.
 */
export class MeteredModel implements ServingModel {
  inferenceMs = 0;
  calls = 0;

  constructor(private readonly inner: ServingModel) {}

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
  async infer(inputs: NamedTensors, options?: InferOptions): Promise<NamedTensors> {
    const t0 = performance.now();
    try {
      return await this.inner.infer(inputs, options);
    } finally {
      this.inferenceMs += performance.now() - t0;
      this.calls += 1;
    }
  }
}
