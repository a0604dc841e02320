import { expect } from 'chai';
import fc from 'fast-check';
import { INFERENCE_HEADER, decodeInferResponse, decodeTensor, encodeInferRequest, encodeTensor, type V2Datatype, type V2Input } from '../../../../clients/typescript/src/v2Tensors.js';

/** An arbitrary tensor of each datatype, its elements in the form a binary output decodes to. */
const tensor: fc.Arbitrary<{ datatype: V2Datatype; data: V2Input['data'] }> = fc.oneof(
  fc.array(fc.float({ noNaN: true }), { maxLength: 40 }).map((a) => ({ datatype: 'FP32' as const, data: new Float32Array(a) })),
  fc.array(fc.double({ noNaN: true }), { maxLength: 40 }).map((a) => ({ datatype: 'FP64' as const, data: new Float64Array(a) })),
  fc.array(fc.integer({ min: -128, max: 127 }), { maxLength: 40 }).map((a) => ({ datatype: 'INT8' as const, data: new Int8Array(a) })),
  fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 40 }).map((a) => ({ datatype: 'INT16' as const, data: new Int16Array(a) })),
  fc.array(fc.integer(), { maxLength: 40 }).map((a) => ({ datatype: 'INT32' as const, data: new Int32Array(a) })),
  fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 40 }).map((a) => ({ datatype: 'INT64' as const, data: new BigInt64Array(a) })),
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }).map((a) => ({ datatype: 'UINT8' as const, data: new Uint8Array(a) })),
  fc.array(fc.integer({ min: 0, max: 65535 }), { maxLength: 40 }).map((a) => ({ datatype: 'UINT16' as const, data: new Uint16Array(a) })),
  fc.array(fc.integer({ min: 0, max: 65535 }), { maxLength: 40 }).map((a) => ({ datatype: 'FP16' as const, data: new Uint16Array(a) })),
  fc.array(fc.nat(), { maxLength: 40 }).map((a) => ({ datatype: 'UINT32' as const, data: new Uint32Array(a) })),
  fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { maxLength: 40 }).map((a) => ({ datatype: 'UINT64' as const, data: new BigUint64Array(a) })),
  fc.array(fc.boolean(), { maxLength: 40 }).map((a) => ({ datatype: 'BOOL' as const, data: a })),
  fc.array(fc.string({ unit: 'grapheme' }), { maxLength: 20 }).map((a) => ({ datatype: 'BYTES' as const, data: a })),
);

describe('V2 binary tensor data (client side)', () => {
  it('decodes what it encodes, for every datatype', () => {
    fc.assert(
      fc.property(tensor, ({ datatype, data }) => {
        const bytes = encodeTensor({ name: 'x', shape: [data.length], datatype, data });
        expect(decodeTensor('x', datatype, [data.length], bytes)).to.deep.equal(data);
      }),
    );
  });

  it('frames a request as its JSON part then the inputs\' bytes in order, and a response back into outputs', () => {
    fc.assert(
      fc.property(fc.array(tensor, { minLength: 1, maxLength: 4 }), (tensors) => {
        const inputs = tensors.map((t, i) => ({ name: `in${i}`, shape: [t.data.length], ...t }));
        const { body, headers, contentType } = encodeInferRequest(inputs, {});
        expect(contentType).to.equal('application/octet-stream');
        const bytes = body as Uint8Array;
        const length = Number(headers[INFERENCE_HEADER]);
        const header = JSON.parse(new TextDecoder().decode(bytes.subarray(0, length))) as { inputs: Array<{ parameters: { binary_data_size: number } }>; parameters: Record<string, unknown> };
        expect(header.parameters).to.deep.equal({ binary_data_output: true });
        // The server's answer has the same framing: read the inputs back as outputs.
        const response = { model_name: 'm', outputs: inputs.map((t, i) => ({ name: t.name, shape: t.shape, datatype: t.datatype, parameters: header.inputs[i]!.parameters })) };
        const decoded = decodeInferResponse(response, bytes.subarray(length));
        expect(decoded.outputs.map((o) => o.data)).to.deep.equal(inputs.map((t) => t.data));
      }),
    );
  });

  it('refuses framing that does not add up instead of guessing', () => {
    const output = (size: number) => ({ model_name: 'm', outputs: [{ name: 'y', shape: [2], datatype: 'FP32', parameters: { binary_data_size: size } }] });
    expect(() => decodeInferResponse(output(8), new Uint8Array(4))).to.throw(/runs past/);
    expect(() => decodeInferResponse(output(4), new Uint8Array(4))).to.throw(/4 bytes for 2 FP32/);
    expect(() => decodeInferResponse(output(8), new Uint8Array(12))).to.throw(/4 bytes after/);
    expect(() => decodeTensor('s', 'BYTES', [1], new Uint8Array([9, 0, 0, 0, 1]))).to.throw(/runs past/);
    expect(() => encodeTensor({ name: 'x', shape: [3], datatype: 'FP32', data: new Float32Array(2) })).to.throw(/2 elements for shape \[3\]/);
  });
});
