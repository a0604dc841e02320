import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import fc from 'fast-check';
import onnxProto from 'onnx-proto';
import { countInitializers } from '../../../../inference-runtime/backends/onnxWeights.js';

const affineOnnx = fileURLToPath(new URL('../../../fixtures/models/affine.onnx', import.meta.url));

/** What a full protobuf decode counts: the reference the wire-format reader must agree with. */
function decoded(bytes: Uint8Array): { numTensors: number; numBytes: number } {
  const graph = onnxProto.onnx.ModelProto.decode(bytes).graph;
  let numBytes = 0;
  for (const t of graph?.initializer ?? []) {
    if (t.rawData?.length) numBytes += t.rawData.length;
    else numBytes += 4 * ((t.floatData?.length ?? 0) + (t.int32Data?.length ?? 0)) + 8 * ((t.int64Data?.length ?? 0) + (t.doubleData?.length ?? 0));
  }
  return { numTensors: graph?.initializer?.length ?? 0, numBytes };
}

const tensor = fc.record({
  name: fc.string({ maxLength: 12 }),
  dims: fc.array(fc.integer({ min: 1, max: 1000 }), { maxLength: 4 }),
  dataType: fc.integer({ min: 1, max: 11 }),
  rawData: fc.option(fc.uint8Array({ minLength: 1, maxLength: 300 }), { nil: undefined }),
  floatData: fc.array(fc.float(), { maxLength: 20 }),
  int32Data: fc.array(fc.integer(), { maxLength: 20 }),
  int64Data: fc.array(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), { maxLength: 20 }),
  doubleData: fc.array(fc.double(), { maxLength: 20 }),
});

describe('ONNX initializer count', () => {
  it('reads the same count and bytes from the wire format as a full protobuf decode', () => {
    fc.assert(
      fc.property(fc.array(tensor, { maxLength: 8 }), fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }), (initializer, nodeNames) => {
        const bytes = onnxProto.onnx.ModelProto.encode({
          irVersion: 8,
          producerName: 'test',
          opsetImport: [{ domain: '', version: 17 }],
          graph: { name: 'g', node: nodeNames.map((name) => ({ name, opType: 'Identity', input: ['x'], output: ['y'] })), initializer },
        }).finish();
        expect(countInitializers(bytes)).to.deep.equal(decoded(bytes));
      }),
    );
  });

  it('counts the weights of a real model file', () => {
    const bytes = readFileSync(affineOnnx);
    const counted = countInitializers(bytes);
    expect(counted).to.deep.equal(decoded(bytes));
    expect(counted.numTensors).to.be.greaterThan(0);
  });

  it('refuses a truncated file instead of reading past its end', () => {
    const bytes = readFileSync(affineOnnx);
    expect(() => countInitializers(bytes.subarray(0, bytes.length - 3))).to.throw(RangeError);
  });
});
