import { InvalidInput } from '../../core/errors.js';
import { allocateData, type HostTensor, type TensorData } from '../../core/tensor.js';
import { previewJson } from '../jsonInput.js';
import { V2_DATATYPES, type V2Datatype } from './datatypes.js';
import { FLOAT16_MAX, fromFloat16Bits, toFloat16Bits } from './float16.js';

/**
 * Tensor data written as JSON (the protocol's `data` field): row-major values, flat or nested in lists
 * (nesting is flattened; the declared shape alone gives the tensor its shape). Each value must be exactly
 * representable in the datatype: a 400 names the input and the value otherwise.
 */
export function tensorFromJson(name: string, datatype: V2Datatype, shape: number[], count: number, data: unknown): HostTensor {
  const { dtype } = V2_DATATYPES[datatype];
  if (!Array.isArray(data)) throw new InvalidInput(`input '${name}': 'data' must be a list of ${datatype} values`);
  const out = allocateData(dtype, count);
  const put = PUT[datatype];
  let filled = 0;
  // Nesting depth is bounded by the JSON depth check, so the walk cannot overflow the stack.
  const walk = (list: unknown[]): void => {
    for (const value of list) {
      if (Array.isArray(value)) {
        walk(value);
        continue;
      }
      if (filled === count) throw sizeError(name, shape, count, 'more');
      if (!put(out, filled, value)) {
        throw new InvalidInput(`input '${name}': ${previewJson(value)} is not a ${datatype} value`);
      }
      filled++;
    }
  };
  walk(data);
  if (filled !== count) throw sizeError(name, shape, count, filled < count ? 'fewer' : 'more');
  return { dtype, shape, data: out };
}

function sizeError(name: string, shape: number[], count: number, what: 'more' | 'fewer'): InvalidInput {
  return new InvalidInput(`input '${name}': 'data' holds ${what} values than its shape [${shape.join(', ')}] (${count} values)`);
}

type Put = (out: TensorData, i: number, value: unknown) => boolean;

const FLOAT32_MAX = 3.4028234663852886e38;

const integer =
  (min: number, max: number): Put =>
  (out, i, value) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) return false;
    (out as Int32Array)[i] = value;
    return true;
  };

/** 64-bit integers beyond 2^53 do not survive JSON parsing as numbers; such values must be sent binary. */
const bigInteger =
  (min: number): Put =>
  (out, i, value) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) return false;
    (out as BigInt64Array)[i] = BigInt(value);
    return true;
  };

const PUT: Readonly<Record<V2Datatype, Put>> = {
  BOOL: (out, i, value) => {
    if (typeof value !== 'boolean') return false;
    (out as Uint8Array)[i] = value ? 1 : 0;
    return true;
  },
  UINT8: integer(0, 0xff),
  UINT16: integer(0, 0xffff),
  UINT32: integer(0, 0xffffffff),
  UINT64: bigInteger(0),
  INT8: integer(-0x80, 0x7f),
  INT16: integer(-0x8000, 0x7fff),
  INT32: integer(-0x80000000, 0x7fffffff),
  INT64: bigInteger(Number.MIN_SAFE_INTEGER),
  FP16: (out, i, value) => {
    if (typeof value !== 'number' || Math.abs(value) > FLOAT16_MAX) return false;
    (out as Uint16Array)[i] = toFloat16Bits(value);
    return true;
  },
  FP32: (out, i, value) => {
    if (typeof value !== 'number' || Math.abs(value) > FLOAT32_MAX) return false;
    (out as Float32Array)[i] = value;
    return true;
  },
  FP64: (out, i, value) => {
    if (typeof value !== 'number') return false;
    (out as Float64Array)[i] = value;
    return true;
  },
  BYTES: (out, i, value) => {
    if (typeof value !== 'string') return false;
    (out as string[])[i] = value;
    return true;
  },
};

/**
 * A tensor's values as a JSON list (flat, row-major), written without building a JS array. Non-finite floats
 * are written as the `NaN` / `Infinity` tokens that the clients' JSON parsers (Python's, rapidjson) accept.
 */
export function jsonDataText(tensor: HostTensor): string {
  const { data, dtype } = tensor;
  switch (dtype) {
    case 'bool':
      return `[${Array.from(data as Uint8Array, (v) => (v ? 'true' : 'false')).join(',')}]`;
    case 'string':
      return JSON.stringify(data);
    case 'int64':
    case 'uint64':
      return `[${(data as BigInt64Array).join(',')}]`;
    case 'float16':
      return `[${Array.from(data as Uint16Array, (bits) => numberText(fromFloat16Bits(bits))).join(',')}]`;
    case 'float32':
    case 'float64':
      return `[${Array.from(data as Float32Array, numberText).join(',')}]`;
    default:
      return `[${(data as Int32Array).join(',')}]`;
  }
}

function numberText(value: number): string {
  // `-0` reads back as the integer 0 in Python's and rapidjson's parsers; `-0.0` keeps the sign.
  if (Object.is(value, -0)) return '-0.0';
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}
