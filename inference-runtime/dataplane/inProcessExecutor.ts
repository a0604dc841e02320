import { threadId } from 'node:worker_threads';
import type { LoadPlan, ModelFiles } from '../core/backend.js';
import { BackendSet, defaultBackendFactories, type BackendOptions } from '../backends/backendSelection.js';
import { intraOpThreads } from '../core/intraOpThreads.js';
import type { PoolModel } from '../config/types.js';
import { Dispatcher, type InferenceExecutor, type InferOptions, type Lane } from '../core/executor.js';
import { ModelHost, type EngineStats, type HostedModelInfo } from './modelHost.js';
import type { NamedTensors } from '../core/tensor.js';

/**
 * Inference on the calling thread: one request at a time (the engines block the event loop while they
 * compute), behind the same bounded queue as the worker pool. For tests, tools, and single-core nodes.
 */
export class InProcessExecutor implements InferenceExecutor {
  readonly mode = 'in-process';
  readonly threads = 1;
  private readonly host: ModelHost;
  private readonly dispatcher: Dispatcher;

  constructor(options: { maxQueue?: number; backends?: BackendSet; backendOptions?: BackendOptions } = {}) {
    // One inference at a time on this thread: its onnxruntime sessions may use every core.
    const backendOptions: BackendOptions = { onnxThreads: intraOpThreads(1), ...options.backendOptions };
    this.host = new ModelHost(options.backends ?? new BackendSet(defaultBackendFactories(backendOptions)));
    const host = this.host;
    const lane: Lane = {
      name: 'main',
      capacity: 1,
      active: 0,
      alive: true,
      run: (key, inputs) => host.infer(key, inputs),
    };
    this.dispatcher = new Dispatcher([lane], options.maxQueue ?? 256);
  }

  load(key: string, model: PoolModel, files: ModelFiles, plan: LoadPlan): Promise<HostedModelInfo> {
    return this.host.load(key, model, files, plan);
  }

  unload(key: string): Promise<void> {
    return this.host.unload(key);
  }

  infer(key: string, inputs: NamedTensors, options?: InferOptions): Promise<NamedTensors> {
    return this.dispatcher.submit(key, inputs, options);
  }

  async engineStats(): Promise<EngineStats[]> {
    return [await this.host.stats('main', threadId)];
  }

  /** Inference runs in the caller's thread, whose arena the caller's own release returns. */
  async releaseArenas(): Promise<void> {}

  queueDepth(): number {
    return this.dispatcher.depth;
  }

  runsStarted(key: string): number {
    return this.dispatcher.runsStarted(key);
  }

  async close(): Promise<void> {
    this.dispatcher.close();
    await this.dispatcher.idle();
    await this.host.close();
  }
}
