/**
 * Open Inference Protocol V2 tensors and the binary tensor data extension: a request body is its JSON part
 * followed by the raw bytes of the binary inputs, `Inference-Header-Content-Length` giving the JSON part's
 * length and each binary input its size in `parameters.binary_data_size`; a response with binary outputs is
 * framed the same way. Elements are little-endian, row-major; a `BYTES` element is a 4-byte little-endian
 * length and its bytes.
 */
import type { V2InferRequest, V2InferResponse } from './api.js';

export type V2Datatype = 'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64' | 'INT8' | 'INT16' | 'INT32' | 'INT64' | 'FP16' | 'FP32' | 'FP64' | 'BYTES';

/**
 * Tensor elements, flat in row-major order. Binary outputs come back as the typed array of their datatype
 * (`FP16` as the IEEE half bits in a Uint16Array, `BOOL` as booleans, `BYTES` as strings); JSON outputs as
 * plain arrays.
 */
export type V2Data =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | number[]
  | bigint[]
  | boolean[]
  | string[];

export interface V2Input {
  name: string;
  shape: number[];
  datatype: V2Datatype;
  data: V2Data;
  parameters?: Record<string, unknown>;
}

export interface V2Output {
  name: string;
  shape: number[];
  datatype: string;
  data: V2Data;
  parameters?: Record<string, unknown>;
}

export interface V2InferOptions {
  /** Outputs wanted, in the order wanted (default every output). */
  outputs?: string[];
  /** Send inputs and ask for outputs as binary tensor data (default true); false: JSON tensors both ways. */
  binary?: boolean;
  version?: string;
  /** Echoed in the response. */
  id?: string;
  parameters?: Record<string, unknown>;
}

export interface V2Result {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, unknown>;
  outputs: V2Output[];
}

export const INFERENCE_HEADER = 'Inference-Header-Content-Length';

interface Layout {
  bytes: number;
  get(view: DataView, offset: number): number | bigint;
  set(view: DataView, offset: number, value: number | bigint): void;
  array?: (length: number) => Exclude<V2Data, unknown[]>;
}

/** One row per fixed-size datatype: its element size, little-endian accessors and typed array. */
const layouts: Record<Exclude<V2Datatype, 'BYTES'>, Layout> = {
  BOOL: { bytes: 1, get: (v, o) => v.getUint8(o), set: (v, o, x) => v.setUint8(o, x ? 1 : 0) },
  UINT8: { bytes: 1, get: (v, o) => v.getUint8(o), set: (v, o, x) => v.setUint8(o, Number(x)), array: (n) => new Uint8Array(n) },
  UINT16: { bytes: 2, get: (v, o) => v.getUint16(o, true), set: (v, o, x) => v.setUint16(o, Number(x), true), array: (n) => new Uint16Array(n) },
  UINT32: { bytes: 4, get: (v, o) => v.getUint32(o, true), set: (v, o, x) => v.setUint32(o, Number(x), true), array: (n) => new Uint32Array(n) },
  UINT64: { bytes: 8, get: (v, o) => v.getBigUint64(o, true), set: (v, o, x) => v.setBigUint64(o, BigInt(x), true), array: (n) => new BigUint64Array(n) },
  INT8: { bytes: 1, get: (v, o) => v.getInt8(o), set: (v, o, x) => v.setInt8(o, Number(x)), array: (n) => new Int8Array(n) },
  INT16: { bytes: 2, get: (v, o) => v.getInt16(o, true), set: (v, o, x) => v.setInt16(o, Number(x), true), array: (n) => new Int16Array(n) },
  INT32: { bytes: 4, get: (v, o) => v.getInt32(o, true), set: (v, o, x) => v.setInt32(o, Number(x), true), array: (n) => new Int32Array(n) },
  INT64: { bytes: 8, get: (v, o) => v.getBigInt64(o, true), set: (v, o, x) => v.setBigInt64(o, BigInt(x), true), array: (n) => new BigInt64Array(n) },
  // Half floats travel as their bits: no JavaScript number type holds them.
  FP16: { bytes: 2, get: (v, o) => v.getUint16(o, true), set: (v, o, x) => v.setUint16(o, Number(x), true), array: (n) => new Uint16Array(n) },
  FP32: { bytes: 4, get: (v, o) => v.getFloat32(o, true), set: (v, o, x) => v.setFloat32(o, Number(x), true), array: (n) => new Float32Array(n) },
  FP64: { bytes: 8, get: (v, o) => v.getFloat64(o, true), set: (v, o, x) => v.setFloat64(o, Number(x), true), array: (n) => new Float64Array(n) },
};

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The raw bytes of one input's elements. */
export function encodeTensor(input: V2Input): Uint8Array {
  const count = elementCount(input.shape);
  if (input.data.length !== count) throw new TypeError(`input ${input.name}: ${input.data.length} elements for shape [${input.shape.join(', ')}] (${count})`);
  if (input.datatype === 'BYTES') {
    const items = Array.from(input.data as ArrayLike<unknown>, (x) => (typeof x === 'string' ? utf8.encode(x) : x instanceof Uint8Array ? x : utf8.encode(String(x))));
    const out = new Uint8Array(items.reduce((n, b) => n + 4 + b.length, 0));
    const view = new DataView(out.buffer);
    let offset = 0;
    for (const b of items) {
      view.setUint32(offset, b.length, true);
      out.set(b, offset + 4);
      offset += 4 + b.length;
    }
    return out;
  }
  const layout = layouts[input.datatype];
  if (!layout) throw new TypeError(`input ${input.name}: unknown datatype ${String(input.datatype)}`);
  const out = new Uint8Array(count * layout.bytes);
  const view = new DataView(out.buffer);
  const data = input.data as ArrayLike<number | bigint | boolean>;
  for (let i = 0; i < count; i++) layout.set(view, i * layout.bytes, data[i] as number | bigint);
  return out;
}

/** Elements of one output from its raw bytes; a size that does not match the shape is an error, not a guess. */
export function decodeTensor(name: string, datatype: string, shape: readonly number[], bytes: Uint8Array): V2Data {
  const count = elementCount(shape);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (datatype === 'BYTES') {
    const out: string[] = [];
    let offset = 0;
    while (out.length < count) {
      if (offset + 4 > bytes.length) throw new Error(`output ${name}: BYTES data ends early`);
      const length = view.getUint32(offset, true);
      if (offset + 4 + length > bytes.length) throw new Error(`output ${name}: a BYTES element runs past its data`);
      out.push(fromUtf8.decode(bytes.subarray(offset + 4, offset + 4 + length)));
      offset += 4 + length;
    }
    if (offset !== bytes.length) throw new Error(`output ${name}: ${bytes.length - offset} bytes over its ${count} elements`);
    return out;
  }
  const layout = layouts[datatype as Exclude<V2Datatype, 'BYTES'>];
  if (!layout) throw new Error(`output ${name}: unknown datatype ${datatype}`);
  if (bytes.length !== count * layout.bytes) throw new Error(`output ${name}: ${bytes.length} bytes for ${count} ${datatype} elements`);
  if (!layout.array) return Array.from({ length: count }, (_, i) => layout.get(view, i) !== 0);
  const out = layout.array(count);
  for (let i = 0; i < count; i++) (out as unknown as Array<number | bigint>)[i] = layout.get(view, i * layout.bytes);
  return out;
}

/** The request body and its extra headers: JSON alone, or the JSON part and the binary inputs' bytes. */
export function encodeInferRequest(inputs: readonly V2Input[], options: V2InferOptions): { body: Uint8Array | string; contentType: string; headers: Record<string, string> } {
  const binary = options.binary ?? true;
  const blobs: Uint8Array[] = [];
  const request: V2InferRequest = {
    ...(options.id !== undefined ? { id: options.id } : {}),
    ...(options.parameters ? { parameters: options.parameters } : {}),
    inputs: inputs.map((input) => {
      if (!binary) return { name: input.name, shape: input.shape, datatype: input.datatype, data: jsonValues(input.data), ...(input.parameters ? { parameters: input.parameters } : {}) };
      const bytes = encodeTensor(input);
      blobs.push(bytes);
      return { name: input.name, shape: input.shape, datatype: input.datatype, parameters: { ...input.parameters, binary_data_size: bytes.length } };
    }) as V2InferRequest['inputs'],
    ...(options.outputs ? { outputs: options.outputs.map((name) => ({ name, parameters: { binary_data: binary } })) } : {}),
  };
  if (!binary) return { body: JSON.stringify(request), contentType: 'application/json', headers: {} };
  if (!options.outputs) request.parameters = { ...request.parameters, binary_data_output: true };
  const header = utf8.encode(JSON.stringify(request));
  const body = new Uint8Array(header.length + blobs.reduce((n, b) => n + b.length, 0));
  body.set(header, 0);
  let offset = header.length;
  for (const b of blobs) {
    body.set(b, offset);
    offset += b.length;
  }
  return { body, contentType: 'application/octet-stream', headers: { [INFERENCE_HEADER]: String(header.length) } };
}

/** Outputs with their elements: binary ones decoded from `binary` (the bytes after the JSON part), in the order listed. */
export function decodeInferResponse(response: V2InferResponse, binary: Uint8Array = new Uint8Array(0)): V2Result {
  let offset = 0;
  const outputs = response.outputs.map((output): V2Output => {
    const size = output.parameters?.binary_data_size;
    if (size === undefined) return output as V2Output;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || offset + size > binary.length) throw new Error(`output ${output.name}: binary_data_size ${String(size)} runs past the body`);
    const data = decodeTensor(output.name, output.datatype, output.shape, binary.subarray(offset, offset + size));
    offset += size;
    const { binary_data_size: _size, ...rest } = output.parameters ?? {};
    return { name: output.name, shape: output.shape, datatype: output.datatype, data, ...(Object.keys(rest).length ? { parameters: rest } : {}) };
  });
  if (offset !== binary.length) throw new Error(`${binary.length - offset} bytes after the binary outputs`);
  return { ...response, outputs };
}

function jsonValues(data: V2Data): unknown[] {
  // JSON has no bigint: 64-bit integers beyond 2^53 need the binary form.
  return Array.from(data as ArrayLike<unknown>, (x) => (typeof x === 'bigint' ? Number(x) : x));
}
