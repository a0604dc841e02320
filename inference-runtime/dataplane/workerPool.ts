import type { Worker } from 'node:worker_threads';
import type { LoadPlan, ModelFiles } from '../core/backend.js';
import type { BackendOptions } from '../backends/backendSelection.js';
import { intraOpThreads } from '../core/intraOpThreads.js';
import { availableCores } from '../core/containerLimits.js';
import { inferenceNiceFor } from '../core/threadPriority.js';
import type { PoolModel } from '../config/types.js';
import { Dispatcher, type InferenceExecutor, type InferOptions, type Lane } from '../core/executor.js';
import type { EngineStats, HostedModelInfo } from './modelHost.js';
import { startModuleWorker } from '../core/moduleWorker.js';
import type { NamedTensors } from '../core/tensor.js';
import { fromWire } from '../core/wireErrors.js';
import { InFlight } from '../core/inFlight.js';
import { transferables, type WorkerInit, type WorkerCall, type WorkerReply, type WorkerRequest, type WorkerResult } from './workerProtocol.js';

export interface WorkerPoolOptions {
  /** Worker threads (>= 1). */
  size: number;
  /** Requests waiting for a free worker before Overloaded (default 256). */
  maxQueue?: number;
  /** Requests handed to one worker at once (default 2: the next input is ready when the current one ends). */
  perWorker?: number;
  backendOptions?: BackendOptions;
  /** Nice steps the workers run below the event loop (default: `inferenceNiceFor` their intra-op threads and the cores). */
  nice?: number;
  /** Called when a worker dies and is replaced, or cannot be. */
  onWorkerEvent?: (event: string, detail: Record<string, unknown>) => void;
}

/** The worker entry (inferenceWorker), as compiled JavaScript or, under tsx, as TypeScript. */
function spawnWorker(init: WorkerInit): Worker {
  return startModuleWorker(import.meta.url, './inferenceWorker', { workerData: init, name: init.name });
}

interface Pending {
  id: number;
  resolve(result: WorkerResult): void;
  reject(err: Error): void;
}

/** One worker thread and its outstanding requests. */
class WorkerLane implements Lane {
  active = 0;
  alive = false;
  private worker!: Worker;
  private nextId = 1;
  /** Calls waiting for their reply: at most the lane's capacity of inferences, and the odd load or close. Not a Map: one entry in and out per request (core/inFlight.ts). */
  private readonly pending = new InFlight<Pending>();
  private stopping = false;

  constructor(
    readonly name: string,
    readonly capacity: number,
    private readonly init: WorkerInit,
    private readonly onExit: (lane: WorkerLane, code: number, error?: Error) => void,
  ) {
    this.start();
  }

  start(): void {
    const worker = spawnWorker(this.init);
    this.worker = worker;
    let lastError: Error | undefined;
    worker.on('message', (reply: WorkerReply) => {
      const entry = this.pending.find((p) => p.id === reply.id);
      if (!entry) return;
      this.pending.delete(entry);
      const p = entry.value;
      if (reply.ok) p.resolve(reply.result);
      else p.reject(fromWire(reply.error));
    });
    worker.on('error', (err) => {
      lastError = err;
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.alive = false;
      const reason = new Error(`inference worker ${this.name} stopped (exit code ${code}${lastError ? `: ${lastError.message}` : ''})`);
      const waiting = this.pending.values();
      this.pending.clear();
      for (const p of waiting) p.reject(reason);
      if (!this.stopping) this.onExit(this, code, lastError);
    });
  }

  call(request: WorkerCall, transfer: ArrayBuffer[] = []): Promise<WorkerResult> {
    const id = this.nextId++;
    return new Promise<WorkerResult>((resolve, reject) => {
      const entry = this.pending.add({ id, resolve, reject });
      try {
        this.worker.postMessage({ id, ...request } as WorkerRequest, transfer);
      } catch (err) {
        this.pending.delete(entry);
        reject(err as Error);
      }
    });
  }

  run(key: string, inputs: NamedTensors, transfer: boolean): Promise<NamedTensors> {
    return this.call({ op: 'infer', key, inputs }, transfer ? transferables(inputs) : []) as Promise<NamedTensors>;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.alive = false;
    // Let the worker dispose its models, but do not wait on one stuck in a computation.
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 5000);
    });
    await Promise.race([this.call({ op: 'close' }).catch(() => undefined), bound]);
    clearTimeout(timer);
    await this.worker.terminate();
  }
}

/**
 * A pool of inference worker threads, each holding every loaded model. tfjs-wasm computes on one thread per
 * instance, so N workers give N cores to inference. A worker that dies is replaced and reloaded with the
 * pool's models; its in-flight requests fail with an error instead of hanging.
 */
export class WorkerPoolExecutor implements InferenceExecutor {
  readonly mode = 'worker-threads';
  readonly threads: number;
  /** Nice steps the workers run below the event loop. */
  readonly nice: number;
  private readonly lanes: WorkerLane[];
  private readonly dispatcher: Dispatcher;
  private readonly models = new Map<string, { model: PoolModel; files: ModelFiles; plan: LoadPlan }>();
  private readonly restarts: number[] = [];
  private closed = false;

  constructor(private readonly options: WorkerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError(`worker pool size must be >= 1, got ${options.size}`);
    this.threads = options.size;
    // Each worker runs one inference at a time: the cores are shared among the workers.
    const backendOptions: BackendOptions = { onnxThreads: intraOpThreads(options.size), ...options.backendOptions };
    this.nice = options.nice ?? inferenceNiceFor(backendOptions.onnxThreads ?? 1, availableCores());
    this.lanes = Array.from(
      { length: options.size },
      (_, i) =>
        new WorkerLane(`worker-${i + 1}`, options.perWorker ?? 2, { name: `worker-${i + 1}`, backendOptions, nice: this.nice }, (lane, code, err) =>
          this.replace(lane, code, err),
        ),
    );
    // Messages wait in a worker's port until it has started, so new workers take requests at once.
    for (const lane of this.lanes) lane.alive = true;
    this.dispatcher = new Dispatcher(this.lanes, options.maxQueue ?? 256);
  }

  async load(key: string, model: PoolModel, files: ModelFiles, plan: LoadPlan): Promise<HostedModelInfo> {
    const lanes = this.lanes.filter((l) => l.alive);
    if (!lanes.length) throw new Error('no inference worker is running');
    const results = await Promise.allSettled(lanes.map((l) => l.call({ op: 'load', key, model, files, plan }) as Promise<HostedModelInfo>));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // All or nothing: a model half the workers hold would fail every other request.
      await Promise.allSettled(lanes.map((l) => l.call({ op: 'unload', key })));
      throw failed.reason;
    }
    this.models.set(key, { model, files, plan });
    return (results[0] as PromiseFulfilledResult<HostedModelInfo>).value;
  }

  async unload(key: string): Promise<void> {
    this.models.delete(key);
    await Promise.allSettled(this.lanes.filter((l) => l.alive).map((l) => l.call({ op: 'unload', key })));
  }

  infer(key: string, inputs: NamedTensors, options?: InferOptions): Promise<NamedTensors> {
    return this.dispatcher.submit(key, inputs, options);
  }

  async engineStats(): Promise<EngineStats[]> {
    const lanes = this.lanes.filter((l) => l.alive);
    return Promise.all(lanes.map((l) => l.call({ op: 'stats' }) as Promise<EngineStats>));
  }

  async releaseArenas(): Promise<void> {
    await Promise.allSettled(this.lanes.filter((l) => l.alive).map((l) => l.call({ op: 'releaseMemory' })));
  }

  queueDepth(): number {
    return this.dispatcher.depth;
  }

  runsStarted(key: string): number {
    return this.dispatcher.runsStarted(key);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.dispatcher.close();
    await this.dispatcher.idle();
    await Promise.all(this.lanes.map((l) => l.stop()));
  }

  /** Restarts a dead worker and reloads the pool's models into it; gives up after repeated crashes. */
  private replace(lane: WorkerLane, code: number, err: Error | undefined): void {
    const now = Date.now();
    while (this.restarts.length && now - this.restarts[0] > 60_000) this.restarts.shift();
    const detail = { worker: lane.name, exitCode: code, error: err?.message };
    if (this.closed) return;
    if (this.restarts.length >= 5 * this.threads) {
      this.options.onWorkerEvent?.('worker-abandoned', Object.assign({}, detail, { reason: 'too many restarts within a minute' }));
      return;
    }
    this.restarts.push(now);
    this.options.onWorkerEvent?.('worker-restarted', detail);
    lane.start();
    void (async () => {
      try {
        for (const [key, { model, files, plan }] of this.models) await lane.call({ op: 'load', key, model, files, plan });
        if (this.closed) return;
        lane.alive = true;
        this.dispatcher.pump();
      } catch (loadErr) {
        this.options.onWorkerEvent?.('worker-reload-failed', { worker: lane.name, error: (loadErr as Error).message });
      }
    })();
  }
}
