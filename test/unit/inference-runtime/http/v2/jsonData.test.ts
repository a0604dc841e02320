import { expect } from 'chai';
import fc from 'fast-check';
import { V2_DATATYPES, type V2Datatype } from '../../../../../inference-runtime/http/v2/datatypes.js';
import { fromFloat16Bits, toFloat16Bits } from '../../../../../inference-runtime/http/v2/float16.js';
import { jsonDataText, tensorFromJson } from '../../../../../inference-runtime/http/v2/jsonData.js';

describe('V2 JSON tensor data', () => {
  it('writes values that Python reads back exactly: -0 keeps its sign, non-finite floats as tokens, 64-bit integers in full', () => {
    expect(jsonDataText({ dtype: 'float32', shape: [4], data: new Float32Array([-0, Number.NaN, Number.POSITIVE_INFINITY, 0.5]) })).to.equal('[-0.0,NaN,Infinity,0.5]');
    expect(jsonDataText({ dtype: 'float16', shape: [2], data: Uint16Array.from([toFloat16Bits(-0), toFloat16Bits(1.5)]) })).to.equal('[-0.0,1.5]');
    expect(jsonDataText({ dtype: 'uint64', shape: [1], data: BigUint64Array.from([2n ** 64n - 1n]) })).to.equal('[18446744073709551615]');
    expect(jsonDataText({ dtype: 'int64', shape: [1], data: BigInt64Array.from([-(2n ** 63n)]) })).to.equal('[-9223372036854775808]');
    expect(jsonDataText({ dtype: 'bool', shape: [2], data: Uint8Array.from([1, 0]) })).to.equal('[true,false]');
    expect(jsonDataText({ dtype: 'string', shape: [2], data: ['é', '"'] })).to.equal(JSON.stringify(['é', '"']));
  });

  it('reads back what it writes, for every datatype but the 64-bit integers beyond 2^53', () => {
    const values: Record<V2Datatype, fc.Arbitrary<unknown>> = {
      BOOL: fc.boolean(),
      UINT8: fc.integer({ min: 0, max: 255 }),
      UINT16: fc.integer({ min: 0, max: 65535 }),
      UINT32: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      UINT64: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      INT8: fc.integer({ min: -128, max: 127 }),
      INT16: fc.integer({ min: -32768, max: 32767 }),
      INT32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      INT64: fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
      FP16: fc.integer({ min: 0, max: 0xffff }).filter((b) => (b & 0x7c00) !== 0x7c00),
      FP32: fc.float({ noNaN: true, noDefaultInfinity: true }),
      FP64: fc.double({ noNaN: true, noDefaultInfinity: true }),
      BYTES: fc.string(),
    };
    for (const datatype of Object.keys(V2_DATATYPES) as V2Datatype[]) {
      fc.assert(
        fc.property(fc.array(values[datatype], { maxLength: 8 }), (list) => {
          const sent = datatype === 'FP16' ? tensorFromJson('x', datatype, [list.length], list.length, list.map((b) => fromFloat16Bits(b as number))) : tensorFromJson('x', datatype, [list.length], list.length, list);
          const again = tensorFromJson('x', datatype, [list.length], list.length, parseTokens(jsonDataText(sent)));
          expect(again).to.deep.equal(sent);
        }),
        { numRuns: 50 },
      );
    }
  });
});

/** JSON.parse, with `-0.0` kept negative as Python's parser keeps it. */
function parseTokens(text: string): unknown {
  return JSON.parse(text.replace(/-0\.0(?=[,\]])/g, '"-0"'), (_key, value: unknown) => (value === '-0' ? -0 : value));
}
