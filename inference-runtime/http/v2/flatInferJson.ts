import type { ModelSignature } from '../../backends/backend.js';
import type { NamedTensors } from '../../core/tensor.js';
import { FloatSink, flatBody, nativeReadLists, notFlat, readLists, rowCapacity, type NativeReadLists, type Scanner } from '../floatLists.js';
import { MAX_RANK, type V2InferRequest } from './inferRequest.js';

/**
 * The fast path of a V2 `/infer` JSON body whose inputs are all FP32 lists of numbers:
 * `{"id": "...", "inputs": [{"name": "...", "shape": [...], "datatype": "FP32", "data": [...]}], ...}`, with
 * the keys the clients add beside them (tritonclient's `parameters.binary_data_output` and `outputs` with
 * `parameters.binary_data`, KServe's `model_name`). The data are read by the lists scanner (../floatLists.ts)
 * straight into a Float32Array, nested or flat.
 *
 * It answers only what it is sure of, and undefined for anything else, so that the body takes the general
 * path (`decodeInferRequest`), which has the one set of rules and error messages: any other key or parameter,
 * another datatype, an input the model does not have or given twice, a shape that is not plain non-negative
 * integers (at most MAX_RANK of them), more rows than `maxRows` (the general path's 413), data whose count is
 * not the shape's, an output the model does not have or asked twice, and whatever the scanner does not read.
 * The answer is then the general path's for the same body.
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
    let binaryByDefault = false;
    let asked: AskedOutput[] | undefined;
    s.object((key) => {
      if (key === 'id') id = s.plainString();
      else if (key === 'model_name' || key === 'model_version') s.plainString(); // not read by the general path either
      else if (key === 'inputs') inputs = readInputs(s, signature, body.length, maxRows, native);
      else if (key === 'parameters') {
        s.object((parameter) => {
          if (parameter !== 'binary_data_output') throw notFlat;
          binaryByDefault = s.boolean();
        });
      } else if (key === 'outputs') asked = readOutputs(s, signature);
      else throw notFlat;
    });
    if (!inputs) throw notFlat;
    const requested: AskedOutput[] = asked ?? signature.outputs.map((o) => ({ name: o.name }));
    const outputs = requested.map((o) => ({ name: o.name, binary: o.binary ?? binaryByDefault }));
    return { inputs, outputs, ...(id !== undefined ? { id } : {}) };
  });
}

/** An output the body asks for, with its own `binary_data` when it sets one. */
interface AskedOutput {
  name: string;
  binary?: boolean;
}

/** The requested outputs: names of the model's outputs, each once, and the binary_data each may set. */
function readOutputs(s: Scanner, signature: ModelSignature): AskedOutput[] {
  const asked: AskedOutput[] = [];
  s.list(() => {
    let name: string | undefined;
    let binary: boolean | undefined;
    s.object((key) => {
      if (key === 'name') name = s.plainString();
      else if (key === 'parameters') {
        s.object((parameter) => {
          if (parameter !== 'binary_data') throw notFlat;
          binary = s.boolean();
        });
      } else throw notFlat;
    });
    if (name === undefined || !signature.outputs.some((o) => o.name === name) || asked.some((o) => o.name === name)) throw notFlat;
    asked.push({ name, binary });
  });
  return asked;
}

function readInputs(s: Scanner, signature: ModelSignature, bodyBytes: number, maxRows: number, native: NativeReadLists | null): NamedTensors {
  const inputs: NamedTensors = {};
  // Room for the data before its name is known: one row of the model's input when it has one.
  const capacity = signature.inputs.length === 1 ? rowCapacity(signature.inputs[0]!, bodyBytes) : Math.min(1 << 12, bodyBytes >> 1);
  s.list(() => {
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
  });
  return inputs;
}
