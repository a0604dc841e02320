import type { PoolModel } from '../config/types.js';
import type { Backend, EngineMemory, LoadedModel, LoadPlan, ModelFiles } from '../core/backend.js';

/**
 * The engines a runtime (or one of its worker threads) can use:
 * - `tfjs`: tfjs graph/layers models (tfjs-node when installed, WASM otherwise);
 * - `onnx`: ONNX models on onnxruntime-node;
 * - `compiled`: tfjs graph models translated to ONNX and verified against tfjs; `auto` prefers it and falls
 *   back to `tfjs` (the registry decides once per model with `planEngine` and hands threads a LoadPlan).
 */
export type BackendKind = 'tfjs' | 'onnx' | 'compiled';

export type BackendFactory = () => Promise<Backend>;

export interface BackendOptions {
  /** Intra-op threads per onnxruntime session (`intraOpThreads(workers)`: cores shared among the workers). */
  onnxThreads?: number;
  /** Try @tensorflow/tfjs-node before WASM (default true). */
  allowTfjsNode?: boolean;
  /** onnxruntime's CPU memory arena (default off: a burst's memory is returned when its runs end). */
  onnxMemoryArena?: boolean;
}

/** The factories every runtime thread starts with. Backends are created on first use only. */
export function defaultBackendFactories(options: BackendOptions = {}): Partial<Record<BackendKind, BackendFactory>> {
  return {
    tfjs: async () => (await import('./tfjsBackend.js')).TfjsBackend.create({ allowNode: options.allowTfjsNode }),
    onnx: async () => (await import('./onnxBackend.js')).OnnxBackend.create({ intraOpThreads: options.onnxThreads, memoryArena: options.onnxMemoryArena }),
    compiled: async () => (await import('./compiledBackend.js')).CompiledBackend.create({ intraOpThreads: options.onnxThreads, memoryArena: options.onnxMemoryArena }),
  };
}

/** Which backends may serve a model, most preferred first. Throws when the model's choice is impossible. */
export function backendCandidates(model: Pick<PoolModel, 'framework' | 'backend' | 'name'>, available: ReadonlySet<BackendKind>): BackendKind[] {
  const preference = model.backend ?? 'auto';
  if (model.framework === 'onnx') {
    if (preference === 'tfjs') throw new Error(`model ${model.name}: backend tfjs cannot run an onnx model`);
    return ['onnx'];
  }
  // tfjs-graph / tfjs-layers
  if (preference === 'tfjs') return ['tfjs'];
  const compilable = model.framework === 'tfjs-graph' && available.has('compiled');
  if (preference === 'onnx') {
    if (!compilable) throw new Error(`model ${model.name}: backend onnx needs the tfjs-graph to ONNX compiler, which is not available for ${model.framework}`);
    return ['compiled'];
  }
  return compilable ? ['compiled', 'tfjs'] : ['tfjs'];
}

/** A model loaded on the first candidate backend that accepted it. */
export interface SelectedModel {
  loaded: LoadedModel;
  /** Why a preferred backend was passed over, e.g. an op the compiler does not support. */
  note?: string;
}

/** Creates backends lazily and loads models on the preferred one that works. */
export class BackendSet {
  private readonly created = new Map<BackendKind, Promise<Backend>>();

  constructor(private readonly factories: Partial<Record<BackendKind, BackendFactory>> = defaultBackendFactories()) {}

  kinds(): ReadonlySet<BackendKind> {
    return new Set(Object.keys(this.factories) as BackendKind[]);
  }

  get(kind: BackendKind): Promise<Backend> {
    let backend = this.created.get(kind);
    if (!backend) {
      const factory = this.factories[kind];
      if (!factory) return Promise.reject(new Error(`backend ${kind} is not available`));
      backend = factory();
      // A failed start (e.g. WASM cannot initialise) is retried on the next load, not cached forever.
      backend.catch(() => this.created.delete(kind));
      this.created.set(kind, backend);
    }
    return backend;
  }

  /**
   * Loads on the plan's backend when one is given (the decision was made before the threads loaded), else
   * on the first candidate backend that accepts the model.
   */
  async load(model: PoolModel, files: ModelFiles, plan?: LoadPlan): Promise<SelectedModel> {
    if (plan) {
      const backend = await this.get(plan.kind);
      return { loaded: await backend.load(model, files, plan) };
    }
    const candidates = backendCandidates(model, this.kinds());
    const passedOver: string[] = [];
    for (const [i, kind] of candidates.entries()) {
      try {
        const backend = await this.get(kind);
        const loaded = await backend.load(model, files);
        return { loaded, note: passedOver.length ? passedOver.join('; ') : undefined };
      } catch (err) {
        if (i === candidates.length - 1) throw err;
        passedOver.push(`${kind} not used: ${(err as Error).message}`);
      }
    }
    throw new Error(`no backend for ${model.name}`);
  }

  /** Memory of every backend started so far, by backend name. */
  async memory(): Promise<Record<string, EngineMemory>> {
    const out: Record<string, EngineMemory> = {};
    for (const pending of this.created.values()) {
      const backend = await pending.catch(() => undefined);
      const m = backend?.memory?.();
      if (backend && m) out[backend.name] = m;
    }
    return out;
  }
}
