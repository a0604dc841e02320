import { expect } from 'chai';
import fc from 'fast-check';
import { PayloadTooLarge } from '../../../../inference-runtime/core/errors.js';
import type { TensorSpec } from '../../../../inference-runtime/core/tensor.js';
import { parsePredictRequest } from '../../../../inference-runtime/http/tfserving/jsonTensor.js';

const pixel: TensorSpec = { name: 'x', dtype: 'float32', shape: [-1, 2] };
const ELEMENTS = 1_000_000;

/** The rows limit as each protocol adapter applies it (TF Serving row and columnar formats). */
const protocols: Record<string, (rows: number, maxRows: number) => unknown> = {
  'TF Serving instances': (rows, maxRows) => parsePredictRequest({ instances: Array.from({ length: rows }, () => [0.5, 1]) }, [pixel], ELEMENTS, maxRows),
  'TF Serving inputs': (rows, maxRows) => parsePredictRequest({ inputs: Array.from({ length: rows }, () => [0.5, 1]) }, [pixel], ELEMENTS, maxRows),
};

describe('rows per inference request', () => {
  for (const [name, parse] of Object.entries(protocols)) {
    it(`${name}: accepts up to the limit and refuses more with 413, naming the limit`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 200 }), (rows, maxRows) => {
          if (rows <= maxRows) {
            expect(() => parse(rows, maxRows)).not.to.throw();
            return;
          }
          let error: unknown;
          try {
            parse(rows, maxRows);
          } catch (e) {
            error = e;
          }
          expect(error).to.be.instanceOf(PayloadTooLarge);
          expect((error as Error).message).to.contain(`has ${rows} rows; at most ${maxRows} rows are accepted per request`);
        }),
        { numRuns: 200 },
      );
    });
  }
});
