import type { Framework, PoolModel } from '../config/types.js';
import type { Backend, EngineMemory, LoadedModel, LoadPlan, ModelFiles } from '../core/backend.js';

export interface BackendOptions {
  /** Intra-op threads per onnxruntime session (`intraOpThreads(workers)`: cores shared among the workers). */
  onnxThreads?: number;
  /** Try @tensorflow/tfjs-node before WASM (default true). */
  allowTfjsNode?: boolean;
  /** onnxruntime's CPU memory arena (default off: a burst's memory is returned when its runs end). */
  onnxMemoryArena?: boolean;
}

/** One engine: the model formats it runs, and how a thread starts it (on first use only). */
export interface EngineEntry {
  readonly frameworks: readonly Framework[];
  create(options: BackendOptions): Promise<Backend>;
}

/**
 * The engines a runtime (or one of its worker threads) can use, one line each:
 * - `tfjs`: tfjs graph/layers models (tfjs-node when installed, WASM otherwise);
 * - `onnx`: ONNX models on onnxruntime-node;
 * - `compiled`: tfjs graph models translated to ONNX and verified against tfjs; `auto` prefers it and falls
 *   back to `tfjs`;
 * - `apertium`: a language pair's supervised null-flush pipelines;
 * - `pocketsphinx`: a supervised recogniser process; `nlpjs`: a dialog corpus trained at load.
 * A new engine (a process engine such as a translation pipeline) is one more line; `planEngine` then picks it
 * for the frameworks it lists.
 */
export const engines = {
  tfjs: { frameworks: ['tfjs-graph', 'tfjs-layers'], create: async (o) => (await import('./tfjsBackend.js')).TfjsBackend.create({ allowNode: o.allowTfjsNode }) },
  onnx: { frameworks: ['onnx'], create: async (o) => (await import('./onnxBackend.js')).OnnxBackend.create({ intraOpThreads: o.onnxThreads, memoryArena: o.onnxMemoryArena }) },
  compiled: { frameworks: ['tfjs-graph'], create: async (o) => (await import('./compiledBackend.js')).CompiledBackend.create({ intraOpThreads: o.onnxThreads, memoryArena: o.onnxMemoryArena }) },
  apertium: { frameworks: ['apertium'], create: async () => (await import('./apertium/apertiumBackend.js')).ApertiumBackend.create() },
  pocketsphinx: { frameworks: ['pocketsphinx'], create: async () => new (await import('./pocketsphinx/pocketsphinxBackend.js')).PocketSphinxBackend() },
  nlpjs: { frameworks: ['nlpjs'], create: async () => new (await import('./nlpjs/nlpjsBackend.js')).NlpjsBackend() },
} as const satisfies Record<string, EngineEntry>;

export type BackendKind = keyof typeof engines;

/** The file of a model that its `source.uri` names and its engine opens first; the rest is found from it. */
export interface EntryFile {
  /** Endings the file's name may have (lower case). */
  readonly extensions: readonly string[];
  /** What such a file is, for messages. */
  readonly example: string;
}

/**
 * The entry file per framework, beside the engines that load it: tfjs reads a model.json and the weight shards
 * it names, onnxruntime one .onnx file, Apertium a mode file (or an archive of a pair), PocketSphinx the
 * dictionary beside its acoustic model folder, NLP.js a corpus. The operator refuses an MLModel whose source
 * names another kind of file (operator/reconcile/modelValidation.ts), before a runtime fails to load it.
 */
export const entryFiles = {
  'tfjs-graph': { extensions: ['.json'], example: 'model.json' },
  'tfjs-layers': { extensions: ['.json'], example: 'model.json' },
  onnx: { extensions: ['.onnx'], example: 'model.onnx' },
  apertium: { extensions: ['.mode', '.tar', '.tar.gz', '.tgz'], example: 'an Apertium mode such as eng-spa.mode, or an archive of a pair' },
  pocketsphinx: { extensions: ['.dict'], example: 'the pronunciation dictionary next to the acoustic model folder, e.g. cmudict-en-us.dict' },
  nlpjs: { extensions: ['.json'], example: 'a corpus, e.g. smart-home.json' },
} as const satisfies Record<Framework, EntryFile>;

/** Why a file at `filePath` cannot be the entry file of a `framework` model, or undefined when it can. */
export function entryFileProblem(framework: Framework, filePath: string): string | undefined {
  const { extensions, example }: EntryFile = entryFiles[framework];
  if (extensions.some((ext) => filePath.toLowerCase().endsWith(ext))) return undefined;
  return `framework ${framework} loads a ${extensions.join(' or ')} entry file (${example})`;
}

export type BackendFactory = () => Promise<Backend>;

/** The factories every runtime thread starts with. Backends are created on first use only. */
export function defaultBackendFactories(options: BackendOptions = {}): Partial<Record<BackendKind, BackendFactory>> {
  const factories: Partial<Record<BackendKind, BackendFactory>> = {};
  for (const kind of Object.keys(engines) as BackendKind[]) {
    const entry: EngineEntry = engines[kind];
    factories[kind] = () => entry.create(options);
  }
  return factories;
}

/** Which backends may serve a model, most preferred first. Throws when the model's choice is impossible. */
export function backendCandidates(model: Pick<PoolModel, 'framework' | 'backend' | 'name'>, available: ReadonlySet<BackendKind>): BackendKind[] {
  const preference = model.backend ?? 'auto';
  if (model.framework !== 'tfjs-graph' && model.framework !== 'tfjs-layers') {
    if (preference !== 'auto' && !(preference === 'onnx' && model.framework === 'onnx')) throw new Error(`model ${model.name}: backend ${preference} cannot run an ${model.framework} model`);
    const kinds = (Object.keys(engines) as BackendKind[]).filter((k) => available.has(k) && (engines[k].frameworks as readonly Framework[]).includes(model.framework));
    if (!kinds.length) throw new Error(`model ${model.name}: no engine of this runtime runs ${model.framework} models`);
    return kinds;
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

/** Creates backends lazily and loads models on the engine `planEngine` chose. */
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
   * Loads on the plan's backend. The plan is the one engine choice (enginePlan.ts, made once in the main
   * thread); a thread never chooses again, so every thread serves a model on the same engine.
   */
  async load(model: PoolModel, files: ModelFiles, plan: LoadPlan): Promise<LoadedModel> {
    const backend = await this.get(plan.kind as BackendKind);
    return backend.load(model, files, plan);
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
