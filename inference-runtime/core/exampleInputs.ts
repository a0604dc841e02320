import type { Preprocessing } from '../config/types.js';
import { allocateData, elementCount, type DType, type HostTensor, type NamedTensors, type TensorData, type TensorSpec } from './tensor.js';

/**
 * A concrete shape for a declared one: the batch dimension becomes `batch`, other unknown dimensions of an
 * NHWC image input take the model's preprocessing size (1 otherwise).
 */
export function concreteShape(spec: TensorSpec, batch: number, pre?: Preprocessing): number[] {
  return spec.shape.map((d, i) => {
    if (d >= 0) return d;
    if (i === 0) return batch;
    if (spec.shape.length === 4 && pre) {
      if (i === 1) return pre.height;
      if (i === 2) return pre.width;
      if (i === 3) return pre.colour === 'grayscale' ? 1 : 3;
    }
    return 1;
  });
}

export function filledData(dtype: DType, n: number, seed: number): TensorData {
  switch (dtype) {
    case 'float32': {
      // Deterministic, non-constant values: constant inputs can take shortcuts a real request does not.
      const a = new Float32Array(n);
      let x = seed >>> 0 || 1;
      for (let i = 0; i < n; i++) {
        x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
        a[i] = x / 4294967296;
      }
      return a;
    }
    default:
      return allocateData(dtype, n);
  }
}

/** Synthetic inputs fitting a signature: for probing output shapes, warm-up and the load-time benchmark. */
export function exampleInputs(inputs: TensorSpec[], batch: number, pre?: Preprocessing, seed = 1): NamedTensors {
  const out: NamedTensors = {};
  inputs.forEach((spec, i) => {
    const shape = concreteShape(spec, batch, pre);
    const t: HostTensor = { dtype: spec.dtype, shape, data: filledData(spec.dtype, elementCount(shape), seed + i) };
    out[spec.name] = t;
  });
  return out;
}

/** True when every input and output has a dynamic leading (batch) dimension. */
export function hasDynamicBatch(sig: { inputs: TensorSpec[]; outputs: TensorSpec[] }): boolean {
  return [...sig.inputs, ...sig.outputs].every((s) => s.shape.length > 0 && s.shape[0] === -1);
}
