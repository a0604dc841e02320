import type { ModelSignature } from '../../backends/backend.js';
import type { NamedTensors } from '../../core/tensor.js';
import { Ch, FloatSink, flatBody, nativeReadLists, notFlat, readLists, rowCapacity, type NativeReadLists, type Scanner } from '../floatLists.js';
import { MAX_RANK, type V2InferRequest } from './inferRequest.js';

/**
 * The fast path of a V2 `/infer` JSON body whose inputs are all FP32 lists of numbers and which asks for
 * nothing else: `{"id": "...", "inputs": [{"name": "...", "shape": [...], "datatype": "FP32", "data": [...]}]}`.
 * The data are read by the lists scanner (../floatLists.ts) straight into a Float32Array, nested or flat.
 *
 * It answers only what it is sure of, and undefined for anything else, so that the body takes the general
 * path (`decodeInferRequest`), which has the one set of rules and error messages: any other key (`outputs`,
 * `parameters`), another datatype, an input the model does not have or given twice, a shape that is not
 * plain non-negative integers (at most MAX_RANK of them), more rows than `maxRows` (the general path's
 * 413), data whose count is not the shape's, and whatever the scanner does not read. The answer is then the general path's for the same body:
 * the same tensors, and every output requested as JSON.
 */
export function parseFlatInfer(
  body: Uint8Array,
  model: { signature: ModelSignature },
  maxRows: number,
  native: NativeReadLists | null = nativeReadLists(),
): V2InferRequest | undefined {
  const { signature } = model;
  return flatBody(body, (s) => {
    let id: string | undefined;
    let inputs: NamedTensors | undefined;
    s.object((key) => {
      if (key === 'id') id = s.plainString();
      else if (key === 'inputs') inputs = readInputs(s, signature, body.length, maxRows, native);
      else throw notFlat;
    });
    if (!inputs) throw notFlat;
    return { inputs, outputs: signature.outputs.map((o) => ({ name: o.name, binary: false })), ...(id !== undefined ? { id } : {}) };
  });
}

function readInputs(s: Scanner, signature: ModelSignature, bodyBytes: number, maxRows: number, native: NativeReadLists | null): NamedTensors {
  const inputs: NamedTensors = {};
  // Room for the data before its name is known: one row of the model's input when it has one.
  const capacity = signature.inputs.length === 1 ? rowCapacity(signature.inputs[0]!, bodyBytes) : Math.min(1 << 12, bodyBytes >> 1);
  s.expect(Ch.OpenBracket);
  for (;;) {
    let name: string | undefined;
    let datatype: string | undefined;
    let shape: number[] | undefined;
    let data: Float32Array | undefined;
    s.object((key) => {
      if (key === 'name') name = s.plainString();
      else if (key === 'datatype') datatype = s.plainString();
      else if (key === 'shape') shape = s.integers(MAX_RANK);
      else if (key === 'data') {
        const sink = new FloatSink(capacity);
        readLists(s, sink, Number.POSITIVE_INFINITY, native);
        data = sink.finish();
      } else throw notFlat;
    });
    if (name === undefined || Object.hasOwn(inputs, name) || datatype !== 'FP32' || !shape || !data) throw notFlat;
    const spec = signature.inputs.find((i) => i.name === name);
    if (spec?.dtype !== 'float32') throw notFlat;
    if (shape.length > 0 && shape[0]! > maxRows) throw notFlat;
    let count = 1;
    for (const d of shape) count *= d;
    if (count !== data.length) throw notFlat;
    inputs[name] = { dtype: 'float32', shape, data };
    const c = s.peek();
    s.pos++;
    if (c === Ch.CloseBracket) return inputs;
    if (c !== Ch.Comma) throw notFlat;
  }
}
