import { InvalidInput } from '../../core/errors.js';
import { checkRowCount } from '../../core/rowLimit.js';
import { allocateData, elementCount, type DType, type HostTensor, type NamedTensors, type TensorData, type TensorSpec } from '../../core/tensor.js';
import { NAN_SENTINEL } from './jsonText.js';

/**
 * TF Serving's JSON <-> tensor mapping (tensorflow_serving/util/json_tensor.cc), over host tensors:
 * - row format: `instances` is a list with one item per batch row; an item is the value of the single input,
 *   or an object naming every input; the items are stacked along a new 0-th dimension;
 * - columnar format: `inputs` is the value of the single input, or an object of named inputs;
 * - shapes are inferred from nested lists (first element at each level) and every list must match them;
 * - `{"b64": "..."}` is a binary value of a string tensor; output string tensors whose name ends in `_bytes`
 *   are written back the same way;
 * - a single output is written without its name; several outputs are keyed by name.
 */
export type PredictFormat = 'row' | 'columnar';

export interface PredictRequest {
  format: PredictFormat;
  signatureName: string;
  inputs: NamedTensors;
}

export const DEFAULT_SIGNATURE = 'serving_default';

/** TF's DataType names for our dtypes, as TF Serving's metadata and error messages spell them. */
export const TF_DTYPE: Readonly<Record<DType, string>> = {
  float32: 'DT_FLOAT',
  int32: 'DT_INT32',
  int64: 'DT_INT64',
  uint8: 'DT_UINT8',
  bool: 'DT_BOOL',
  string: 'DT_STRING',
  float16: 'DT_HALF',
  float64: 'DT_DOUBLE',
  int8: 'DT_INT8',
  int16: 'DT_INT16',
  uint16: 'DT_UINT16',
  uint32: 'DT_UINT32',
  uint64: 'DT_UINT64',
};

/** Deeper nesting than this is refused before any recursion (no tensor here has more than 8 dimensions). */
const MAX_RANK = 32;
const FLOAT32_MAX = 3.4028234663852886e38;

type JsonObject = Record<string, unknown>;

/**
 * Converts a parsed `:predict` body into named input tensors for a model's declared inputs.
 * `maxElements` bounds what shape inference may allocate before the values are checked (a few bytes of
 * JSON can claim a huge shape through the first element of each level); the body size is a safe bound.
 * `maxRows` bounds the batch dimension (413 beyond), checked before any tensor is allocated.
 */
export function parsePredictRequest(body: unknown, inputSpecs: readonly TensorSpec[], maxElements: number, maxRows = Number.POSITIVE_INFINITY): PredictRequest {
  if (!isPlainObject(body)) throw new InvalidInput(`JSON Value: ${preview(body)} Is not object`);
  let signatureName = DEFAULT_SIGNATURE;
  if (Object.hasOwn(body, 'signature_name')) {
    const name = body.signature_name;
    if (typeof name !== 'string') {
      throw new InvalidInput("'signature_name' key must be a string value.");
    }
    if (name !== '') signatureName = name;
  }
  if (signatureName !== DEFAULT_SIGNATURE) {
    // Models here publish one signature, under TF Serving's default key.
    throw new InvalidInput(`Serving signature name: "${signatureName}" not found in signature def`);
  }
  if (inputSpecs.length === 0) throw new InvalidInput(`Failed to get input map for signature: ${signatureName}`);
  const hasInstances = Object.hasOwn(body, 'instances');
  const hasInputs = Object.hasOwn(body, 'inputs');
  if (hasInstances && hasInputs) {
    throw new InvalidInput("Not formatted correctly: expecting only one of 'inputs' or 'instances' keys to exist");
  }
  if (hasInstances) {
    return { format: 'row', signatureName, inputs: rowInputs(body.instances, inputSpecs, maxElements, maxRows) };
  }
  if (hasInputs) {
    return { format: 'columnar', signatureName, inputs: columnarInputs(body.inputs, inputSpecs, maxElements, maxRows) };
  }
  throw new InvalidInput("Missing 'inputs' or 'instances' key");
}

function rowInputs(instances: unknown, specs: readonly TensorSpec[], maxElements: number, maxRows: number): NamedTensors {
  if (!Array.isArray(instances)) throw new InvalidInput("Expecting 'instances' to be a list/array");
  if (instances.length === 0) throw new InvalidInput("No values in 'instances' array");
  checkRowCount(instances.length, maxRows, "'instances'");
  const first: unknown = instances[0];
  const elementsAreObjects = isNamedObject(first);
  if (!elementsAreObjects && specs.length > 1) {
    throw new InvalidInput(
      `instances is a plain list, but expecting list of objects as multiple input tensors are required: ${specNames(specs)}`,
    );
  }
  const rows = instances.length;
  if (!elementsAreObjects) {
    const spec = specs[0]!;
    const rowShape = inferShape(first, spec.name);
    const builder = new TensorBuilder(spec, [rows, ...rowShape], maxElements);
    instances.forEach((item, index) => {
      if (isNamedObject(item)) {
        throw new InvalidInput(`Expecting value/list but got object at item ${index} of 'instances' list`);
      }
      builder.fill(item, rowShape, `item ${index} of 'instances'`);
    });
    return { [spec.name]: builder.finish() };
  }

  const firstObject = first as JsonObject;
  const builders = new Map<string, { builder: TensorBuilder; rowShape: number[] }>();
  for (const spec of specs) {
    if (!Object.hasOwn(firstObject, spec.name)) {
      throw new InvalidInput(`Failed to process element: 0 of 'instances' list: missing named input '${spec.name}'; keys must be equal to: ${specNames(specs)}`);
    }
    const rowShape = inferShape(firstObject[spec.name], spec.name);
    builders.set(spec.name, { builder: new TensorBuilder(spec, [rows, ...rowShape], maxElements), rowShape });
  }
  instances.forEach((item, index) => {
    if (!isNamedObject(item)) {
      throw new InvalidInput(`Expecting object but got list at item ${index} of 'instances' list`);
    }
    const keys = Object.keys(item);
    if (keys.length !== specs.length || keys.some((key) => !builders.has(key))) {
      throw new InvalidInput(
        `Failed to process element: ${index} of 'instances' list. JSON object keys [${keys.join(',')}] must be equal to: ${specNames(specs)}`,
      );
    }
    for (const [name, { builder, rowShape }] of builders) {
      builder.fill(item[name], rowShape, `item ${index} of 'instances'`);
    }
  });
  const inputs: NamedTensors = {};
  for (const [name, { builder }] of builders) inputs[name] = builder.finish();
  return inputs;
}

function columnarInputs(value: unknown, specs: readonly TensorSpec[], maxElements: number, maxRows: number): NamedTensors {
  if (!isNamedObject(value)) {
    if (specs.length > 1) {
      throw new InvalidInput(
        `inputs is a plain value/list, but expecting an object as multiple input tensors are required: ${specNames(specs)}`,
      );
    }
    return { [specs[0]!.name]: columnarTensor(value, specs[0]!, maxElements, maxRows) };
  }
  const inputs: NamedTensors = {};
  for (const spec of specs) {
    if (!Object.hasOwn(value, spec.name)) {
      throw new InvalidInput(`Missing named input: ${spec.name} in 'inputs' object.`);
    }
    inputs[spec.name] = columnarTensor(value[spec.name], spec, maxElements, maxRows);
  }
  return inputs;
}

function columnarTensor(value: unknown, spec: TensorSpec, maxElements: number, maxRows: number): HostTensor {
  const shape = inferShape(value, spec.name);
  // The 0-th dimension of a columnar input is its batch, as in TF Serving.
  if (shape.length > 0) checkRowCount(shape[0]!, maxRows, `input '${spec.name}'`);
  const builder = new TensorBuilder(spec, shape, maxElements);
  builder.fill(value, shape, "'inputs'");
  return builder.finish();
}

/** The shape a nested list claims through its first element at each level. */
function inferShape(value: unknown, inputName: string): number[] {
  const shape: number[] = [];
  let level = value;
  while (Array.isArray(level)) {
    if (shape.length === MAX_RANK) {
      throw new InvalidInput(`input '${inputName}': lists nested deeper than ${MAX_RANK} levels`);
    }
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  return shape;
}

/** Writes the leaves of nested lists into one typed array, checking that every list fits the shape. */
class TensorBuilder {
  private readonly data: TensorData;
  private offset = 0;

  constructor(
    private readonly spec: TensorSpec,
    private readonly shape: number[],
    maxElements: number,
  ) {
    const count = elementCount(shape);
    if (count > maxElements) {
      // More values claimed than the body could hold: the lists after the first are shorter (ragged).
      throw new InvalidInput(
        `input '${spec.name}': ragged nested lists: the first elements claim shape [${shape.join(', ')}] (${count} values) but the body holds fewer values`,
      );
    }
    this.data = allocateData(spec.dtype, count);
  }

  fill(value: unknown, shape: readonly number[], where: string): void {
    this.fillLevel(value, shape, 0, where);
  }

  private fillLevel(value: unknown, shape: readonly number[], level: number, where: string): void {
    if (Array.isArray(value)) {
      if (level >= shape.length) {
        throw new InvalidInput(
          `input '${this.spec.name}' (${where}): list found at depth ${level + 1} where a value was expected: the first elements give shape [${shape.join(', ')}]`,
        );
      }
      if (value.length !== shape[level]) {
        throw new InvalidInput(
          `input '${this.spec.name}' (${where}): ragged nested lists: a list of ${value.length} at depth ${level + 1} where ${shape[level]} were expected from the first elements (shape [${shape.join(', ')}])`,
        );
      }
      if (level === shape.length - 1 && this.spec.dtype === 'float32') {
        this.putFloats(value, shape, level, where);
      } else {
        for (const item of value) this.fillLevel(item, shape, level + 1, where);
      }
      return;
    }
    if (level !== shape.length) {
      throw new InvalidInput(
        `input '${this.spec.name}' (${where}): JSON value ${preview(value)} found at depth ${level + 1} where a list was expected: the first elements give shape [${shape.join(', ')}]`,
      );
    }
    this.put(value);
  }

  /** The innermost list of a float tensor, the bulk of every image request, without a call per value. */
  private putFloats(values: unknown[], shape: readonly number[], level: number, where: string): void {
    const data = this.data as Float32Array;
    let offset = this.offset;
    for (let k = 0; k < values.length; k++) {
      const v = values[k];
      if (typeof v === 'number' && (v <= FLOAT32_MAX && v >= -FLOAT32_MAX)) {
        data[offset++] = v;
      } else {
        // NaN, infinities, non-numbers and lists: the general path checks and reports them.
        this.offset = offset;
        this.fillLevel(v, shape, level + 1, where);
        offset = this.offset;
      }
    }
    this.offset = offset;
  }

  private put(value: unknown): void {
    const i = this.offset++;
    const { dtype } = this.spec;
    switch (dtype) {
      case 'float32': {
        let n: number;
        if (typeof value === 'number') n = value;
        else if (value === NAN_SENTINEL) n = Number.NaN;
        else throw this.typeError(value);
        if (Number.isFinite(n) && Math.abs(n) > FLOAT32_MAX) {
          throw new InvalidInput(`input '${this.spec.name}': cannot convert JSON value ${preview(value)} to float without loss of precision`);
        }
        (this.data as Float32Array)[i] = n;
        return;
      }
      case 'int32':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < -2147483648 || value > 2147483647) throw this.typeError(value);
        (this.data as Int32Array)[i] = value;
        return;
      case 'uint8':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 255) throw this.typeError(value);
        (this.data as Uint8Array)[i] = value;
        return;
      case 'int64':
        if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw this.typeError(value);
        (this.data as BigInt64Array)[i] = BigInt(value);
        return;
      case 'bool':
        if (typeof value !== 'boolean') throw this.typeError(value);
        (this.data as Uint8Array)[i] = value ? 1 : 0;
        return;
      case 'string':
        if (typeof value === 'string') {
          (this.data as string[])[i] = value;
        } else if (isB64Object(value)) {
          (this.data as string[])[i] = decodeB64(value.b64, this.spec.name);
        } else {
          throw this.typeError(value);
        }
        return;
      default:
        throw unsupportedDType(this.spec.name, dtype);
    }
  }

  private typeError(value: unknown): InvalidInput {
    if (isPlainObject(value) && this.spec.dtype !== 'string' && Object.hasOwn(value, 'b64')) {
      return new InvalidInput(`input '${this.spec.name}': binary {"b64": ...} values are only accepted for DT_STRING inputs, this input is ${TF_DTYPE[this.spec.dtype]}`);
    }
    return new InvalidInput(
      `input '${this.spec.name}': JSON value ${preview(value)} (${jsonTypeName(value)}) is not of expected type ${TF_DTYPE[this.spec.dtype]}`,
    );
  }

  finish(): HostTensor {
    return { dtype: this.spec.dtype, shape: this.shape, data: this.data };
  }
}

/** The dtypes beyond the built-in models' (float16, float64, ...) travel over the V2 protocol, not this one. */
function unsupportedDType(name: string, dtype: DType): InvalidInput {
  return new InvalidInput(`tensor '${name}' is ${TF_DTYPE[dtype]}, which this REST API does not carry; use the V2 protocol (/v2/models/.../infer)`);
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
const B64_URL = /^[A-Za-z0-9_-]*$/;

/** Decoded bytes as a binary string (one char per byte): host string tensors carry bytes that way. */
function decodeB64(text: string, inputName: string): string {
  const compact = text.replace(/[\r\n]/g, '');
  if (B64.test(compact)) return Buffer.from(compact, 'base64').toString('latin1');
  if (B64_URL.test(compact) && compact.length % 4 !== 1) return Buffer.from(compact, 'base64url').toString('latin1');
  throw new InvalidInput(`input '${inputName}': unable to base64 decode the {"b64": ...} value`);
}

export function isB64Object(value: unknown): value is { b64: string } {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === 'b64' && typeof value.b64 === 'string';
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object of named values, as opposed to a `{"b64": ...}` value. */
function isNamedObject(value: unknown): value is JsonObject {
  return isPlainObject(value) && !isB64Object(value);
}

function specNames(specs: readonly TensorSpec[]): string {
  return specs.map((s) => s.name).join(',');
}

function jsonTypeName(value: unknown): string {
  if (value === null) return 'Null';
  if (Array.isArray(value)) return 'Array';
  if (value === NAN_SENTINEL) return 'Number';
  switch (typeof value) {
    case 'boolean':
      return value ? 'True' : 'False';
    case 'number':
      return 'Number';
    case 'string':
      return 'String';
    default:
      return 'Object';
  }
}

function preview(value: unknown): string {
  if (value === NAN_SENTINEL) return 'NaN';
  let text: string;
  try {
    text = typeof value === 'number' && !Number.isFinite(value) ? String(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}

// ---------------------------------------------------------------------------------------------------------
// Responses

/**
 * Serialises a predict response as TF Serving writes it. `order` fixes the order of named outputs (the
 * signature's), and output tensors missing from it are appended in their own order.
 */
export function predictResponseJson(outputs: NamedTensors, format: PredictFormat, order: readonly string[] = []): string {
  const names = orderedNames(outputs, order);
  if (names.length === 0) throw new Error('the model returned no outputs');
  return format === 'row' ? rowResponse(outputs, names) : columnarResponse(outputs, names);
}

function orderedNames(outputs: NamedTensors, order: readonly string[]): string[] {
  const names = order.filter((name) => Object.hasOwn(outputs, name));
  for (const name of Object.keys(outputs)) if (!names.includes(name)) names.push(name);
  return names;
}

function rowResponse(outputs: NamedTensors, names: string[]): string {
  let batch = -1;
  for (const name of names) {
    const tensor = outputs[name]!;
    if (tensor.shape.length === 0) {
      throw new InvalidInput(`Tensor name: ${name} has no shape information; use the columnar 'inputs' format for this model`);
    }
    const rows = tensor.shape[0]!;
    if (batch >= 0 && rows !== batch) {
      throw new InvalidInput(`Tensor name: ${name} has inconsistent batch size: ${rows} expecting: ${batch}; use the columnar 'inputs' format for this model`);
    }
    batch = rows;
  }
  const writers = names.map((name) => new ValueWriter(name, outputs[name]!));
  const out: string[] = ['{"predictions":['];
  for (let row = 0; row < batch; row++) {
    if (row > 0) out.push(',');
    if (names.length === 1) {
      writers[0]!.write(out, 1);
    } else {
      out.push('{');
      writers.forEach((writer, k) => {
        if (k > 0) out.push(',');
        out.push(JSON.stringify(names[k]), ':');
        writer.write(out, 1);
      });
      out.push('}');
    }
  }
  out.push(']}');
  return out.join('');
}

function columnarResponse(outputs: NamedTensors, names: string[]): string {
  const out: string[] = ['{"outputs":'];
  if (names.length === 1) {
    new ValueWriter(names[0]!, outputs[names[0]!]!).write(out, 0);
  } else {
    out.push('{');
    names.forEach((name, k) => {
      if (k > 0) out.push(',');
      out.push(JSON.stringify(name), ':');
      new ValueWriter(name, outputs[name]!).write(out, 0);
    });
    out.push('}');
  }
  out.push('}');
  return out.join('');
}

/** Walks one tensor in row-major order, writing the sub-tensor from dimension `dim` at each call. */
class ValueWriter {
  private offset = 0;
  private readonly asBytes: boolean;

  constructor(
    name: string,
    private readonly tensor: HostTensor,
  ) {
    if (tensor.data.length !== elementCount(tensor.shape)) {
      throw new Error(`output ${name} holds ${tensor.data.length} values for shape [${tensor.shape.join(', ')}]`);
    }
    this.asBytes = tensor.dtype === 'string' && name.endsWith('_bytes');
  }

  write(out: string[], dim: number): void {
    const { shape } = this.tensor;
    if (dim >= shape.length) {
      out.push(this.value(this.offset++));
      return;
    }
    out.push('[');
    const size = shape[dim]!;
    for (let i = 0; i < size; i++) {
      if (i > 0) out.push(',');
      this.write(out, dim + 1);
    }
    out.push(']');
  }

  private value(i: number): string {
    const { dtype, data } = this.tensor;
    switch (dtype) {
      case 'float32':
        return formatFloat32((data as Float32Array)[i]!);
      case 'int32':
      case 'uint8':
        return String((data as Int32Array | Uint8Array)[i]);
      case 'int64':
        return String((data as BigInt64Array)[i]);
      case 'bool':
        return (data as Uint8Array)[i] ? 'true' : 'false';
      case 'string': {
        const s = (data as string[])[i]!;
        return this.asBytes ? `{"b64":${JSON.stringify(Buffer.from(s, 'latin1').toString('base64'))}}` : JSON.stringify(s);
      }
      default:
        throw unsupportedDType('output', dtype);
    }
  }
}

/**
 * The shortest of 6 or 9 significant digits that reads back as the same float32, with `.0` on whole numbers
 * (TF Serving's WriteDecimal), so a client parsing the JSON gets exactly the float the model produced.
 * Non-finite values are written as the `NaN` / `Infinity` tokens TF Serving emits.
 */
export function formatFloat32(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  let text = String(Number(value.toPrecision(6)));
  if (Math.fround(Number(text)) !== value) text = String(Number(value.toPrecision(9)));
  if (!text.includes('.') && !text.includes('e')) text += '.0';
  return text;
}
