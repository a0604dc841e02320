import type { ModelSignature } from './backend.js';
import { InvalidInput } from './errors.js';
import { elementCount, type HostTensor, type NamedTensors, type TensorSpec } from './tensor.js';

const ARRAY_OF: Record<HostTensor['dtype'], (d: unknown) => boolean> = {
  float32: (d) => d instanceof Float32Array,
  int32: (d) => d instanceof Int32Array,
  int64: (d) => d instanceof BigInt64Array,
  uint8: (d) => d instanceof Uint8Array,
  bool: (d) => d instanceof Uint8Array,
  string: (d) => Array.isArray(d) && d.every((s) => typeof s === 'string'),
  float16: (d) => d instanceof Uint16Array,
  float64: (d) => d instanceof Float64Array,
  int8: (d) => d instanceof Int8Array,
  int16: (d) => d instanceof Int16Array,
  uint16: (d) => d instanceof Uint16Array,
  uint32: (d) => d instanceof Uint32Array,
  uint64: (d) => d instanceof BigUint64Array,
};

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function describe(spec: TensorSpec): string {
  return `${spec.dtype} ${formatShape(spec.shape)}`;
}

/**
 * Checks request tensors against a model's signature before they reach an engine, so a bad request is a
 * 400 naming the input and what it should look like, never an engine error (or a crash) deep in a worker.
 */
export function validateInputs(modelName: string, signature: ModelSignature, inputs: NamedTensors): void {
  if (typeof inputs !== 'object' || inputs === null) throw new InvalidInput(`model ${modelName} expects named input tensors`);
  const expected = signature.inputs.map((s) => s.name);
  for (const name of Object.keys(inputs)) {
    if (!expected.includes(name)) {
      throw new InvalidInput(`model ${modelName} has no input named ${JSON.stringify(name)}; its inputs are ${expected.join(', ')}`);
    }
  }
  for (const spec of signature.inputs) {
    const t = inputs[spec.name];
    if (!t) throw new InvalidInput(`model ${modelName}: missing input ${spec.name} (${describe(spec)})`);
    const where = `model ${modelName} input ${spec.name}`;
    if (t.dtype !== spec.dtype) throw new InvalidInput(`${where}: expected dtype ${spec.dtype}, got ${t.dtype}`);
    if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new InvalidInput(`${where}: shape must be a list of non-negative integers`);
    }
    if (t.shape.length !== spec.shape.length) {
      throw new InvalidInput(`${where}: expected shape ${formatShape(spec.shape)} (rank ${spec.shape.length}), got ${formatShape(t.shape)}`);
    }
    spec.shape.forEach((d, axis) => {
      if (d >= 0 && t.shape[axis] !== d) {
        throw new InvalidInput(`${where}: expected shape ${formatShape(spec.shape)}, got ${formatShape(t.shape)} (dimension ${axis} must be ${d})`);
      }
    });
    if (!ARRAY_OF[t.dtype](t.data)) throw new InvalidInput(`${where}: data does not hold ${t.dtype} values`);
    const n = elementCount(t.shape);
    if (t.data.length !== n) throw new InvalidInput(`${where}: shape ${formatShape(t.shape)} needs ${n} values, got ${t.data.length}`);
  }
}
