import type { EngineMemory, LoadPlan, ModelFiles, ModelSignature } from './backend.js';
import type { PoolModel } from '../config/types.js';
import { NotReady, Overloaded, RequestTimeout } from './errors.js';
import type { NamedTensors } from './tensor.js';
import type { CancelSignal } from './cancelSignal.js';
import type { ThreadPriority } from './threadPriority.js';

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
  /** A worker's nice value after lowering its priority, or why it could not (core/threadPriority.ts); absent in-process. */
  priority?: ThreadPriority;
}

export interface InferOptions {
  /** Aborting (a real AbortSignal or the HTTP request's deadline) rejects with RequestTimeout. */
  signal?: CancelSignal;
  /**
   * Hand the input buffers over to the worker instead of copying them (zero-copy). The caller's typed arrays
   * are detached afterwards, so only pass this for tensors built for this one call. Buffers that are shared
   * or only partly covered by the tensor (e.g. a Node Buffer pool slice) are copied regardless.
   */
  transfer?: boolean;
}

/** Runs loaded models: in this thread, or in a pool of worker threads each holding every model. */
export interface InferenceExecutor {
  readonly mode: 'in-process' | 'worker-threads';
  /** Threads that run inference. */
  readonly threads: number;
  /** Loads a model in every thread (with a warm-up run), on the plan's backend when given; all or nothing. */
  load(key: string, model: PoolModel, files: ModelFiles, plan: LoadPlan): Promise<HostedModelInfo>;
  unload(key: string): Promise<void>;
  infer(key: string, inputs: NamedTensors, options?: InferOptions): Promise<NamedTensors>;
  /** Engine memory per thread, for leak checks and diagnostics. */
  engineStats(): Promise<EngineStats[]>;
  /**
   * Has each inference thread other than the caller's collect its garbage and return its malloc arena's free
   * memory and top to the system (core/allocatorTrim.ts); part of a memory release, after the caller's own.
   */
  releaseArenas(): Promise<void>;
  /** Requests waiting for a free thread. */
  queueDepth(): number;
  /** Inferences of a model handed to a thread so far (work dropped from the queue never counts). */
  runsStarted?(key: string): number;
  close(): Promise<void>;
}

/** One thread that can run inferences, as the dispatcher sees it. */
export interface Lane {
  readonly name: string;
  /** Requests handed to the thread at once; more wait in the dispatcher's queue. */
  readonly capacity: number;
  active: number;
  alive: boolean;
  run(key: string, inputs: NamedTensors, transfer: boolean): Promise<NamedTensors>;
}

interface Waiting {
  key: string;
  inputs: NamedTensors;
  transfer: boolean;
  signal?: CancelSignal;
  resolve(out: NamedTensors): void;
  reject(err: unknown): void;
  onAbort?: () => void;
}

export function abortError(signal: CancelSignal, key: string): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof RequestTimeout) return reason;
  if (reason instanceof Error && reason.name !== 'TimeoutError' && reason.name !== 'AbortError') return reason;
  return new RequestTimeout(`inference on ${key} did not complete within the request timeout`);
}

/**
 * A bounded queue in front of a set of lanes. A request goes to the least busy live lane; when all are at
 * capacity it waits, and when `maxQueue` are already waiting it is refused with Overloaded (503) rather than
 * letting latency grow without bound. An aborted request leaves the queue at once; one already running is
 * answered with RequestTimeout while its lane finishes the work (engines cannot be interrupted mid-graph).
 */
export class Dispatcher {
  private readonly queue: Waiting[] = [];
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly started = new Map<string, number>();

  constructor(
    readonly lanes: Lane[],
    private readonly maxQueue: number,
  ) {}

  get depth(): number {
    return this.queue.length;
  }

  /** Inferences of `key` handed to a lane so far. */
  runsStarted(key: string): number {
    return this.started.get(key) ?? 0;
  }

  get active(): number {
    return this.lanes.reduce((n, l) => n + l.active, 0);
  }

  submit(key: string, inputs: NamedTensors, options: InferOptions = {}): Promise<NamedTensors> {
    if (this.closed) return Promise.reject(new NotReady('the inference runtime is shutting down'));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal, key));
    return new Promise<NamedTensors>((resolve, reject) => {
      const item: Waiting = { key, inputs, transfer: options.transfer ?? false, signal, resolve, reject };
      const lane = this.freeLane();
      if (lane) {
        this.start(lane, item);
        return;
      }
      if (this.queue.length >= this.maxQueue) {
        reject(new Overloaded(`inference queue is full (${this.maxQueue} requests waiting); retry later`));
        return;
      }
      if (signal) {
        item.onAbort = () => {
          const i = this.queue.indexOf(item);
          if (i >= 0) this.queue.splice(i, 1);
          reject(abortError(signal, key));
        };
        signal.addEventListener('abort', item.onAbort, { once: true });
      }
      this.queue.push(item);
    });
  }

  /** Called when a lane frees up or comes (back) to life. */
  pump(): void {
    for (;;) {
      const lane = this.freeLane();
      const item = lane && this.queue.shift();
      if (!lane || !item) return;
      if (item.onAbort) item.signal?.removeEventListener('abort', item.onAbort);
      this.start(lane, item);
    }
  }

  /** Refuses new work and rejects whatever still waits. */
  close(): void {
    this.closed = true;
    for (const item of this.queue.splice(0)) {
      if (item.onAbort) item.signal?.removeEventListener('abort', item.onAbort);
      item.reject(new NotReady('the inference runtime is shutting down'));
    }
  }

  /** Resolves once no request is running (after close(), nothing new starts). */
  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private freeLane(): Lane | undefined {
    let best: Lane | undefined;
    for (const lane of this.lanes) {
      if (lane.alive && lane.active < lane.capacity && (!best || lane.active < best.active)) best = lane;
    }
    return best;
  }

  private start(lane: Lane, item: Waiting): void {
    lane.active++;
    this.started.set(item.key, this.runsStarted(item.key) + 1);
    let settled = false;
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      item.reject(abortError(item.signal!, item.key));
    };
    item.signal?.addEventListener('abort', onAbort, { once: true });
    lane.run(item.key, item.inputs, item.transfer).then(
      (out) => {
        if (!settled) {
          settled = true;
          item.resolve(out);
        }
      },
      (err: unknown) => {
        if (!settled) {
          settled = true;
          item.reject(err);
        }
      },
    ).finally(() => {
      item.signal?.removeEventListener('abort', onAbort);
      lane.active--;
      this.pump();
      if (this.active === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    });
  }
}
