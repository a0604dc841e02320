import type { GraphModel, LayersModel, NamedTensorMap, Tensor } from '@tensorflow/tfjs';
import type { Framework, PoolModel } from '../config/types.js';
import { exampleInputs } from '../core/exampleInputs.js';
import { InvalidInput } from '../core/errors.js';
import type { DType, HostTensor, NamedTensors, TensorSpec } from '../core/tensor.js';
import type { Backend, EngineMemory, LoadedModel, ModelFiles, ModelSignature } from '../core/backend.js';
import { fileIOHandler } from './tfjsFileLoader.js';
import { tfjsEngine, type Tf, type TfjsEngine } from '../core/tfjsEngine.js';

/** The batch size used to find out which output dimensions follow a dynamic input batch. */
const PROBE_BATCH = 2;

/**
 * tfjs graph and layers models on tfjs-node when installed, WASM otherwise. Per call: host tensors become
 * tfjs tensors inside `tf.tidy` together with the synchronous execution; outputs are read outside it and
 * then disposed, so a request leaves the engine's tensor count as it found it.
 */
export class TfjsBackend implements Backend {
  private constructor(private readonly engine: TfjsEngine) {}

  static async create(options: { allowNode?: boolean } = {}): Promise<TfjsBackend> {
    return new TfjsBackend(await tfjsEngine(options));
  }

  get name(): string {
    return this.engine.name;
  }

  get version(): string {
    return this.engine.version;
  }

  supports(framework: Framework): boolean {
    return framework === 'tfjs-graph' || framework === 'tfjs-layers';
  }

  memory(): EngineMemory {
    const m = this.engine.tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes, numDataBuffers: m.numDataBuffers };
  }

  async load(model: PoolModel, files: ModelFiles): Promise<LoadedModel> {
    const { tf } = this.engine;
    const handler = fileIOHandler(tf, files);
    if (model.framework === 'tfjs-layers') {
      const layers = await tf.loadLayersModel(handler);
      return TfjsLoaded.create(tf, this.name, () => layersRunner(layers), () => layers.dispose(), model);
    }
    if (model.framework !== 'tfjs-graph') throw new Error(`tfjs cannot run ${model.framework} models`);
    const graph = await tf.loadGraphModel(handler);
    return TfjsLoaded.create(tf, this.name, () => graphRunner(graph), () => graph.dispose(), model);
  }
}

/** What differs between graph and layers models: their declared I/O and how they execute. */
interface Runner {
  inputs: TensorSpec[];
  /** Output names in order, with declared specs where the model states them. */
  outputs: { name: string; spec?: TensorSpec }[];
  run(feed: NamedTensorMap): Tensor[];
  runAsync?(feed: NamedTensorMap): Promise<Tensor[]>;
  dispose(): void;
}

class TfjsLoaded implements LoadedModel {
  signature!: ModelSignature;
  private useAsync = false;

  private constructor(
    private readonly tf: Tf,
    readonly backendName: string,
    private readonly runner: Runner,
  ) {}

  /** Builds and probes a loaded model; the engine-side model is disposed when that fails. */
  static async create(tf: Tf, backendName: string, runner: () => Runner, disposeModel: () => void, model: PoolModel): Promise<TfjsLoaded> {
    try {
      const loaded = new TfjsLoaded(tf, backendName, runner());
      await loaded.probe(model);
      return loaded;
    } catch (err) {
      disposeModel();
      throw err;
    }
  }

  /** Completes the output signature (graph models rarely declare output shapes) with one synthetic run. */
  private async probe(model: PoolModel): Promise<void> {
    const { inputs } = this.runner;
    const dynamicBatch = inputs.length > 0 && inputs.every((s) => s.shape[0] === -1);
    const batch = dynamicBatch ? PROBE_BATCH : 1;
    this.signature = { inputs, outputs: [] };
    const out = await this.execute(exampleInputs(inputs, batch, model.preprocessing));
    this.signature.outputs = this.runner.outputs.map(({ name, spec }, i) => {
      const probed = out[name] ?? Object.values(out)[i];
      const shape = probed.shape.map((d, axis) => (axis === 0 && dynamicBatch && d === batch ? -1 : d));
      return { name, dtype: spec?.dtype ?? probed.dtype, shape };
    });
  }

  infer(inputs: NamedTensors): Promise<NamedTensors> {
    return this.execute(inputs);
  }

  private async execute(inputs: NamedTensors): Promise<NamedTensors> {
    const { tf, runner } = this;
    const feedOf = (): NamedTensorMap => {
      const feed: NamedTensorMap = {};
      for (const spec of runner.inputs) feed[spec.name] = toTfTensor(tf, spec.name, inputs[spec.name]);
      return feed;
    };
    let outputs: Tensor[];
    if (!this.useAsync) {
      try {
        outputs = tf.tidy(() => runner.run(feedOf()));
      } catch (err) {
        // Graphs with control flow or dynamic-shape ops only run through executeAsync.
        if (!runner.runAsync || !/executeAsync/.test((err as Error).message)) throw err;
        this.useAsync = true;
        outputs = await this.executeAsync(feedOf);
      }
    } else {
      outputs = await this.executeAsync(feedOf);
    }
    try {
      const values = await Promise.all(outputs.map((t) => t.data()));
      const result: NamedTensors = {};
      outputs.forEach((t, i) => {
        result[runner.outputs[i]?.name ?? `output_${i}`] = toHost(t, values[i]);
      });
      return result;
    } finally {
      tf.dispose(outputs);
    }
  }

  private async executeAsync(feedOf: () => NamedTensorMap): Promise<Tensor[]> {
    const feed = feedOf();
    try {
      return await this.runner.runAsync!(feed);
    } finally {
      this.tf.dispose(Object.values(feed));
    }
  }

  async dispose(): Promise<void> {
    this.runner.dispose();
  }
}

function asArray(t: Tensor | Tensor[] | NamedTensorMap): Tensor[] {
  if (Array.isArray(t)) return t;
  if ('dataId' in t) return [t as Tensor];
  return Object.values(t);
}

function specOf(name: string, dtype: string | undefined, shape: readonly (number | null)[] | undefined, where: string): TensorSpec {
  if (!shape) throw new Error(`${where} ${name} has no static rank; mloffload needs a known rank to validate requests`);
  return { name, dtype: hostDType(dtype ?? 'float32', `${where} ${name}`), shape: shape.map((d) => (d == null || d < 0 ? -1 : d)) };
}

function graphRunner(model: GraphModel): Runner {
  const inputs = model.inputs.map((i) => specOf(i.name, i.dtype, i.shape, 'input'));
  const outputNames = model.outputs.map((o) => o.name);
  return {
    inputs,
    outputs: model.outputs.map((o) => ({
      name: o.name,
      spec: o.shape && o.dtype ? specOf(o.name, o.dtype, o.shape, 'output') : undefined,
    })),
    run: (feed) => asArray(model.execute(feed, outputNames)),
    runAsync: async (feed) => asArray(await model.executeAsync(feed, outputNames)),
    dispose: () => model.dispose(),
  };
}

function layersRunner(model: LayersModel): Runner {
  const inputs = model.inputs.map((i) => specOf(i.name, i.dtype, i.shape, 'input'));
  return {
    inputs,
    outputs: model.outputs.map((o) => ({ name: o.name, spec: specOf(o.name, o.dtype, o.shape, 'output') })),
    run: (feed) => asArray(model.predict(inputs.map((s) => feed[s.name])) as Tensor | Tensor[]),
    dispose: () => {
      model.dispose();
    },
  };
}

function hostDType(dtype: string, where: string): DType {
  switch (dtype) {
    case 'float32':
    case 'int32':
    case 'bool':
    case 'string':
      return dtype;
    default:
      throw new Error(`${where} has dtype ${dtype}, which host tensors cannot carry`);
  }
}

function toTfTensor(tf: Tf, name: string, t: HostTensor | undefined): Tensor {
  if (!t) throw new InvalidInput(`missing input ${name}`);
  switch (t.dtype) {
    case 'float32':
    case 'int32':
      return tf.tensor(t.data as Float32Array | Int32Array, t.shape, t.dtype);
    case 'bool':
      return tf.tensor(t.data as Uint8Array, t.shape, 'bool');
    case 'string':
      return tf.tensor(t.data as string[], t.shape, 'string');
    default:
      throw new InvalidInput(`input ${name}: dtype ${t.dtype} is not supported by tfjs`);
  }
}

/** The engine's buffer, owned by the result so it can be transferred to another thread. */
function toHost(t: Tensor, data: unknown): HostTensor {
  const shape = [...t.shape];
  switch (t.dtype) {
    case 'float32':
      return { dtype: 'float32', shape, data: owned(data as Float32Array) };
    case 'int32':
      return { dtype: 'int32', shape, data: owned(data as Int32Array) };
    case 'bool':
      return { dtype: 'bool', shape, data: owned(data as Uint8Array) };
    case 'string':
      return { dtype: 'string', shape, data: (data as Uint8Array[]).map((b) => Buffer.from(b).toString('utf8')) };
    default:
      throw new Error(`output dtype ${t.dtype} cannot be returned`);
  }
}

function owned<T extends Float32Array | Int32Array | Uint8Array>(a: T): T {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && !(a.buffer instanceof SharedArrayBuffer) ? a : (a.slice() as T);
}
