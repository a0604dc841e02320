/**
 * Test-only stand-in until the runtime's ModelRegistry lands: loads the default pool's tfjs graphs straight
 * from @vladmandic/human with the WASM backend and exposes them as ServingModels, so the vision pipelines
 * can be checked against the real models. Not a registry: no states, no workers, no cache.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { PoolModel } from '../../../../inference-runtime/config/types.js';
import { defaultPool } from '../../../../inference-runtime/config/defaultPool.js';
import type { ModelRegistry, ModelStatus, ServingModel } from '../../../../inference-runtime/core/registry.js';
import type { HostTensor, NamedTensors } from '../../../../inference-runtime/core/tensor.js';
import type { ModelSignature } from '../../../../inference-runtime/backends/backend.js';

const require = createRequire(import.meta.url);

function humanModelsDir(): string {
  const main = require.resolve('@vladmandic/human');
  let dir = path.dirname(main);
  while (!dir.endsWith(`${path.sep}human`)) dir = path.dirname(dir);
  return path.join(dir, 'models');
}

function ioHandler(file: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(readFileSync(file, 'utf8'));
      const shards = json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => readFileSync(path.join(path.dirname(file), p))));
      const weights = Buffer.concat(shards);
      return {
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((g: { weights: tf.io.WeightsManifestEntry[] }) => g.weights),
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
        format: json.format,
        signature: json.signature,
      };
    },
  };
}

class DirectModel implements ServingModel {
  constructor(
    readonly config: PoolModel,
    private readonly graph: tf.GraphModel,
  ) {}
  get name(): string {
    return this.config.name;
  }
  get version(): string {
    return this.config.version;
  }
  status(): ModelStatus {
    return { name: this.name, version: this.version, task: this.config.task, framework: this.config.framework, state: 'AVAILABLE', backend: 'tfjs-wasm' };
  }
  signature(): ModelSignature {
    return {
      inputs: this.graph.inputs.map((i) => ({ name: i.name, dtype: 'float32', shape: (i.shape ?? []).map((d) => (d === null ? -1 : d)) })),
      outputs: this.graph.outputs.map((o) => ({ name: o.name, dtype: 'float32', shape: [] })),
    };
  }
  async infer(inputs: NamedTensors): Promise<NamedTensors> {
    const feed: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) feed[k] = tf.tensor(v.data as Float32Array, v.shape, 'float32');
    const names = this.graph.outputs.map((o) => o.name);
    const result = this.graph.execute(feed, names);
    const list = Array.isArray(result) ? result : [result];
    const out: NamedTensors = {};
    for (let i = 0; i < list.length; i++) {
      const t: HostTensor = { dtype: 'float32', shape: list[i].shape, data: (await list[i].data()) as Float32Array };
      out[names[i]] = t;
    }
    tf.dispose([...list, ...Object.values(feed)]);
    return out;
  }
}

export interface DirectRegistry extends ModelRegistry {
  numTensors(): number;
}

export async function loadDirectModels(): Promise<DirectRegistry> {
  setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), path.sep));
  await tf.setBackend('wasm');
  await tf.ready();
  const dir = humanModelsDir();
  const models = new Map<string, DirectModel>();
  for (const config of defaultPool().models) {
    const file = path.join(dir, path.basename(config.source.uri));
    models.set(config.task, new DirectModel(config, await tf.loadGraphModel(ioHandler(file))));
  }
  const byTask = (task: string): ServingModel => {
    const m = models.get(task);
    if (!m) throw new Error(`no model for ${task}`);
    return m;
  };
  return {
    resolve: (name) => [...models.values()].find((m) => m.name === name) ?? byTask(name),
    forTask: byTask,
    list: () => [...models.values()].map((m) => m.status()),
    isReady: () => true,
    close: async () => undefined,
    numTensors: () => tf.memory().numTensors,
  };
}
