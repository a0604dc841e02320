import { stat } from 'node:fs/promises';
import type { ModelFiles, ModelSignature } from '../core/backend.js';
import type { BackendOptions } from '../backends/backendSelection.js';
import { planEngine, type CompilationStatus, type EnginePlan } from '../backends/enginePlan.js';
import type { BackendPreference, PoolConfig, PoolModel } from '../config/types.js';
import { ModelRepository, type RepositoryOptions } from '../repository/modelRepository.js';
import { redactText } from '../repository/redact.js';
import { ModelNotFound, NotReady } from '../core/errors.js';
import { hasDynamicBatch } from '../core/exampleInputs.js';
import type { InferenceExecutor, InferOptions } from '../core/executor.js';
import { InProcessExecutor } from './inProcessExecutor.js';
import { LargestFirstQueue } from '../core/largestFirst.js';
import { availableCores } from '../core/containerLimits.js';
import { keepBenchmark, readKeptBenchmark, type BenchmarkKey } from '../core/benchmarkCache.js';
import { benchmarkModel, DEFAULT_BENCHMARK, type BenchmarkOptions } from '../core/loadBenchmark.js';
import { MicroBatcher } from '../core/microBatcher.js';
import type { EngineStats, HostedModelInfo } from './modelHost.js';
import type { ModelBenchmark, ModelRegistry, ModelState, ModelStatus, ServingModel, TaskCheck, TaskLookup } from '../core/registry.js';
import { nodeName, runtimeVersion } from '../core/runtimeInfo.js';
import { validateInputs } from '../core/signatureValidation.js';
import type { NamedTensors } from '../core/tensor.js';
import { WorkerPoolExecutor } from './workerPool.js';
import { inferenceNiceOverride } from '../core/threadPriority.js';

/** Structured events; the HTTP layer's JSON-line logger fits. */
export interface RegistryLogger {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
}

export interface RegistryOptions {
  /** Where model files come from; a ready repository, or options for one. */
  repository?: ModelRepository | RepositoryOptions;
  /**
   * Inference threads. 0 runs inference in-process on the calling thread; N >= 1 starts N worker threads.
   * Default: `MLOFFLOAD_WORKERS`, else the number of available cores.
   */
  workers?: number;
  /** Requests waiting for a free thread before Overloaded (default `MLOFFLOAD_MAX_QUEUE` or 256). */
  maxQueue?: number;
  /**
   * Nice steps the worker threads run below the event loop; default `MLOFFLOAD_INFERENCE_NICE`, else 10 with
   * more than one core and each worker's sessions on one thread, 0 otherwise (core/threadPriority.ts).
   */
  inferenceNice?: number;
  /** Runs models instead of starting an executor from `workers` (tests, embedding). Closed with the registry. */
  executor?: InferenceExecutor;
  backendOptions?: BackendOptions;
  /**
   * Runtime-wide engine choice replacing the pool entries' `backend` where the framework allows it (`tfjs`
   * for tfjs models, `onnx` for tfjs graph models); default `MLOFFLOAD_BACKEND`, else each entry's own.
   */
  backend?: BackendPreference;
  /** Load-time benchmark settings, or false to skip it (status then carries no benchmark). */
  benchmark?: false | Partial<BenchmarkOptions>;
  /**
   * The task of each model (tasks/table.ts): checked against the model when it loads (a model that cannot
   * serve its task is UNAVAILABLE with the reason), and the source of warm-up and benchmark inputs. A model
   * whose task is not listed is served through the protocols without task checks.
   */
  tasks?: TaskLookup;
  logger?: RegistryLogger;
}

const quietLogger: RegistryLogger = {
  info: () => undefined,
  warn: (event, fields) => process.stderr.write(`${redactText(JSON.stringify({ time: new Date().toISOString(), level: 'warn', event, ...fields }))}\n`),
};

/** `MLOFFLOAD_WORKERS` or the available cores (the container's CPU quota counted); 0 means in-process. */
export function defaultWorkerCount(): number {
  const env = process.env.MLOFFLOAD_WORKERS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`MLOFFLOAD_WORKERS must be a whole number >= 0, got ${env}`);
    return n;
  }
  return availableCores();
}

/** `MLOFFLOAD_BACKEND` (`auto`, `tfjs` or `onnx`), or undefined when unset. */
export function defaultBackendOverride(): BackendPreference | undefined {
  const env = process.env.MLOFFLOAD_BACKEND?.trim();
  if (!env) return undefined;
  if (env !== 'auto' && env !== 'tfjs' && env !== 'onnx') throw new RangeError(`MLOFFLOAD_BACKEND must be auto, tfjs or onnx, got ${env}`);
  return env;
}

function defaultMaxQueue(): number {
  const n = Number(process.env.MLOFFLOAD_MAX_QUEUE);
  return Number.isInteger(n) && n > 0 ? n : 256;
}

export function createExecutor(options: Pick<RegistryOptions, 'workers' | 'maxQueue' | 'inferenceNice' | 'backendOptions'> & { logger?: RegistryLogger } = {}): InferenceExecutor {
  const workers = options.workers ?? defaultWorkerCount();
  const maxQueue = options.maxQueue ?? defaultMaxQueue();
  if (workers === 0) return new InProcessExecutor({ maxQueue, backendOptions: options.backendOptions });
  const logger = options.logger ?? quietLogger;
  const pool = new WorkerPoolExecutor({
    size: workers,
    maxQueue,
    nice: options.inferenceNice ?? inferenceNiceOverride(),
    backendOptions: options.backendOptions,
    onWorkerEvent: (event, detail) => logger.warn(event, detail),
  });
  logger.info('inference_threads', { workers, nice: pool.nice });
  return pool;
}

function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** One configured model: its lifecycle state and its single inference path. */
class PoolEntry implements ServingModel {
  state: ModelState = 'START';
  reason?: string;
  backend?: string;
  backendNote?: string;
  compilation?: CompilationStatus;
  benchmark?: ModelBenchmark;
  sig?: ModelSignature;
  batcher?: MicroBatcher;
  /** What the load-time benchmark of a loaded model needs, taken once every model is settled. */
  measurement?: { workDir: string; artifactSha256: string; task?: TaskCheck };

  constructor(
    readonly config: PoolModel,
    readonly key: string,
    private readonly executor: InferenceExecutor,
  ) {}

  get name(): string {
    return this.config.name;
  }

  get version(): string {
    return this.config.version;
  }

  status(): ModelStatus {
    const c = this.config;
    return {
      name: c.name,
      version: c.version,
      task: c.task,
      framework: c.framework,
      state: this.state,
      ...(this.reason ? { reason: this.reason } : {}),
      ...(this.backend ? { backend: this.backend } : {}),
      ...(this.backendNote ? { backendNote: this.backendNote } : {}),
      ...(this.compilation ? { compilation: this.compilation } : {}),
      ...(this.benchmark ? { benchmark: this.benchmark } : {}),
      ...(c.card ? { card: c.card } : {}),
      ...(c.labels ? { labels: c.labels } : {}),
    };
  }

  private ensureAvailable(): ModelSignature {
    if (this.state !== 'AVAILABLE' || !this.sig) {
      const why = this.state === 'UNAVAILABLE' && this.reason ? `: ${this.reason}` : '';
      throw new NotReady(`model ${this.name} version ${this.version} is ${this.state}${why}`);
    }
    return this.sig;
  }

  signature(): ModelSignature {
    return this.ensureAvailable();
  }

  async infer(inputs: NamedTensors, options?: InferOptions): Promise<NamedTensors> {
    const sig = this.ensureAvailable();
    validateInputs(this.name, sig, inputs);
    return this.batcher ? this.batcher.submit(inputs, options) : this.executor.infer(this.key, inputs, options);
  }
}

/**
 * The model registry built from a pool config. Construction starts loading at once; `whenLoaded()` tells
 * when every model is AVAILABLE or UNAVAILABLE, `whenSettled()` when the load-time benchmarks are taken too.
 * Per model: fetch (repository) -> plan the engine (a tfjs graph compiled and verified) -> load in every
 * inference thread with a warm-up run -> AVAILABLE; once every model is settled, each AVAILABLE model is
 * benchmarked in turn. A model whose fetch, verification or load fails is UNAVAILABLE with the reason, holds
 * nothing in any thread, and does not stop the others.
 */
export class PoolModelRegistry implements ModelRegistry {
  readonly executor: InferenceExecutor;
  private readonly repository: ModelRepository;
  private readonly entries: PoolEntry[];
  private readonly logger: RegistryLogger;
  private readonly benchmark: BenchmarkOptions | false;
  private readonly backendOverride?: BackendPreference;
  private readonly tasks?: TaskLookup;
  private readonly aborter = new AbortController();
  private readonly loaded: Promise<void>;
  private readonly settled: Promise<void>;
  /** Loads into the inference threads run one model at a time (compilations, in processes of their own, do not). */
  private loadChain: Promise<void> = Promise.resolve();
  private closing?: Promise<void>;

  constructor(
    readonly pool: PoolConfig,
    options: RegistryOptions = {},
  ) {
    this.logger = options.logger ?? quietLogger;
    this.repository = options.repository instanceof ModelRepository ? options.repository : new ModelRepository(options.repository);
    this.executor = options.executor ?? createExecutor(Object.assign({}, options, { logger: this.logger }));
    this.benchmark = options.benchmark === false ? false : { ...DEFAULT_BENCHMARK, ...options.benchmark };
    this.backendOverride = options.backend ?? defaultBackendOverride();
    this.tasks = options.tasks;
    this.entries = pool.models.map((m) => new PoolEntry(m, `${m.name}@${m.version}`, this.executor));
    // One compilation process per core; on a warm start the plans are cache lookups and the order is moot.
    const planning = new LargestFirstQueue(availableCores(), this.entries.length, PLAN_GATHER_MS);
    this.loaded = Promise.all(this.entries.map((e) => this.bringUp(e, planning))).then(() => undefined);
    // The benchmarks wait for every model: measured beside a compilation or a load, a model would publish
    // the machine's start-up instead of its own speed. They no longer hold readiness back (seconds per model).
    this.settled = this.loaded
      .then(() => this.measureAll())
      .catch((err: unknown) => this.logger.warn('model-benchmarks-failed', { error: (err as Error).message }));
  }

  /** Resolves when every model has reached AVAILABLE or UNAVAILABLE (`/readyz` then answers). Never rejects. */
  whenLoaded(): Promise<void> {
    return this.loaded;
  }

  /** Resolves when every model is AVAILABLE or UNAVAILABLE and the available ones are benchmarked. Never rejects. */
  whenSettled(): Promise<void> {
    return this.settled;
  }

  resolve(name: string, version?: string): ServingModel {
    const named = this.entries.filter((e) => e.name === name);
    if (!named.length) throw new ModelNotFound(`no model named ${name} in the pool`, { name });
    if (version !== undefined) {
      const exact = named.find((e) => e.version === version);
      if (!exact) throw new ModelNotFound(`model ${name} has no version ${version} in the pool`, { name, version });
      return exact;
    }
    // Like TF Serving: the latest available version, else the latest configured one (its status explains).
    const byVersion = [...named].sort((a, b) => compareVersions(b.version, a.version));
    return byVersion.find((e) => e.state === 'AVAILABLE') ?? byVersion[0];
  }

  forTask(task: string): ServingModel {
    const candidates = this.entries.filter((e) => e.config.task === task);
    if (!candidates.length) throw new ModelNotFound(`no model in the pool serves task ${task}`);
    const available = candidates.find((e) => e.state === 'AVAILABLE');
    if (available) return available;
    const c = candidates[0];
    throw new NotReady(`no model for task ${task} is available (${c.name}: ${c.state}${c.reason ? `, ${c.reason}` : ''})`);
  }

  list(): ModelStatus[] {
    return this.entries.map((e) => e.status());
  }

  isReady(): boolean {
    return !this.closing && this.entries.every((e) => e.state === 'AVAILABLE');
  }

  /** Engine memory (tensor counts) of every inference thread. */
  engineStats(): Promise<EngineStats[]> {
    return this.executor.engineStats();
  }

  /** Requests waiting for an inference thread (for metrics). */
  queueDepth(): number {
    return this.executor.queueDepth();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.aborter.abort();
      // A benchmark under way stops at its next run (see `measure`); loads are waited for.
      await this.settled;
      for (const e of this.entries) {
        e.batcher?.flush();
        if (e.state === 'AVAILABLE') e.state = 'UNLOADING';
      }
      await this.executor.close();
      for (const e of this.entries) if (e.state === 'UNLOADING') e.state = 'END';
    })();
    return this.closing;
  }

  private async bringUp(entry: PoolEntry, planning: LargestFirstQueue): Promise<void> {
    const { config } = entry;
    const started = Date.now();
    entry.state = 'LOADING';
    try {
      let files: ModelFiles;
      try {
        files = await this.repository.fetch(config, this.aborter.signal);
      } catch (err) {
        planning.withdraw();
        throw err;
      }
      // The engine is chosen (and a tfjs graph compiled and verified) here, once, before any thread loads it.
      // Models are planned side by side, each compilation in a process of its own, the largest model first, so
      // a cold start takes about its longest compilation rather than the sum of them all.
      const plan = await planning.submit(await sourceBytes(files), () => {
        if (this.aborter.signal.aborted) throw new Error('the registry closed before the model loaded');
        return planEngine(config, files, { override: this.backendOverride });
      });
      if (plan.compilation) this.logger.info('model-compiled', { model: config.name, version: config.version, ...plan.compilation });
      await this.serially(async () => {
        if (this.aborter.signal.aborted) throw new Error('the registry closed before the model loaded');
        const { info, note, compiled } = await this.loadPlanned(entry, files, plan);
        const task = this.tasks?.get(config.task);
        if (task) await this.fitTask(entry, task, info.signature);
        entry.sig = info.signature;
        entry.backend = info.backend;
        entry.backendNote = [note, info.backendNote].filter(Boolean).join('; ') || undefined;
        entry.compilation = compiled ? plan.compilation : undefined;
        if (this.pool.batching && hasDynamicBatch(info.signature)) {
          entry.batcher = new MicroBatcher(entry.key, info.signature, this.pool.batching, (inputs, options) =>
            this.executor.infer(entry.key, inputs, options),
          );
        }
        const artifactSha256 = compiled && plan.plan.kind === 'compiled' && plan.plan.compiled ? plan.plan.compiled.onnxSha256 : files.sha256;
        entry.measurement = { workDir: files.workDir, artifactSha256, task };
      });
      entry.state = 'AVAILABLE';
      this.logger.info('model-available', {
        model: config.name,
        version: config.version,
        backend: entry.backend,
        from: files.origin,
        loadMs: Date.now() - started,
      });
    } catch (err) {
      entry.state = 'UNAVAILABLE';
      // The reason is published (/readyz, /v1/models, TF Serving status): an engine's message may quote a URL too.
      entry.reason = redactText((err as Error).message);
      entry.sig = undefined;
      entry.batcher = undefined;
      entry.compilation = undefined;
      entry.measurement = undefined;
      this.logger.warn('model-unavailable', { model: config.name, version: config.version, reason: entry.reason });
    }
  }

  /** Loads in every thread on the planned engine, or on the fallback when the threads refuse the compiled model. */
  private async loadPlanned(
    entry: PoolEntry,
    files: ModelFiles,
    plan: EnginePlan,
  ): Promise<{ info: HostedModelInfo; note?: string; compiled: boolean }> {
    try {
      const info = await this.executor.load(entry.key, entry.config, files, plan.plan);
      return { info, note: plan.note, compiled: plan.plan.kind === 'compiled' };
    } catch (err) {
      if (!plan.fallback) throw err;
      const note = `${plan.fallback.note}: ${(err as Error).message}`;
      this.logger.warn('model-engine-fallback', { model: entry.name, version: entry.version, reason: note });
      const info = await this.executor.load(entry.key, entry.config, files, plan.fallback.plan);
      return { info, note, compiled: false };
    }
  }

  /**
   * Checks a loaded model against its task and warms it up with the task's own inputs (a real image size and
   * value range, not just the signature's shapes). A model that does not fit is unloaded from every thread and
   * left UNAVAILABLE with the task's reasons: a 500 at its first request would say far less.
   */
  private async fitTask(entry: PoolEntry, task: TaskCheck, signature: ModelSignature): Promise<void> {
    const view = { config: entry.config, signature };
    try {
      const problems = task.checkModel(view);
      if (problems.length) throw new Error(`cannot serve task ${entry.config.task}: ${problems.join('; ')}`);
      let outputs: NamedTensors;
      try {
        outputs = await this.executor.infer(entry.key, task.exampleInputs(view, 1));
      } catch (err) {
        throw new Error(`cannot serve task ${entry.config.task}: a warm-up on the task's example inputs failed: ${(err as Error).message}`, { cause: err });
      }
      const decoded = task.checkOutputs?.(view, outputs) ?? [];
      if (decoded.length) throw new Error(`cannot serve task ${entry.config.task}: ${decoded.join('; ')}`);
    } catch (err) {
      await this.executor.unload(entry.key).catch(() => undefined);
      throw err;
    }
  }

  /** Benchmarks the available models one at a time: concurrent benchmarks would measure each other. */
  private async measureAll(): Promise<void> {
    if (!this.benchmark) return;
    for (const entry of this.entries) {
      if (this.aborter.signal.aborted) return;
      if (entry.state !== 'AVAILABLE' || !entry.measurement) continue;
      const { workDir, artifactSha256, task } = entry.measurement;
      await this.measure(entry, this.benchmark, workDir, artifactSha256, task);
      if (entry.benchmark) {
        this.logger.info('model-measured', { model: entry.name, version: entry.version, p50Ms: entry.benchmark.latencyMs.p50, throughputPerSec: entry.benchmark.throughputPerSec });
      }
    }
  }

  /** Measures the model, or takes what an earlier start measured of the same file on the same node and threads. */
  private async measure(entry: PoolEntry, options: BenchmarkOptions, workDir: string, artifactSha256: string, task?: TaskCheck): Promise<void> {
    const view = { config: entry.config, signature: entry.sig! };
    const key: BenchmarkKey = {
      artifactSha256,
      backend: entry.backend!,
      runtimeVersion: runtimeVersion(),
      node: nodeName(),
      threads: this.executor.threads,
      options,
    };
    const kept = await readKeptBenchmark(workDir, key);
    if (kept) {
      entry.benchmark = kept;
      return;
    }
    try {
      entry.benchmark = await benchmarkModel(
        {
          signature: entry.sig!,
          preprocessing: entry.config.preprocessing,
          // Inputs are reused across runs: copied to the workers, never transferred. A closing registry
          // ends the benchmark at its next run rather than keeping the shutdown waiting for it.
          run: (inputs) => {
            if (this.aborter.signal.aborted) return Promise.reject(new Error('the registry closed during the benchmark'));
            return this.executor.infer(entry.key, inputs);
          },
          backend: entry.backend!,
          runtimeVersion: runtimeVersion(),
          node: nodeName(),
          threads: this.executor.threads,
          // Two per worker: the next input waits in the worker while the current one computes.
          concurrency: this.executor.mode === 'worker-threads' ? this.executor.threads * 2 : 1,
          ...(task ? { example: (batch: number) => task.exampleInputs(view, batch) } : {}),
        },
        options,
      );
      await keepBenchmark(workDir, key, entry.benchmark);
    } catch (err) {
      if (this.aborter.signal.aborted) return;
      // The model loaded and warmed up; a failed measurement leaves it serving without published numbers.
      this.logger.warn('model-benchmark-failed', { model: entry.name, version: entry.version, error: (err as Error).message });
    }
  }

  private serially(work: () => Promise<void>): Promise<void> {
    const run = this.loadChain.then(work);
    this.loadChain = run.catch(() => undefined);
    return run;
  }
}

/** How long compilations wait for the rest of the pool's sources before the largest present one starts. */
const PLAN_GATHER_MS = 500;

/** Bytes of a model's files: the compilation's (and verification's) cost grows with them. */
async function sourceBytes(files: ModelFiles): Promise<number> {
  const sizes = await Promise.all([files.entryPath, ...Object.values(files.files)].map((f) => stat(f).then((s) => s.size, () => 0)));
  return sizes.reduce((a, b) => a + b, 0);
}

/** Builds the registry for a pool and starts loading its models. */
export function createModelRegistry(pool: PoolConfig, options: RegistryOptions = {}): PoolModelRegistry {
  return new PoolModelRegistry(pool, options);
}
