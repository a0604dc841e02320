/**
 * The reference side of verification: the source model run by tfjs on the WASM backend, exactly as the
 * runtime's tfjs backend would run it (never the pure-JS cpu backend: it is far slower and not what serves).
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { startWasmBackend } from '../core/tfjsWasm.js';
import type { HostTensor, NamedTensors } from '../core/tensor.js';
import type { TfjsModelJson } from './tfjsModel.js';

let wasmReady: Promise<void> | undefined;

/**
 * Selects tfjs's WASM backend once per thread (idempotent; safe when the runtime already did). It starts
 * through the runtime's WASM start-up, which also removes the rethrowing process error listeners the WASM
 * glue installs, and loads tfjs-core and the converter only, not the whole of `@tensorflow/tfjs`.
 */
export function ensureWasmBackend(): Promise<void> {
  wasmReady ??= (async () => {
    if (tf.getBackend() === 'wasm') return;
    await startWasmBackend();
    await tf.ready();
  })().catch((err: unknown) => {
    wasmReady = undefined;
    throw err;
  });
  return wasmReady;
}

export interface TfjsReferenceModel {
  inputNames: string[];
  outputNames: string[];
  /** Runs the model; `extraOutputs` names further tensors (`node` or `node:k`) to return as well. */
  run(inputs: NamedTensors, extraOutputs?: string[]): Promise<NamedTensors>;
  dispose(): void;
}

function toTensor(t: HostTensor): tf.Tensor {
  if (t.dtype === 'float32' || t.dtype === 'int32' || t.dtype === 'bool') return tf.tensor(t.data as Float32Array | Int32Array | Uint8Array, t.shape, t.dtype);
  throw new Error(`tfjs reference: ${t.dtype} inputs are not supported`);
}

async function toHost(t: tf.Tensor): Promise<HostTensor> {
  const data = await t.data();
  if (t.dtype === 'float32') return { dtype: 'float32', shape: t.shape, data: data as Float32Array };
  if (t.dtype === 'int32') return { dtype: 'int32', shape: t.shape, data: data as Int32Array };
  if (t.dtype === 'bool') return { dtype: 'bool', shape: t.shape, data: Uint8Array.from(data as Uint8Array) };
  throw new Error(`tfjs reference: ${t.dtype} outputs are not supported`);
}

export async function loadTfjsReference(json: TfjsModelJson, weightData: Uint8Array): Promise<TfjsReferenceModel> {
  await ensureWasmBackend();
  const weights = weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength) as ArrayBuffer;
  const model = await loadGraphModel({
    load: async (): Promise<tf.io.ModelArtifacts> => ({
      modelTopology: json.modelTopology as unknown as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: (json.weightsManifest ?? []).flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
      weightData: weights,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
      signature: json.signature as object | undefined,
      userDefinedMetadata: json.userDefinedMetadata as Record<string, object> | undefined,
    }),
  });
  const inputNames = model.inputs.map((i) => i.name);
  const outputNames = model.outputs.map((o) => o.name);
  return {
    inputNames,
    outputNames,
    async run(inputs, extraOutputs = []) {
      const feed: Record<string, tf.Tensor> = {};
      for (const name of inputNames) {
        const t = inputs[name];
        if (!t) throw new Error(`tfjs reference: missing input ${name}`);
        feed[name] = toTensor(t);
      }
      try {
        const names = [...outputNames, ...extraOutputs];
        const result = model.execute(feed, names);
        const list = Array.isArray(result) ? result : [result];
        const out: NamedTensors = {};
        for (let k = 0; k < list.length; k++) out[names[k]] = await toHost(list[k]);
        tf.dispose(list);
        return out;
      } finally {
        tf.dispose(Object.values(feed));
      }
    },
    dispose() {
      model.dispose();
    },
  };
}
