import type { ModelSignature } from '../../backends/backend.js';
import { InvalidInput } from '../../core/errors.js';
import { checkRowCount } from '../../core/rowLimit.js';
import type { NamedTensors, TensorSpec } from '../../core/tensor.js';
import { parseJsonInput, previewJson } from '../jsonInput.js';
import { tensorFromBinary } from './binaryData.js';
import { parseFlatInfer } from './flatInferJson.js';
import { V2_DATATYPE_OF, V2_DATATYPES, isV2Datatype } from './datatypes.js';
import { splitBody } from './inferenceHeader.js';
import { tensorFromJson } from './jsonData.js';

/** An output the client asked for, and whether it comes back in the binary part of the response. */
export interface RequestedOutput {
  name: string;
  binary: boolean;
}

/** An inference request of the Open Inference Protocol, decoded against the model it addresses. */
export interface V2InferRequest {
  id?: string;
  inputs: NamedTensors;
  outputs: RequestedOutput[];
}

type JsonObject = Record<string, unknown>;

/** No model here has a tensor of more dimensions; deeper shapes are refused before anything is computed from them. */
export const MAX_RANK = 32;

/**
 * Decodes a `/infer` body: the JSON request (the whole body, or its first `headerLength` bytes with the
 * binary tensor data extension) and each input's data, from its `data` list or from its `binary_data_size`
 * bytes of the binary part, in the order the inputs are listed. Every count is checked against the bytes
 * actually received before anything is allocated for it.
 */
export function decodeInferRequest(
  body: Buffer,
  headerLength: number | undefined,
  model: { name: string; signature: ModelSignature },
  maxRows: number,
): V2InferRequest {
  // FP32 inputs as lists of numbers, and nothing else: read without building the JSON (flatInferJson.ts).
  const fast = headerLength === undefined ? parseFlatInfer(body, model, maxRows) : undefined;
  if (fast) return fast;
  const { json, binary } = splitBody(body, headerLength);
  const request = parseJsonInput(json.toString('utf8'), 'the inference request');
  if (!isObject(request)) throw new InvalidInput(`the inference request must be a JSON object, got ${previewJson(request)}`);
  const id = optionalString(request, 'id', 'the inference request');
  const parameters = optionalObject(request, 'parameters', 'the inference request');
  const binaryByDefault = optionalBoolean(parameters, 'binary_data_output', "the request's parameters") ?? false;

  if (!Array.isArray(request.inputs) || request.inputs.length === 0) {
    throw new InvalidInput("the inference request must have 'inputs', a non-empty list of tensors");
  }
  const inputs: NamedTensors = {};
  let offset = 0;
  for (const [index, item] of request.inputs.entries()) {
    const where = `input ${index}`;
    if (!isObject(item)) throw new InvalidInput(`${where} must be an object with name, shape, datatype and data`);
    const name = requiredString(item, 'name', where);
    if (Object.hasOwn(inputs, name)) throw new InvalidInput(`input '${name}' is given twice`);
    const spec = findSpec(model.signature.inputs, name, () => `unexpected inference input '${name}' for model '${model.name}'`);
    const datatype = item.datatype;
    if (!isV2Datatype(datatype)) {
      throw new InvalidInput(`input '${name}': datatype ${previewJson(datatype)} is not one of ${Object.keys(V2_DATATYPES).join(', ')}`);
    }
    if (V2_DATATYPES[datatype].dtype !== spec.dtype) {
      throw new InvalidInput(`inference input '${name}' data-type is '${datatype}', but model '${model.name}' expects '${V2_DATATYPE_OF[spec.dtype]}'`);
    }
    const shape = shapeOf(item.shape, name);
    if (shape.length > 0) checkRowCount(shape[0]!, maxRows, `input '${name}'`);
    const count = elementCountWithin(shape, body.length, name);
    const binarySize = optionalSize(optionalObject(item, 'parameters', `input '${name}'`), name);
    const hasData = Object.hasOwn(item, 'data');
    if (binarySize !== undefined) {
      if (hasData) throw new InvalidInput(`input '${name}' has both 'data' and parameters.binary_data_size; send one of them`);
      if (binarySize > binary.length - offset) {
        throw new InvalidInput(
          `input '${name}': binary_data_size ${binarySize} runs past the end of the body (${binary.length - offset} bytes of binary data left after the header)`,
        );
      }
      inputs[name] = tensorFromBinary(name, datatype, shape, count, binary.subarray(offset, offset + binarySize));
      offset += binarySize;
    } else {
      if (!hasData) throw new InvalidInput(`input '${name}' has neither 'data' nor parameters.binary_data_size`);
      inputs[name] = tensorFromJson(name, datatype, shape, count, item.data);
    }
  }
  if (offset !== binary.length) {
    throw new InvalidInput(`${binary.length} bytes of binary data follow the JSON part, but the inputs' binary_data_size add up to ${offset}`);
  }
  return { inputs, outputs: requestedOutputs(request, model, binaryByDefault), ...(id !== undefined ? { id } : {}) };
}

function requestedOutputs(request: JsonObject, model: { name: string; signature: ModelSignature }, binaryByDefault: boolean): RequestedOutput[] {
  if (!Object.hasOwn(request, 'outputs')) return model.signature.outputs.map((o) => ({ name: o.name, binary: binaryByDefault }));
  if (!Array.isArray(request.outputs)) throw new InvalidInput("'outputs' must be a list of requested outputs");
  const seen = new Set<string>();
  return request.outputs.map((item: unknown, index) => {
    const where = `requested output ${index}`;
    if (!isObject(item)) throw new InvalidInput(`${where} must be an object with a name`);
    const name = requiredString(item, 'name', where);
    findSpec(model.signature.outputs, name, () => `unexpected inference output '${name}' for model '${model.name}'`);
    if (seen.has(name)) throw new InvalidInput(`output '${name}' is requested twice`);
    seen.add(name);
    const parameters = optionalObject(item, 'parameters', `output '${name}'`);
    if (parameters && Object.hasOwn(parameters, 'classification')) {
      throw new InvalidInput(`output '${name}': the classification extension is not supported; request the output tensor itself`);
    }
    return { name, binary: optionalBoolean(parameters, 'binary_data', `output '${name}' parameters`) ?? binaryByDefault };
  });
}

function findSpec(specs: readonly TensorSpec[], name: string, message: () => string): TensorSpec {
  const spec = specs.find((s) => s.name === name);
  if (!spec) throw new InvalidInput(message());
  return spec;
}

function shapeOf(value: unknown, name: string): number[] {
  if (!Array.isArray(value) || value.length > MAX_RANK || !value.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new InvalidInput(`input '${name}': shape must be a list of at most ${MAX_RANK} non-negative integers, got ${previewJson(value)}`);
  }
  return value as number[];
}

/**
 * Elements of a shape, refused when the request cannot hold them: every element takes at least a byte of the
 * body (a JSON value, a binary element, a BYTES length), so a larger count is a lie that must not size an
 * allocation.
 */
function elementCountWithin(shape: readonly number[], bodyBytes: number, name: string): number {
  let count = 1;
  for (const d of shape) count *= d;
  if (count > bodyBytes) {
    throw new InvalidInput(`input '${name}': shape [${shape.join(', ')}] claims ${count} elements, more than a ${bodyBytes}-byte request can carry`);
  }
  return count;
}

function optionalSize(parameters: JsonObject | undefined, name: string): number | undefined {
  if (!parameters || !Object.hasOwn(parameters, 'binary_data_size')) return undefined;
  const size = parameters.binary_data_size;
  if (!Number.isSafeInteger(size) || (size as number) < 0) {
    throw new InvalidInput(`input '${name}': binary_data_size must be a non-negative integer, got ${previewJson(size)}`);
  }
  return size as number;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requiredString(object: JsonObject, key: string, where: string): string {
  const value = object[key];
  if (typeof value !== 'string') throw new InvalidInput(`${where}: '${key}' must be a string, got ${previewJson(value)}`);
  return value;
}

function optionalString(object: JsonObject, key: string, where: string): string | undefined {
  return Object.hasOwn(object, key) ? requiredString(object, key, where) : undefined;
}

function optionalObject(object: JsonObject, key: string, where: string): JsonObject | undefined {
  if (!Object.hasOwn(object, key)) return undefined;
  const value = object[key];
  if (!isObject(value)) throw new InvalidInput(`${where}: '${key}' must be an object, got ${previewJson(value)}`);
  return value;
}

function optionalBoolean(object: JsonObject | undefined, key: string, where: string): boolean | undefined {
  if (!object || !Object.hasOwn(object, key)) return undefined;
  const value = object[key];
  if (typeof value !== 'boolean') throw new InvalidInput(`${where}: '${key}' must be true or false, got ${previewJson(value)}`);
  return value;
}
