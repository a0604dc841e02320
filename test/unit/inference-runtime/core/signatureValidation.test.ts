import { expect } from 'chai';
import type { ModelSignature } from '../../../../inference-runtime/core/backend.js';
import { InvalidInput } from '../../../../inference-runtime/core/errors.js';
import { validateInputs } from '../../../../inference-runtime/core/signatureValidation.js';
import type { NamedTensors } from '../../../../inference-runtime/core/tensor.js';

const sig: ModelSignature = {
  inputs: [{ name: 'input_1', dtype: 'float32', shape: [-1, 64, 64, 1] }],
  outputs: [{ name: 'Identity', dtype: 'float32', shape: [-1, 7] }],
};

const image = (shape: number[], n = shape.reduce((a, b) => a * b, 1)): NamedTensors => ({
  input_1: { dtype: 'float32', shape, data: new Float32Array(n) },
});

function message(inputs: NamedTensors): string {
  try {
    validateInputs('facial-expression', sig, inputs);
  } catch (err) {
    expect(err).to.be.instanceOf(InvalidInput);
    return (err as Error).message;
  }
  return expect.fail('expected InvalidInput');
}

describe('signature validation', () => {
  it('accepts any batch size for a dynamic batch dimension', () => {
    validateInputs('facial-expression', sig, image([1, 64, 64, 1]));
    validateInputs('facial-expression', sig, image([5, 64, 64, 1]));
  });

  it('names a missing input and its expected shape', () => {
    expect(message({})).to.equal('model facial-expression: missing input input_1 (float32 [-1, 64, 64, 1])');
  });

  it('names an unknown input and lists the real ones', () => {
    expect(message({ ...image([1, 64, 64, 1]), extra: { dtype: 'float32', shape: [1], data: new Float32Array(1) } })).to.equal(
      'model facial-expression has no input named "extra"; its inputs are input_1',
    );
  });

  it('reports dtype, rank and fixed-dimension mismatches with the expected shape', () => {
    expect(message({ input_1: { dtype: 'int32', shape: [1, 64, 64, 1], data: new Int32Array(4096) } })).to.equal(
      'model facial-expression input input_1: expected dtype float32, got int32',
    );
    expect(message(image([64, 64, 1]))).to.equal('model facial-expression input input_1: expected shape [-1, 64, 64, 1] (rank 4), got [64, 64, 1]');
    expect(message(image([1, 32, 32, 1]))).to.equal(
      'model facial-expression input input_1: expected shape [-1, 64, 64, 1], got [1, 32, 32, 1] (dimension 1 must be 64)',
    );
  });

  it('refuses data that does not fill the shape, negative dimensions and mistyped arrays', () => {
    expect(message(image([2, 64, 64, 1], 4096))).to.equal('model facial-expression input input_1: shape [2, 64, 64, 1] needs 8192 values, got 4096');
    expect(message(image([-1, 64, 64, 1], 4096))).to.contain('shape must be a list of non-negative integers');
    expect(message({ input_1: { dtype: 'float32', shape: [1, 64, 64, 1], data: new Int32Array(4096) } })).to.contain('data does not hold float32 values');
  });
});
