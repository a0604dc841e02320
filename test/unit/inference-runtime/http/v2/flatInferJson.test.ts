import { expect } from 'chai';
import fc from 'fast-check';
import type { ModelSignature } from '../../../../../inference-runtime/backends/backend.js';
import type { NativeReadLists } from '../../../../../inference-runtime/http/floatLists.js';
import { parseFlatInfer } from '../../../../../inference-runtime/http/v2/flatInferJson.js';
import { decodeInferRequest, type V2InferRequest } from '../../../../../inference-runtime/http/v2/inferRequest.js';
import { buildNativeReadLists } from '../../../../helpers/floatListsAddon.js';

/** Two FP32 inputs of different shapes and an INT32 one, which this path leaves to the general one. */
const SIGNATURE: ModelSignature = {
  inputs: [
    { name: 'a', dtype: 'float32', shape: [-1, 3] },
    { name: 'b', dtype: 'float32', shape: [-1, 2, 2] },
    { name: 'c', dtype: 'int32', shape: [-1, 2] },
  ],
  outputs: [
    { name: 'y', dtype: 'float32', shape: [-1, 3] },
    { name: 'z', dtype: 'float32', shape: [-1] },
  ],
};
const MODEL = { name: 'm', signature: SIGNATURE };
const MAX_ROWS = 8;

let native: NativeReadLists | null = null;

/**
 * The general path's answer: the body decoded as a header of its own length (the binary extension with no
 * binary part), which never takes the fast path.
 */
function general(text: string): V2InferRequest | Error {
  try {
    return decodeInferRequest(Buffer.from(text), Buffer.byteLength(text), MODEL, MAX_ROWS);
  } catch (error) {
    return error as Error;
  }
}

function plain(request: V2InferRequest): unknown {
  const inputs = Object.fromEntries(Object.entries(request.inputs).map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape, data: Array.from(t.data as Float32Array) }]));
  return { id: request.id, inputs, outputs: request.outputs };
}

/** The fast path with the native lists reader and with the JavaScript one: both must answer the same. */
function fast(text: string): V2InferRequest | undefined {
  const body = Buffer.from(text);
  const js = parseFlatInfer(body, MODEL, MAX_ROWS, null);
  const c = parseFlatInfer(body, MODEL, MAX_ROWS, native);
  expect(c === undefined ? undefined : plain(c), `native reader on ${text.slice(0, 120)}`).to.deep.equal(js === undefined ? undefined : plain(js));
  return js;
}

const floats = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true, min: -3.4e38, max: 3.4e38 }), fc.float({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: -1000, max: 1000 }));

/** One FP32 input of the signature: its rows, the data flat or nested by the shape. */
const fp32Input = fc.record({ name: fc.constantFrom('a', 'b'), rows: fc.integer({ min: 1, max: 3 }), nested: fc.boolean() }).chain(({ name, rows, nested }) => {
  const shape = name === 'a' ? [rows, 3] : [rows, 2, 2];
  const count = shape.reduce((n, d) => n * d, 1);
  return fc.array(floats, { minLength: count, maxLength: count }).map((values) => {
    let k = 0;
    const build = (level: number): unknown => (level === shape.length ? values[k++] : Array.from({ length: shape[level]! }, () => build(level + 1)));
    return { name, shape, datatype: 'FP32', data: nested ? build(0) : values };
  });
});

/** Requested outputs as tritonclient writes them: names of the model's outputs, each once, binary_data or not. */
const askedOutputs = fc.uniqueArray(
  fc.record({ name: fc.constantFrom('y', 'z'), binary: fc.option(fc.boolean()) }).map(({ name, binary }) => (binary === null ? { name } : { name, parameters: { binary_data: binary } })),
  { minLength: 1, maxLength: 2, selector: (o) => o.name },
);

/**
 * A request of one or both FP32 inputs, with what clients add beside them (an id, KServe's model_name,
 * tritonclient's parameters and outputs), its keys in any order.
 */
const requests = fc
  .record({
    inputs: fc.uniqueArray(fp32Input, { minLength: 1, maxLength: 2, selector: (i) => i.name }),
    id: fc.option(fc.stringMatching(/^[a-z0-9-]{0,12}$/)),
    modelName: fc.option(fc.constant('m')),
    binaryByDefault: fc.option(fc.boolean()),
    outputs: fc.option(askedOutputs),
    reversedKeys: fc.boolean(),
  })
  .map(({ inputs, id, modelName, binaryByDefault, outputs, reversedKeys }) => {
    const ordered = inputs.map((i) => (reversedKeys ? { data: i.data, datatype: i.datatype, shape: i.shape, name: i.name } : i));
    const members: [string, unknown][] = [
      ...(id === null ? [] : [['id', id] as [string, unknown]]),
      ...(modelName === null ? [] : [['model_name', modelName] as [string, unknown]]),
      ['inputs', ordered],
      ...(binaryByDefault === null ? [] : [['parameters', { binary_data_output: binaryByDefault }] as [string, unknown]]),
      ...(outputs === null ? [] : [['outputs', outputs] as [string, unknown]]),
    ];
    return Object.fromEntries(reversedKeys ? members.reverse() : members);
  });

describe('V2 /infer, the fast path of FP32 JSON inputs', function () {
  before(function () {
    // Without a C compiler there is no native reader to compare (CI installs one: .ci/run).
    const built = buildNativeReadLists();
    if (!built) this.skip();
    native = built;
  });

  it('reads well-formed requests to what the general path decodes, the requested outputs included', () => {
    fc.assert(
      fc.property(requests, fc.boolean(), (request, spaced) => {
        const text = JSON.stringify(request, null, spaced ? 2 : undefined);
        const answer = fast(text);
        const slow = general(text);
        expect(slow, text.slice(0, 120)).to.not.be.instanceOf(Error);
        expect(answer, text.slice(0, 120)).to.not.equal(undefined);
        expect(plain(answer!)).to.deep.equal(plain(slow as V2InferRequest));
      }),
      { numRuns: 500 },
    );
  });

  it("reads the bodies tritonclient and KServe's client send for FP32 inputs as JSON", () => {
    // As the clients wrote them for an input of [[1, 2, 3]] (tritonclient 2.x: without and with requested
    // outputs; kserve's InferenceRESTClient, protocol v2).
    const data = '"inputs":[{"name":"a","shape":[1,3],"datatype":"FP32","data":[1.0,2.0,3.0]}]';
    const bodies = [
      `{${data},"parameters":{"binary_data_output":true}}`,
      `{${data},"outputs":[{"name":"y","parameters":{"binary_data":false}}]}`,
      `{"id":"d86c0e56-de47-43c6-9ce6-19160473aa8b","model_name":"m",${data}}`,
    ];
    const outputs = [
      [
        { name: 'y', binary: true },
        { name: 'z', binary: true },
      ],
      [{ name: 'y', binary: false }],
      [
        { name: 'y', binary: false },
        { name: 'z', binary: false },
      ],
    ];
    bodies.forEach((text, i) => {
      const answer = fast(text);
      expect(answer, text).to.not.equal(undefined);
      expect(plain(answer!)).to.deep.equal(plain(general(text) as V2InferRequest));
      expect(answer!.outputs).to.deep.equal(outputs[i]);
      expect(Array.from(answer!.inputs.a!.data as Float32Array)).to.deep.equal([1, 2, 3]);
    });
  });

  it('agrees with the general path or steps aside on mangled requests: never other tensors, never a throw', () => {
    const inserts = ['', '[', ']', ',', '{', '}', '"', ':', 'NaN', '-', '.', 'e', '1', ' ', '[]', '{}', 'true', 'false', 'null', '"FP16"', '"INT32"', '"c"', '"a"', '"y"', '"outputs"', '"parameters"', '\\', '\u00e9', '1e999', '1.5'];
    fc.assert(
      fc.property(requests, fc.nat(), fc.nat(), fc.constantFrom(...inserts), (request, a, b, insert) => {
        const text = JSON.stringify(request);
        const [from, to] = [a % (text.length + 1), b % (text.length + 1)].sort((x, y) => x - y);
        const mangled = text.slice(0, from) + insert + text.slice(to);
        const answer = fast(mangled);
        if (answer === undefined) return;
        const slow = general(mangled);
        expect(slow, mangled).to.not.be.instanceOf(Error);
        expect(plain(answer)).to.deep.equal(plain(slow as V2InferRequest));
      }),
      { numRuns: 3000 },
    );
  });

  it('leaves to the general path what it does not read, which then answers its own 400 or 413', () => {
    const data3 = '"data": [1, 2, 3]';
    const cases: [string, RegExp | null][] = [
      [`{"inputs": [{"name": "a", "shape": [1, 3], "datatype": "FP32", ${data3}}], "outputs": []}`, null],
      [`{"inputs": [{"name": "a", "shape": [1, 3], "datatype": "FP32", ${data3}}], "outputs": [{"name": "w"}]}`, /unexpected inference output 'w'/],
      [`{"inputs": [{"name": "a", "shape": [1, 3], "datatype": "FP32", ${data3}}], "outputs": [{"name": "y"}, {"name": "y"}]}`, /requested twice/],
      [`{"inputs": [{"name": "a", "shape": [1, 3], "datatype": "FP32", ${data3}}], "outputs": [{"name": "y", "parameters": {"classification": 2}}]}`, /classification extension/],
      [`{"inputs": [{"name": "a", "shape": [1, 3], "datatype": "FP32", ${data3}}], "parameters": {"binary_data_output": 1}}`, /must be true or false/],
      [`{"inputs": [{"name": "a", "shape": [1, 3], "datatype": "FP32", ${data3}}], "parameters": {"sequence_id": 1}}`, null],
      [`{"inputs": [{"name": "a", "shape": [1, 3], "datatype": "FP32", ${data3}}], "model_name": 7}`, null],
      [`{"inputs": [{"name": "a", "shape": [1, 3], "datatype": "FP32", ${data3}, "parameters": {}}]}`, null],
      [`{"inputs": [{"name": "a", "shape": [1, 3], "datatype": "FP16", ${data3}}]}`, /data-type is 'FP16'/],
      [`{"inputs": [{"name": "c", "shape": [1, 2], "datatype": "INT32", "data": [1, 2]}]}`, null],
      [`{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", ${data3}}]}`, /unexpected inference input 'x'/],
      [`{"inputs": [{"name": "a", "shape": [1, 3], "datatype": "FP32", ${data3}}, {"name": "a", "shape": [1, 3], "datatype": "FP32", ${data3}}]}`, /given twice/],
      [`{"inputs": [{"name": "a", "shape": [1, 4], "datatype": "FP32", ${data3}}]}`, /fewer values than its shape/],
      [`{"inputs": [{"name": "a", "shape": [1.5, 3], "datatype": "FP32", ${data3}}]}`, /shape must be a list/],
      [`{"inputs": [{"name": "a", "shape": [9, 1], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6, 7, 8, 9]}]}`, /at most 8 rows/],
      [`{"inputs": [{"name": "a", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 1e39]}]}`, /is not a FP32 value/],
      [`{"inputs": [{"name": "a", "shape": [${Array(33).fill(1).join(', ')}], "datatype": "FP32", "data": [1]}]}`, /at most 32 non-negative integers/],
      [`{"inputs": []}`, /non-empty list/],
      [`{"id": 7, "inputs": [{"name": "a", "shape": [1, 3], "datatype": "FP32", ${data3}}]}`, /'id' must be a string/],
      [`{"inputs": [{"name": "a", "shape": [1, 3], "datatype": "FP32", ${data3}}]} []`, /./],
    ];
    for (const [text, error] of cases) {
      expect(fast(text), text).to.equal(undefined);
      const slow = general(text);
      if (error) expect(slow, text).to.be.instanceOf(Error).with.property('message').that.matches(error);
      else expect(slow, text).to.not.be.instanceOf(Error);
    }
  });

  it('is what decodeInferRequest answers for a JSON body', () => {
    const text = '{"id": "r1", "inputs": [{"name": "b", "shape": [1, 2, 2], "datatype": "FP32", "data": [[0.5, -1], [2, 3.25]]}]}';
    const decoded = decodeInferRequest(Buffer.from(text), undefined, MODEL, MAX_ROWS);
    expect(plain(decoded)).to.deep.equal(plain(fast(text)!));
    expect(plain(decoded)).to.deep.equal({
      id: 'r1',
      inputs: { b: { dtype: 'float32', shape: [1, 2, 2], data: [0.5, -1, 2, 3.25] } },
      outputs: [
        { name: 'y', binary: false },
        { name: 'z', binary: false },
      ],
    });
  });
});
