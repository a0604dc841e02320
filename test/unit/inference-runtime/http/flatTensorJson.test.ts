import { expect } from 'chai';
import fc from 'fast-check';
import type { TensorSpec } from '../../../../inference-runtime/core/tensor.js';
import { parseFlatPredict } from '../../../../inference-runtime/http/tfserving/flatTensorJson.js';
import { parsePredictRequest, type PredictRequest } from '../../../../inference-runtime/http/tfserving/jsonTensor.js';
import { parseTfServingJson } from '../../../../inference-runtime/http/tfserving/jsonText.js';

const image: TensorSpec = { name: 'input_1:0', dtype: 'float32', shape: [-1, 64, 64, 1] };
const MAX_ROWS = 64;

/** What the general path makes of the body: the request, or the error it answers with. */
function general(text: string, spec: TensorSpec = image): PredictRequest | Error {
  try {
    return parsePredictRequest(parseTfServingJson(text), [spec], Buffer.byteLength(text), MAX_ROWS);
  } catch (error) {
    return error as Error;
  }
}

function plain(request: PredictRequest): unknown {
  const t = request.inputs[image.name]!;
  return { format: request.format, signatureName: request.signatureName, shape: t.shape, dtype: t.dtype, data: Array.from(t.data as Float32Array) };
}

/** Nested lists of one shape, the numbers as JSON writes doubles and as clients write float32. */
const floats = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true, min: -3.4e38, max: 3.4e38 }), fc.float({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: -1000, max: 1000 }));
const nested = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }).chain((shape) => {
  const count = shape.reduce((a, d) => a * d, 1);
  return fc.array(floats, { minLength: count, maxLength: count }).map((values) => {
    let k = 0;
    const build = (level: number): unknown => (level === shape.length ? values[k++] : Array.from({ length: shape[level]! }, () => build(level + 1)));
    return build(0);
  });
});

describe('TF Serving :predict, flat float reader', () => {
  it('reads well-formed bodies into the same tensor as the general path, whatever the numbers and spacing', () => {
    fc.assert(
      fc.property(nested, fc.constantFrom('instances', 'inputs'), fc.boolean(), fc.boolean(), (value, key, spaced, signature) => {
        const body = { ...(signature ? { signature_name: 'serving_default' } : {}), [key]: value };
        const text = JSON.stringify(body, null, spaced ? 1 : undefined);
        const fast = parseFlatPredict(Buffer.from(text), [image], MAX_ROWS);
        const slow = general(text);
        if (slow instanceof Error) {
          // Only the rows limit can refuse a well-formed body; the reader leaves that to the general path.
          expect(fast).to.equal(undefined);
          return;
        }
        expect(fast, text.slice(0, 80)).to.not.equal(undefined);
        expect(plain(fast!)).to.deep.equal(plain(slow));
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with the general path or steps aside on mangled bodies: never a different tensor, never a throw', () => {
    fc.assert(
      fc.property(nested, fc.constantFrom('instances', 'inputs'), fc.nat(), fc.nat(), fc.constantFrom('', '[', ']', ',', '{', '}', '"', 'NaN', '-', '.', 'e', '1', ' ', '[]', '"b64"', '\\', '\u00e9', '1e999', '0.1e-400'), (value, key, a, b, insert) => {
        const text = JSON.stringify({ [key]: value });
        const [from, to] = [a % (text.length + 1), b % (text.length + 1)].sort((x, y) => x - y);
        const mangled = text.slice(0, from) + insert + text.slice(to);
        const fast = parseFlatPredict(Buffer.from(mangled), [image], MAX_ROWS);
        if (fast === undefined) return;
        const slow = general(mangled);
        expect(slow, mangled).to.not.be.instanceOf(Error);
        expect(plain(fast)).to.deep.equal(plain(slow as PredictRequest));
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves ragged lists, NaN, out-of-range numbers, other keys and other input types to the general path', () => {
    const cases = [
      '{"instances": [[1, 2], [3]]}',
      '{"instances": [[1, 2], 3]}',
      '{"instances": [NaN]}',
      '{"instances": [1e39]}',
      '{"instances": []}',
      '{"instances": [[]]}',
      '{"instances": [1], "inputs": [1]}',
      '{"instances": [1], "instances": [2]}',
      '{"instances": [1], "other": 1}',
      '{"signature_name": "other", "instances": [1]}',
      '{"instances": [{"b64": "AAAA"}]}',
      '{"instances": [01]}',
      '{"instances": [1.]}',
      '{"instances": [1]} x',
      '{"inputs": 1}',
    ];
    for (const text of cases) expect(parseFlatPredict(Buffer.from(text), [image], MAX_ROWS), text).to.equal(undefined);
    expect(parseFlatPredict(Buffer.from('{"instances": [1]}'), [{ ...image, dtype: 'int32' }], MAX_ROWS)).to.equal(undefined);
  });

  it('steps aside once the rows exceed the limit, without reading the rest, so the general path answers 413', () => {
    const rows = JSON.stringify({ instances: Array.from({ length: MAX_ROWS + 1 }, () => [0.5]) });
    expect(parseFlatPredict(Buffer.from(rows), [image], MAX_ROWS)).to.equal(undefined);
    expect(general(rows)).to.be.instanceOf(Error).with.property('message').that.matches(/at most 64 rows/);
    const atLimit = JSON.stringify({ instances: Array.from({ length: MAX_ROWS }, () => [0.5]) });
    expect(parseFlatPredict(Buffer.from(atLimit), [image], MAX_ROWS)?.inputs[image.name]?.shape).to.deep.equal([MAX_ROWS, 1]);
  });

  it('reads long numbers and digits without stack or precision trouble', () => {
    const long = `{"instances": [${'1'.repeat(38)}, 0.${'3'.repeat(5000)}, ${'0'.repeat(1)}.000000000000000000000000000001e-5]}`;
    const fast = parseFlatPredict(Buffer.from(long), [image], MAX_ROWS);
    expect(plain(fast!)).to.deep.equal(plain(general(long) as PredictRequest));
    // Around the float32 rounding boundary between 1 and the next float32 (1 + 2^-24): either side of it.
    const ties = '{"instances": [1.0000000596046448, 1.0000000596046446, 1.00000005960464477539, 1.0000000596046447753906250, -1.0000000596046448]}';
    expect(plain(parseFlatPredict(Buffer.from(ties), [image], MAX_ROWS)!)).to.deep.equal(plain(general(ties) as PredictRequest));
    const deep = `{"instances": ${'['.repeat(100_000)}`;
    expect(parseFlatPredict(Buffer.from(deep), [image], MAX_ROWS)).to.equal(undefined);
  });
});
