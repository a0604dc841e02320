/**
 * Backend-neutral tensors. Every backend (tfjs, onnxruntime, compiled graphs) takes and returns host tensors,
 * so the HTTP adapters and task pipelines never depend on a particular engine, and tensors can cross
 * worker-thread boundaries as transferable typed arrays.
 */
export type DType = 'float32' | 'int32' | 'int64' | 'uint8' | 'bool' | 'string' | WideDType;

/**
 * Element types beyond what the built-in models use, for ONNX models that declare them (and the protocols
 * that carry them, such as V2's datatypes). `float16` values travel as their IEEE 754 half bits in a
 * Uint16Array, the representation onnxruntime takes where Float16Array does not exist.
 */
export type WideDType = 'float16' | 'float64' | 'int8' | 'int16' | 'uint16' | 'uint32' | 'uint64';

export type TensorData =
  | Float32Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | string[]
  | Float64Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

export interface HostTensor {
  dtype: DType;
  shape: number[];
  data: TensorData;
}

/** A declared input or output. `-1` marks a dimension of unknown size (the batch dimension, usually). */
export interface TensorSpec {
  name: string;
  dtype: DType;
  shape: number[];
}

export type NamedTensors = Record<string, HostTensor>;

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** Zeroed storage for `count` values of a dtype (empty strings for `string`). */
export function allocateData(dtype: DType, count: number): TensorData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(count);
    case 'int32':
      return new Int32Array(count);
    case 'int64':
      return new BigInt64Array(count);
    case 'uint8':
    case 'bool':
      return new Uint8Array(count);
    case 'float16':
    case 'uint16':
      return new Uint16Array(count);
    case 'float64':
      return new Float64Array(count);
    case 'int8':
      return new Int8Array(count);
    case 'int16':
      return new Int16Array(count);
    case 'uint32':
      return new Uint32Array(count);
    case 'uint64':
      return new BigUint64Array(count);
    case 'string':
      return new Array<string>(count).fill('');
  }
}

export function float32(shape: number[], data: Float32Array): HostTensor {
  if (data.length !== elementCount(shape)) {
    throw new RangeError(`float32 tensor of shape [${shape.join(', ')}] needs ${elementCount(shape)} values, got ${data.length}`);
  }
  return { dtype: 'float32', shape, data };
}
