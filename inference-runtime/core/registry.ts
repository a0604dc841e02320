import type { PoolModel } from '../config/types.js';
import type { CompilationStatus, ModelSignature } from './backend.js';
import type { NamedTensors } from './tensor.js';
import type { InferOptions } from './executor.js';

/**
 * What is loaded and serving (name, version, state), as opposed to where models come from (the repository).
 * States follow TF Serving's model status, plus UNAVAILABLE for a model whose fetch, verification or load
 * failed: it stays listed with the reason while the other models serve.
 */
export type ModelState = 'START' | 'LOADING' | 'AVAILABLE' | 'UNLOADING' | 'END' | 'UNAVAILABLE';

/** Published performance of a model, measured by this runtime after warm-up. */
export interface ModelBenchmark {
  backend: string;
  runtimeVersion: string;
  node: string;
  measuredAt: string;
  /** Single (batch 1) inferences timed for the latency percentiles. */
  iterations: number;
  latencyMs: { p50: number; p95: number };
  /** Rows per inference in the throughput run: above 1 only for models with a dynamic batch dimension. */
  batchSize: number;
  /** Rows per second with every inference thread busy. */
  throughputPerSec: number;
  /** Inference threads (worker threads, or 1 in-process) the throughput run used. */
  threads: number;
}

export interface ModelStatus {
  name: string;
  version: string;
  task: string;
  framework: PoolModel['framework'];
  state: ModelState;
  /** Why a model is not AVAILABLE. */
  reason?: string;
  /** Which engine serves it, e.g. `tfjs-wasm` or `onnx (compiled from tfjs-graph)`. */
  backend?: string;
  /**
   * Why the preferred engine was not used (e.g. an op the ONNX compiler does not support), or what limits
   * the chosen one (a compiled model whose batch stays fixed at 1).
   */
  backendNote?: string;
  /** For a model served compiled from tfjs-graph: what verification against tfjs measured. */
  compilation?: CompilationStatus;
  benchmark?: ModelBenchmark;
  card?: PoolModel['card'];
  labels?: string[];
}

/** One model of the pool as the serving path sees it; `infer` is the single inference path. */
export interface ServingModel {
  readonly config: PoolModel;
  readonly name: string;
  readonly version: string;
  status(): ModelStatus;
  /** Throws NotReady when the model is not AVAILABLE. */
  signature(): ModelSignature;
  /**
   * Throws NotReady when the model is not AVAILABLE, InvalidInput when inputs do not fit the signature,
   * Overloaded when the inference queue is full, RequestTimeout when `options.signal` aborts first.
   */
  infer(inputs: NamedTensors, options?: InferOptions): Promise<NamedTensors>;
}

/** A model as its task sees it at load. */
export interface TaskModelView {
  readonly config: PoolModel;
  readonly signature: ModelSignature;
}

/** What the registry asks of a model's task when the model loads (tasks/task.ts `TaskModule` fits). */
export interface TaskCheck {
  /** Why the model cannot serve the task, or an empty list. */
  checkModel(model: TaskModelView): string[];
  /** Why the outputs of a run on `exampleInputs` cannot be decoded by the task, or an empty list. */
  checkOutputs?(model: TaskModelView, outputs: NamedTensors): string[];
  /** Inputs shaped like the task's requests, for warm-up and the load benchmark. */
  exampleInputs(model: TaskModelView, batch?: number): NamedTensors;
}

/** Finds the task of a pool entry (tasks/table.ts `TaskTable` fits). */
export interface TaskLookup {
  get(id: string): TaskCheck | undefined;
}

export interface ModelRegistry {
  /** Throws ModelNotFound for an unknown name or version. */
  resolve(name: string, version?: string): ServingModel;
  /** The AVAILABLE model serving a task (`vision/face-detection`); throws ModelNotFound / NotReady. */
  forTask(task: string): ServingModel;
  list(): ModelStatus[];
  /** True when every configured model is loaded and warmed up. */
  isReady(): boolean;
  close(): Promise<void>;
}
