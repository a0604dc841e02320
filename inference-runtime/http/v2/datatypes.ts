import type { DType } from '../../core/tensor.js';

/**
 * The Open Inference Protocol's tensor datatypes and the runtime dtype each one is: the one table of the
 * V2 adapter. `bytes` is the size of one element in the binary tensor data extension (little-endian, as the
 * protocol fixes); BYTES elements have no fixed size (each is a 4-byte length and that many bytes).
 */
export const V2_DATATYPES = {
  BOOL: { dtype: 'bool', bytes: 1 },
  UINT8: { dtype: 'uint8', bytes: 1 },
  UINT16: { dtype: 'uint16', bytes: 2 },
  UINT32: { dtype: 'uint32', bytes: 4 },
  UINT64: { dtype: 'uint64', bytes: 8 },
  INT8: { dtype: 'int8', bytes: 1 },
  INT16: { dtype: 'int16', bytes: 2 },
  INT32: { dtype: 'int32', bytes: 4 },
  INT64: { dtype: 'int64', bytes: 8 },
  FP16: { dtype: 'float16', bytes: 2 },
  FP32: { dtype: 'float32', bytes: 4 },
  FP64: { dtype: 'float64', bytes: 8 },
  BYTES: { dtype: 'string', bytes: 0 },
} as const satisfies Record<string, { dtype: DType; bytes: number }>;

export type V2Datatype = keyof typeof V2_DATATYPES;

/** The V2 name of each runtime dtype: the table above read backwards. */
export const V2_DATATYPE_OF: Readonly<Record<DType, V2Datatype>> = Object.fromEntries(
  Object.entries(V2_DATATYPES).map(([name, rule]) => [rule.dtype, name]),
) as Record<DType, V2Datatype>;

export function isV2Datatype(name: unknown): name is V2Datatype {
  return typeof name === 'string' && Object.hasOwn(V2_DATATYPES, name);
}
