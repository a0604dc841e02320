import { readFile } from 'node:fs/promises';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import type { Framework, PoolModel } from '../config/types.js';
import { InvalidInput } from '../core/errors.js';
import { intraOpSessionOptions, intraOpThreads } from '../core/intraOpThreads.js';
import type { DType, HostTensor, NamedTensors, TensorData, TensorSpec } from '../core/tensor.js';
import type { Backend, EngineMemory, LoadedModel, ModelFiles, ModelSignature } from '../core/backend.js';
import { countInitializers } from './onnxWeights.js';

type Ort = typeof import('onnxruntime-node');

export interface OnnxBackendOptions {
  /**
   * Threads per session (default: the available cores). In a worker pool every worker runs its own session, so
   * one thread each avoids oversubscribing the cores; in-process serving may let onnxruntime use several.
   */
  intraOpThreads?: number;
  /**
   * onnxruntime's CPU memory arena (default off): it saves 1-2 ms of allocation per small request but keeps
   * the largest batch's memory resident until the session closes.
   */
  memoryArena?: boolean;
}

/** The options every onnxruntime session of the runtime is created with. */
export function onnxSessionOptions(options: OnnxBackendOptions): InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    // Without the arena, what a large batch allocated goes back to the allocator when the run ends; with it
    // the session keeps its peak for good (bench/predictBurst.ts, figures in docs/benchmarks.md). The
    // memory pattern still plans each run's buffers as one allocation.
    enableCpuMemArena: options.memoryArena ?? false,
    enableMemPattern: true,
    ...intraOpSessionOptions(options.intraOpThreads ?? intraOpThreads(1)),
  };
}

/** ONNX models on onnxruntime-node (CPU execution provider). */
export class OnnxBackend implements Backend {
  readonly name = 'onnx';
  /** What the engine holds, for leak checks: weights of open sessions plus tensors of calls in progress. */
  private readonly held: EngineMemory = { numTensors: 0, numBytes: 0 };

  private constructor(
    private readonly ort: Ort,
    private readonly options: OnnxBackendOptions,
  ) {}

  memory(): EngineMemory {
    return { ...this.held };
  }

  /** Loads the native binding only when an ONNX model is actually served. */
  static async create(options: OnnxBackendOptions = {}): Promise<OnnxBackend> {
    const mod = (await import('onnxruntime-node')) as Ort & { default?: Ort };
    return new OnnxBackend(mod.default?.InferenceSession ? mod.default : mod, options);
  }

  get version(): string {
    return this.ort.env.versions?.node ?? this.ort.env.versions?.common ?? 'unknown';
  }

  supports(framework: Framework): boolean {
    return framework === 'onnx';
  }

  async load(model: PoolModel, files: ModelFiles): Promise<LoadedModel> {
    return this.loadSession(await readFile(files.entryPath), this.name);
  }

  /** Also the entry point for ONNX bytes produced at runtime (the tfjs-graph compiler). */
  async loadSession(bytes: Uint8Array, backendName: string): Promise<LoadedModel> {
    const session = await this.ort.InferenceSession.create(bytes, onnxSessionOptions(this.options));
    try {
      const signature: ModelSignature = {
        inputs: session.inputMetadata.map((m) => specOf(m, 'input')),
        outputs: session.outputMetadata.map((m) => specOf(m, 'output')),
      };
      const weights = countInitializers(bytes);
      return new OnnxLoaded(this.ort, session, signature, backendName, this.held, weights);
    } catch (err) {
      await session.release();
      throw err;
    }
  }
}

class OnnxLoaded implements LoadedModel {
  private released = false;

  constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    readonly signature: ModelSignature,
    readonly backendName: string,
    private readonly held: EngineMemory,
    private readonly weights: EngineMemory,
  ) {
    held.numTensors += weights.numTensors;
    held.numBytes += weights.numBytes;
  }

  async infer(inputs: NamedTensors): Promise<NamedTensors> {
    const feeds: Record<string, OrtTensor> = {};
    let results: InferenceSession.OnnxValueMapType | undefined;
    try {
      for (const spec of this.signature.inputs) {
        const t = inputs[spec.name];
        if (!t) throw new InvalidInput(`missing input ${spec.name}`);
        feeds[spec.name] = this.track(new this.ort.Tensor(t.dtype, t.data, t.shape));
      }
      results = await this.session.run(feeds);
      for (const r of Object.values(results)) this.track(r as OrtTensor);
      const out: NamedTensors = {};
      for (const spec of this.signature.outputs) out[spec.name] = toHost(spec.name, results[spec.name] as OrtTensor);
      return out;
    } finally {
      for (const t of [...Object.values(feeds), ...Object.values(results ?? {})]) this.release(t as OrtTensor);
    }
  }

  async dispose(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.held.numTensors -= this.weights.numTensors;
    this.held.numBytes -= this.weights.numBytes;
    await this.session.release();
  }

  private track(t: OrtTensor): OrtTensor {
    this.held.numTensors++;
    this.held.numBytes += byteSize(t);
    return t;
  }

  private release(t: OrtTensor): void {
    this.held.numTensors--;
    this.held.numBytes -= byteSize(t);
    t.dispose();
  }
}

function byteSize(t: OrtTensor): number {
  const data = t.data as ArrayBufferView | string[];
  return ArrayBuffer.isView(data) ? data.byteLength : 0;
}

function specOf(m: InferenceSession.ValueMetadata, where: string): TensorSpec {
  if (!m.isTensor) throw new Error(`${where} ${m.name} is not a tensor; only tensor inputs and outputs are served`);
  return {
    name: m.name,
    dtype: hostDType(m.type, `${where} ${m.name}`),
    shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)),
  };
}

function hostDType(type: string, where: string): DType {
  switch (type) {
    case 'float32':
    case 'int32':
    case 'int64':
    case 'uint8':
    case 'bool':
    case 'string':
    case 'float16':
    case 'float64':
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'uint32':
    case 'uint64':
      return type;
    default:
      throw new Error(`${where} has type ${type}, which host tensors cannot carry`);
  }
}

function toHost(name: string, t: OrtTensor): HostTensor {
  const shape = [...t.dims];
  const dtype = hostDType(t.type, `output ${name}`);
  // onnxruntime's output buffers belong to the session's allocator: copy so results can be transferred.
  switch (dtype) {
    case 'float32':
      return { dtype, shape, data: (t.data as Float32Array).slice() };
    case 'int32':
      return { dtype, shape, data: (t.data as Int32Array).slice() };
    case 'int64':
      return { dtype, shape, data: (t.data as BigInt64Array).slice() };
    case 'uint8':
    case 'bool':
      return { dtype, shape, data: (t.data as Uint8Array).slice() };
    case 'string':
      return { dtype, shape, data: [...(t.data as string[])] };
    default:
      return { dtype, shape, data: (t.data as Exclude<TensorData, string[]>).slice() };
  }
}
