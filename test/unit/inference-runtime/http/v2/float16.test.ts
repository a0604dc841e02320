import { expect } from 'chai';
import fc from 'fast-check';
import { FLOAT16_MAX, fromFloat16Bits, toFloat16Bits } from '../../../../../inference-runtime/http/v2/float16.js';

describe('V2 FP16 values', () => {
  it('every half reads back to its own bits', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = fromFloat16Bits(bits);
      if (Number.isNaN(value)) {
        expect(Number.isNaN(fromFloat16Bits(toFloat16Bits(value)))).to.equal(true);
      } else {
        expect(toFloat16Bits(value), `bits 0x${bits.toString(16)}`).to.equal(bits);
      }
    }
  });

  it('a number in range becomes the nearest half', () => {
    fc.assert(
      fc.property(fc.float({ min: -FLOAT16_MAX, max: FLOAT16_MAX, noNaN: true }), (x) => {
        const bits = toFloat16Bits(x);
        const error = Math.abs(fromFloat16Bits(bits) - x);
        // Neither neighbouring half is closer.
        for (const neighbour of [bits + 1, bits - 1]) {
          const other = fromFloat16Bits(neighbour & 0xffff);
          if (Number.isFinite(other) && (neighbour & 0x7c00) !== 0x7c00 && Math.sign(other) === Math.sign(fromFloat16Bits(bits))) {
            expect(Math.abs(other - x)).to.be.at.least(error);
          }
        }
      }),
    );
  });

  it('known values', () => {
    expect(toFloat16Bits(1)).to.equal(0x3c00);
    expect(toFloat16Bits(-2)).to.equal(0xc000);
    expect(toFloat16Bits(65504)).to.equal(0x7bff);
    expect(toFloat16Bits(1e6)).to.equal(0x7c00);
    expect(toFloat16Bits(2 ** -24)).to.equal(0x0001);
    expect(fromFloat16Bits(0x3555)).to.equal(0.333251953125);
  });
});
