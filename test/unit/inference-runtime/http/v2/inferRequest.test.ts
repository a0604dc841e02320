import { expect } from 'chai';
import fc from 'fast-check';
import type { ModelSignature } from '../../../../../inference-runtime/backends/backend.js';
import { DomainError, InvalidInput, PayloadTooLarge } from '../../../../../inference-runtime/core/errors.js';
import { V2_DATATYPES, type V2Datatype } from '../../../../../inference-runtime/http/v2/datatypes.js';
import { decodeInferRequest } from '../../../../../inference-runtime/http/v2/inferRequest.js';
import { inferenceHeaderLength } from '../../../../../inference-runtime/http/v2/inferenceHeader.js';
import { encodeInferResponse } from '../../../../../inference-runtime/http/v2/inferResponse.js';

const DATATYPES = Object.keys(V2_DATATYPES) as V2Datatype[];

/** A model with one [-1, 3] input of every datatype, named after it. */
const SIGNATURE: ModelSignature = {
  inputs: DATATYPES.map((d) => ({ name: d, dtype: V2_DATATYPES[d].dtype, shape: [-1, 3] })),
  outputs: [{ name: 'y', dtype: 'float32', shape: [-1, 3] }],
};
const MODEL = { name: 'm', signature: SIGNATURE };
const MAX_ROWS = 64;

function framed(header: object, ...binary: Uint8Array[]): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...binary]), headerLength: json.length };
}

function decode(body: Buffer, headerLength?: number) {
  return decodeInferRequest(body, headerLength, MODEL, MAX_ROWS);
}

function rejection(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a rejection');
}

/** Random elements of a datatype as numbers/strings/booleans, and their binary encoding. */
function elements(datatype: V2Datatype, count: number): fc.Arbitrary<{ json: unknown[]; binary: Uint8Array }> {
  const { bytes } = V2_DATATYPES[datatype];
  if (datatype === 'BYTES') {
    return fc.array(fc.string({ unit: 'grapheme', maxLength: 6 }), { minLength: count, maxLength: count }).map((json) => {
      const parts = json.map((s) => Buffer.from(s, 'utf8'));
      const binary = Buffer.alloc(parts.reduce((n, p) => n + 4 + p.length, 0));
      let o = 0;
      for (const p of parts) {
        binary.writeUInt32LE(p.length, o);
        p.copy(binary, o + 4);
        o += 4 + p.length;
      }
      return { json, binary };
    });
  }
  return fc.uint8Array({ minLength: count * bytes, maxLength: count * bytes }).map((binary) => ({ json: [], binary }));
}

describe('V2 inference requests: the binary tensor data extension', () => {
  it('decodes binary inputs of every datatype to exactly the bytes sent', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DATATYPES).chain((datatype) => fc.integer({ min: 0, max: 4 }).chain((rows) => elements(datatype, rows * 3).map((e) => ({ datatype, rows, ...e })))),
        ({ datatype, rows, binary }) => {
          const { body, headerLength } = framed({ inputs: [{ name: datatype, datatype, shape: [rows, 3], parameters: { binary_data_size: binary.length } }] }, binary);
          const tensor = decode(body, headerLength).inputs[datatype]!;
          expect(tensor.dtype).to.equal(V2_DATATYPES[datatype].dtype);
          expect(tensor.shape).to.deep.equal([rows, 3]);
          // Encoding the decoded tensor gives the bytes back (BOOL: any non-zero byte reads as true).
          const again = encodeInferResponse({ name: 'm', version: '1' }, undefined, { y: tensor }, [{ name: 'y', binary: true }]);
          const bytes = again.body.subarray(again.headerLength);
          const expected = datatype === 'BOOL' ? Uint8Array.from(binary, (b) => (b ? 1 : 0)) : binary;
          expect(Buffer.compare(bytes, Buffer.from(expected))).to.equal(0);
        },
      ),
    );
  });

  it('never fails with anything but a 4xx on arbitrary framings (header length, sizes, bytes)', () => {
    const header = fc.record(
      {
        id: fc.oneof(fc.string(), fc.integer()),
        parameters: fc.dictionary(fc.constantFrom('binary_data_output', 'x'), fc.oneof(fc.boolean(), fc.integer(), fc.string())),
        inputs: fc.array(
          fc.record(
            {
              name: fc.oneof(fc.constantFrom(...DATATYPES), fc.string()),
              datatype: fc.oneof(fc.constantFrom(...DATATYPES), fc.string()),
              shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 2 ** 40 }), { maxLength: 5 }), fc.array(fc.nat(4), { maxLength: 3 }), fc.anything()),
              parameters: fc.oneof(fc.record({ binary_data_size: fc.oneof(fc.integer({ min: -5, max: 64 }), fc.double(), fc.string()) }), fc.anything()),
              data: fc.oneof(fc.array(fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.string()), { maxLength: 12 }), fc.anything()),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 4 },
        ),
        outputs: fc.oneof(fc.array(fc.record({ name: fc.oneof(fc.constant('y'), fc.string()), parameters: fc.anything() }, { requiredKeys: [] }), { maxLength: 3 }), fc.anything()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 96 }), fc.option(fc.integer({ min: -4, max: 400 })), (h, binary, lengthDelta) => {
        const json = Buffer.from(JSON.stringify(h));
        const body = Buffer.concat([json, binary]);
        const headerLength = lengthDelta === null ? (binary.length ? json.length : undefined) : Math.max(0, json.length + lengthDelta);
        try {
          decode(body, headerLength);
        } catch (error) {
          expect(error, String(error)).to.satisfy((e: unknown) => e instanceof InvalidInput || e instanceof PayloadTooLarge);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a malformed Inference-Header-Content-Length: negative, non-numeric, fractional, repeated', () => {
    for (const value of ['-1', 'abc', '1.5', '', '12, 12', '0x10', '1e3', '99999999999999999999']) {
      expect(() => inferenceHeaderLength(value), value).to.throw(InvalidInput, 'Inference-Header-Content-Length');
    }
    expect(() => inferenceHeaderLength(['10', '10'])).to.throw(InvalidInput);
    expect(inferenceHeaderLength(' 42 ')).to.equal(42);
    expect(inferenceHeaderLength(undefined)).to.equal(undefined);
  });

  it('refuses a header length beyond the body', () => {
    const { body, headerLength } = framed({ inputs: [] });
    expect(rejection(() => decode(body, headerLength + 1)).message).to.match(/Inference-Header-Content-Length is \d+ but the body has only \d+ bytes/);
  });

  it('refuses binary sizes that do not add up to the binary part', () => {
    const four = new Uint8Array(12);
    const short = framed({ inputs: [{ name: 'FP32', datatype: 'FP32', shape: [1, 3], parameters: { binary_data_size: 12 } }] }, four.subarray(0, 8));
    expect(rejection(() => decode(short.body, short.headerLength)).message).to.contain('runs past the end of the body');
    const extra = framed({ inputs: [{ name: 'FP32', datatype: 'FP32', shape: [1, 3], parameters: { binary_data_size: 12 } }] }, four, new Uint8Array(5));
    expect(rejection(() => decode(extra.body, extra.headerLength)).message).to.contain("17 bytes of binary data follow the JSON part, but the inputs' binary_data_size add up to 12");
    const mismatch = framed({ inputs: [{ name: 'FP32', datatype: 'FP32', shape: [1, 3], parameters: { binary_data_size: 8 } }] }, four.subarray(0, 8));
    expect(rejection(() => decode(mismatch.body, mismatch.headerLength)).message).to.contain('binary_data_size is 8 bytes but shape [1, 3] of FP32 needs 12');
  });

  it('refuses BYTES length prefixes that overrun their element or leave bytes over', () => {
    const overrun = Buffer.alloc(8);
    overrun.writeUInt32LE(1000, 0);
    const a = framed({ inputs: [{ name: 'BYTES', datatype: 'BYTES', shape: [0, 3], parameters: { binary_data_size: 8 } }] }, overrun);
    expect(rejection(() => decode(a.body, a.headerLength)).message).to.contain('remain after the 0 BYTES elements');
    const elements = Buffer.alloc(12);
    elements.writeUInt32LE(1000, 0);
    const b = framed({ inputs: [{ name: 'BYTES', datatype: 'BYTES', shape: [1, 3], parameters: { binary_data_size: 12 } }] }, elements);
    expect(rejection(() => decode(b.body, b.headerLength)).message).to.contain('BYTES element 0 claims 1000 bytes but only 8 remain');
    const c = framed({ inputs: [{ name: 'BYTES', datatype: 'BYTES', shape: [1, 3], parameters: { binary_data_size: 4 } }] }, Buffer.alloc(4));
    expect(rejection(() => decode(c.body, c.headerLength)).message).to.contain('cannot hold 3 elements');
  });

  it('names both datatypes when the request does not match the model', () => {
    const { body } = framed({ inputs: [{ name: 'FP32', datatype: 'INT32', shape: [1, 3], data: [1, 2, 3] }] });
    const error = rejection(() => decode(body));
    expect(error.status).to.equal(400);
    expect(error.message).to.equal("inference input 'FP32' data-type is 'INT32', but model 'm' expects 'FP32'");
  });

  it('checks JSON data against the shape and the datatype', () => {
    const cases: Array<[object, string]> = [
      [{ name: 'FP32', datatype: 'FP32', shape: [1, 3], data: [1, 2] }, 'fewer values than its shape'],
      [{ name: 'FP32', datatype: 'FP32', shape: [1, 3], data: [[1, 2], [3, 4]] }, 'more values than its shape'],
      [{ name: 'UINT8', datatype: 'UINT8', shape: [1, 3], data: [1, 2, 256] }, '256 is not a UINT8 value'],
      [{ name: 'INT64', datatype: 'INT64', shape: [1, 3], data: [1, 2, 2 ** 60] }, 'is not a INT64 value'],
      [{ name: 'BOOL', datatype: 'BOOL', shape: [1, 3], data: [1, 0, 1] }, 'is not a BOOL value'],
      [{ name: 'FP16', datatype: 'FP16', shape: [1, 3], data: [1, 2, 70000] }, '70000 is not a FP16 value'],
      [{ name: 'FP32', datatype: 'FP32', shape: [2 ** 20, 2 ** 20, 3], data: [] }, 'at most 64 rows are accepted per request'],
      [{ name: 'FP32', datatype: 'FP32', shape: [1, 2 ** 40, 3], data: [] }, 'more than a'],
      [{ name: 'FP32', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3], parameters: { binary_data_size: 12 } }, "both 'data' and parameters.binary_data_size"],
      [{ name: 'FP32', datatype: 'FP32', shape: [1, 3] }, "neither 'data' nor parameters.binary_data_size"],
      [{ name: 'nope', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }, "unexpected inference input 'nope' for model 'm'"],
      [{ name: 'FP32', datatype: 'FLOAT', shape: [1, 3], data: [1, 2, 3] }, 'datatype "FLOAT" is not one of'],
    ];
    for (const [input, message] of cases) {
      const error = rejection(() => decode(Buffer.from(JSON.stringify({ inputs: [input] }))));
      expect(error.message, JSON.stringify(input)).to.contain(message);
      expect(error.status).to.be.oneOf([400, 413]);
    }
  });

  it('bounds the JSON part like every JSON input: nesting depth, and a JSON object', () => {
    const deep = `{"inputs":[{"name":"FP32","datatype":"FP32","shape":[1,3],"data":${'['.repeat(100)}1${']'.repeat(100)}}]}`;
    expect(rejection(() => decode(Buffer.from(deep))).message).to.contain('nested deeper than 64');
    expect(rejection(() => decode(Buffer.from('[1,2]'))).message).to.contain('must be a JSON object');
    expect(rejection(() => decode(Buffer.from('{"inputs":'))).message).to.contain('is not valid JSON');
  });

  it('takes the requested outputs with their binary_data flags over binary_data_output', () => {
    const body = Buffer.from(
      JSON.stringify({ id: 'r1', parameters: { binary_data_output: true }, inputs: [{ name: 'FP32', datatype: 'FP32', shape: [1, 3], data: [[1, 2, 3]] }] }),
    );
    expect(decode(body)).to.deep.include({ id: 'r1', outputs: [{ name: 'y', binary: true }] });
    const listed = Buffer.from(
      JSON.stringify({ parameters: { binary_data_output: true }, inputs: [{ name: 'FP32', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }], outputs: [{ name: 'y', parameters: { binary_data: false } }] }),
    );
    expect(decode(listed).outputs).to.deep.equal([{ name: 'y', binary: false }]);
    const unknown = Buffer.from(JSON.stringify({ inputs: [{ name: 'FP32', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }], outputs: [{ name: 'z' }] }));
    expect(rejection(() => decode(unknown)).message).to.equal("unexpected inference output 'z' for model 'm'");
  });
});
