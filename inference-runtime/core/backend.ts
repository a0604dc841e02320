import type { Framework, PoolModel } from '../config/types.js';
import type { NamedTensors, TensorSpec } from './tensor.js';

/** Inputs and outputs a loaded model declares; what TF Serving's metadata endpoint publishes. */
export interface ModelSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** The files of a model after the repository fetched and verified them. */
export interface ModelFiles {
  /** Absolute path of the entry file (model.json or model.onnx), inside `dir`. */
  entryPath: string;
  /** sha256 of the entry file. */
  sha256: string;
  /**
   * Companion files (tfjs weight shards) by the relative path the entry file names them with, mapped to the
   * absolute path of their verified copy (also inside `dir`, next to the entry file as model.json expects).
   */
  files: Record<string, string>;
  /** Folder holding the entry file and its shards under their own names (hard links to the verified blobs): read only. */
  dir: string;
  /**
   * A folder in the model cache for what an engine derives from these exact files (a compiled ONNX model and
   * its verification record). It persists across restarts; the engine creates it when it needs it.
   */
  workDir: string;
  /** Whether the files came from the source just now or from the cache of an earlier fetch. */
  origin: 'source' | 'cache';
}

/** A model loaded into an engine. It owns its engine-side tensors and frees everything it made per call. */
export interface LoadedModel {
  readonly signature: ModelSignature;
  /** What runs it, as shown to users: `tfjs-wasm`, `onnx`, `onnx (compiled from tfjs-graph)`. */
  readonly backendName: string;
  infer(inputs: NamedTensors): Promise<NamedTensors>;
  dispose(): Promise<void>;
}

/** Engine-side memory, for leak checks: tensor counts must not grow with the number of requests. */
export interface EngineMemory {
  numTensors: number;
  numBytes: number;
  numDataBuffers?: number;
}

/**
 * A tfjs graph model compiled to ONNX and verified against tfjs once, in the main thread. Inference threads
 * receive this record and only open the file: they never compile, so they never race on the cache.
 */
export interface CompiledArtifact {
  /** The compiled model in the model's `workDir`. */
  onnxPath: string;
  /** Its sha256 as verification recorded it; a thread refuses a file that no longer matches. */
  onnxSha256: string;
  compilerVersion: string;
  /** Whether the compiled model takes any batch size (else batch 1, for `staticBatchReasons`). */
  dynamicBatch: boolean;
  staticBatchReasons: string[];
}

/** Which backend a thread loads a model on, decided once before the threads load it. */
export interface LoadPlan {
  /** A backend kind of backends/backendSelection.ts's `engines` table. */
  kind: string;
  /** Set when `kind` is `compiled`. */
  compiled?: CompiledArtifact;
}

export interface Backend {
  readonly name: string;
  supports(framework: Framework): boolean;
  /** `plan` carries what the main thread prepared for this backend (the compiled file). */
  load(model: PoolModel, files: ModelFiles, plan?: LoadPlan): Promise<LoadedModel>;
  /** Memory held by the engine (all models loaded in it), when the engine can tell. */
  memory?(): EngineMemory;
}

/** What verification found, published in the model's status. */
export interface CompilationStatus {
  compilerVersion: string;
  /** Worst |onnx - tfjs| per output over the compared inputs. */
  maxAbsDiff: Record<string, number>;
  /** compiler/verify.ts `Tolerance`. */
  tolerance: { absolute: number; relative: number };
  comparedInputs: string[];
  dynamicBatch: boolean;
  /** Why the batch stayed fixed at 1 (ops that mix samples), when it did. */
  staticBatchReasons?: string[];
  /** True when an earlier start's verified file was reused. */
  fromCache: boolean;
  /** Set when a damaged cached file was found and compiled again. */
  rebuiltBecause?: string;
}
