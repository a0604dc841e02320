import { expect } from 'chai';
import { InvalidInput } from '../../../../inference-runtime/core/errors.js';
import type { TensorSpec } from '../../../../inference-runtime/core/tensor.js';
import { parseTfServingJson } from '../../../../inference-runtime/http/tfserving/jsonText.js';
import { formatFloat32, parsePredictRequest, predictResponseJson } from '../../../../inference-runtime/http/tfserving/jsonTensor.js';

const image: TensorSpec = { name: 'input_1:0', dtype: 'float32', shape: [-1, 2, 2, 1] };
const tag: TensorSpec = { name: 'tag', dtype: 'string', shape: [-1] };
const signal: TensorSpec = { name: 'signal', dtype: 'int32', shape: [-1, 3] };
const LIMIT = 1_000_000;

function invalid(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(InvalidInput);
    return (error as Error).message;
  }
  expect.fail('expected InvalidInput');
}

describe('TF Serving JSON <-> tensors', () => {
  describe('row format (instances)', () => {
    it('stacks each instance along a new batch dimension', () => {
      const request = parsePredictRequest({ instances: [[[[1], [2]], [[3], [4]]], [[[5], [6]], [[7], [8]]]] }, [image], LIMIT);
      expect(request.format).to.equal('row');
      expect(request.signatureName).to.equal('serving_default');
      const tensor = request.inputs['input_1:0']!;
      expect(tensor.dtype).to.equal('float32');
      expect(tensor.shape).to.deep.equal([2, 2, 2, 1]);
      expect(Array.from(tensor.data as Float32Array)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
    });

    it('takes a list of objects for several named inputs', () => {
      const request = parsePredictRequest(
        { instances: [{ tag: 'foo', signal: [1, 2, 3] }, { tag: { b64: Buffer.from([0, 255, 7]).toString('base64') }, signal: [4, 5, 6] }] },
        [tag, signal],
        LIMIT,
      );
      expect(request.inputs.tag).to.deep.equal({ dtype: 'string', shape: [2], data: ['foo', '\u0000\u00ff\u0007'] });
      expect(request.inputs.signal!.shape).to.deep.equal([2, 3]);
      expect(Array.from(request.inputs.signal!.data as Int32Array)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    });

    it('accepts b64 values as the instances of a single string input', () => {
      const request = parsePredictRequest({ instances: [{ b64: 'aW1hZ2UgYnl0ZXM=' }] }, [tag], LIMIT);
      expect(request.inputs.tag!.data).to.deep.equal(['image bytes']);
    });

    it('refuses a plain list when the model has several inputs', () => {
      expect(invalid(() => parsePredictRequest({ instances: [[1, 2, 3]] }, [tag, signal], LIMIT))).to.contain('expecting list of objects');
    });

    it('refuses objects whose keys differ from the inputs', () => {
      const message = invalid(() => parsePredictRequest({ instances: [{ tag: 'a', signal: [1, 2, 3] }, { tag: 'b' }] }, [tag, signal], LIMIT));
      expect(message).to.contain('element: 1').and.to.contain('tag,signal');
    });

    it('refuses instances of different shapes', () => {
      const message = invalid(() => parsePredictRequest({ instances: [[[[1], [2]], [[3], [4]]], [[[5], [6]]]] }, [image], LIMIT));
      expect(message).to.contain("input 'input_1:0'").and.to.contain('item 1').and.to.contain('ragged');
    });

    it('refuses an empty instances list and a non-list', () => {
      expect(invalid(() => parsePredictRequest({ instances: [] }, [image], LIMIT))).to.contain('No values');
      expect(invalid(() => parsePredictRequest({ instances: 3 }, [image], LIMIT))).to.contain('list/array');
    });
  });

  describe('columnar format (inputs)', () => {
    it('takes a single tensor as the value of the only input', () => {
      const request = parsePredictRequest({ inputs: [[[[1], [2]], [[3], [4]]]] }, [image], LIMIT);
      expect(request.format).to.equal('columnar');
      expect(request.inputs['input_1:0']!.shape).to.deep.equal([1, 2, 2, 1]);
    });

    it('takes an object of named tensors that need not share the batch size', () => {
      const request = parsePredictRequest({ inputs: { tag: ['a', 'b', 'c'], signal: [[1, 2, 3]] } }, [tag, signal], LIMIT);
      expect(request.inputs.tag!.shape).to.deep.equal([3]);
      expect(request.inputs.signal!.shape).to.deep.equal([1, 3]);
    });

    it('names a missing input', () => {
      expect(invalid(() => parsePredictRequest({ inputs: { tag: ['a'] } }, [tag, signal], LIMIT))).to.equal(
        "Missing named input: signal in 'inputs' object.",
      );
    });

    it('accepts scalars', () => {
      const request = parsePredictRequest({ inputs: 'hello' }, [tag], LIMIT);
      expect(request.inputs.tag).to.deep.equal({ dtype: 'string', shape: [], data: ['hello'] });
    });
  });

  describe('bad input', () => {
    it('reports ragged lists with the input name and the expected size', () => {
      const message = invalid(() => parsePredictRequest({ inputs: [[1, 2, 3], [4, 5]] }, [signal], LIMIT));
      expect(message).to.contain("input 'signal'").and.to.contain('a list of 2').and.to.contain('3 were expected');
    });

    it('reports a value where a list belongs and a list where a value belongs', () => {
      expect(invalid(() => parsePredictRequest({ inputs: [[1, 2, 3], 4] }, [signal], LIMIT))).to.contain('where a list was expected');
      expect(invalid(() => parsePredictRequest({ inputs: [1, [2, 3]] }, [{ name: 'x', dtype: 'float32', shape: [-1] }], LIMIT))).to.contain(
        'where a value was expected',
      );
    });

    it('reports values of the wrong type with the TF dtype', () => {
      const message = invalid(() => parsePredictRequest({ inputs: [['a', 2, 3]] }, [signal], LIMIT));
      expect(message).to.contain("input 'signal'").and.to.contain('"a" (String) is not of expected type DT_INT32');
      expect(invalid(() => parsePredictRequest({ inputs: [[1.5, 2, 3]] }, [signal], LIMIT))).to.contain('DT_INT32');
      expect(invalid(() => parsePredictRequest({ inputs: [[{ b64: 'AA==' }]] }, [image], LIMIT))).to.contain('only accepted for DT_STRING');
    });

    it('refuses floats beyond float32 and bad base64', () => {
      expect(invalid(() => parsePredictRequest({ inputs: [1e300] }, [{ name: 'x', dtype: 'float32', shape: [-1] }], LIMIT))).to.contain(
        'loss of precision',
      );
      expect(invalid(() => parsePredictRequest({ inputs: [{ b64: '@@@' }] }, [tag], LIMIT))).to.contain('base64');
    });

    it('refuses shapes claimed by the first elements that the body cannot hold, before allocating', () => {
      const claim = { inputs: [new Array(10_000).fill(0).map((_, i) => (i === 0 ? new Array(10_000).fill(0) : []))] };
      expect(invalid(() => parsePredictRequest(claim, [{ name: 'x', dtype: 'float32', shape: [-1, -1, -1] }], 50_000))).to.contain('ragged');
    });

    it('refuses deep nesting without recursing into it', () => {
      let deep: unknown = 1;
      for (let i = 0; i < 10_000; i++) deep = [deep];
      expect(invalid(() => parsePredictRequest({ inputs: deep }, [image], LIMIT))).to.contain('nested deeper');
    });

    it('refuses a body that is not an object, both formats at once, and neither', () => {
      expect(invalid(() => parsePredictRequest([1], [image], LIMIT))).to.contain('Is not object');
      expect(invalid(() => parsePredictRequest({ inputs: [1], instances: [1] }, [image], LIMIT))).to.contain('only one of');
      expect(invalid(() => parsePredictRequest({ signature_name: 'serving_default' }, [image], LIMIT))).to.equal(
        "Missing 'inputs' or 'instances' key",
      );
      expect(invalid(() => parsePredictRequest({ signature_name: 3, inputs: [1] }, [image], LIMIT))).to.contain('signature_name');
      expect(invalid(() => parsePredictRequest({ signature_name: 'classify', inputs: [1] }, [image], LIMIT))).to.equal(
        'Serving signature name: "classify" not found in signature def',
      );
      expect(parsePredictRequest({ signature_name: '', inputs: [[[[1], [2]], [[3], [4]]]] }, [image], LIMIT).signatureName).to.equal('serving_default');
    });
  });

  describe('responses', () => {
    const probs = { dtype: 'float32' as const, shape: [2, 3], data: new Float32Array([0.1, 0.2, 0.7, 1, 0, 3e-7]) };
    const ids = { dtype: 'int64' as const, shape: [2], data: new BigInt64Array([5n, 9n]) };

    it('unwraps a single output: a list per row, or the whole tensor for columnar requests', () => {
      expect(JSON.parse(predictResponseJson({ y: probs }, 'row'))).to.deep.equal({ predictions: [[0.1, 0.2, 0.7], [1, 0, 3e-7]] });
      expect(JSON.parse(predictResponseJson({ y: probs }, 'columnar'))).to.deep.equal({ outputs: [[0.1, 0.2, 0.7], [1, 0, 3e-7]] });
    });

    it('keys several outputs by name: objects per row, or one object of tensors', () => {
      expect(JSON.parse(predictResponseJson({ probs, ids }, 'row', ['ids', 'probs']))).to.deep.equal({
        predictions: [
          { ids: 5, probs: [0.1, 0.2, 0.7] },
          { ids: 9, probs: [1, 0, 3e-7] },
        ],
      });
      const text = predictResponseJson({ probs, ids }, 'columnar', ['ids', 'probs']);
      expect(text.indexOf('"ids"')).to.be.lessThan(text.indexOf('"probs"'));
      expect(JSON.parse(text)).to.deep.equal({ outputs: { ids: [5, 9], probs: [[0.1, 0.2, 0.7], [1, 0, 3e-7]] } });
    });

    it('writes string outputs named *_bytes as b64 objects', () => {
      const out = { image_bytes: { dtype: 'string' as const, shape: [1], data: ['\u0000\u00ff'] }, label: { dtype: 'string' as const, shape: [1], data: ['cat'] } };
      expect(JSON.parse(predictResponseJson(out, 'row'))).to.deep.equal({ predictions: [{ image_bytes: { b64: 'AP8=' }, label: 'cat' }] });
    });

    it('refuses row format for outputs of different batch sizes', () => {
      const other = { dtype: 'int32' as const, shape: [3], data: new Int32Array(3) };
      expect(invalid(() => predictResponseJson({ probs, other }, 'row'))).to.contain('inconsistent batch size');
    });

    it('writes floats that read back as the same float32, whole numbers with .0, and TF tokens for non-finite', () => {
      for (const v of [0.1, 1 / 3, 123456.789, 1e-30, 3.4e38, -2.5e-8]) {
        const f = Math.fround(v);
        expect(Math.fround(Number(formatFloat32(f)))).to.equal(f);
      }
      expect(formatFloat32(Math.fround(0.2))).to.equal('0.2');
      expect(formatFloat32(3)).to.equal('3.0');
      expect([Number.NaN, Infinity, -Infinity].map(formatFloat32)).to.deep.equal(['NaN', 'Infinity', '-Infinity']);
    });
  });

  describe('JSON text', () => {
    it('reads NaN and Infinity tokens outside strings like TF Serving, and leaves strings alone', () => {
      const body = parseTfServingJson('{"inputs": [NaN, Infinity, -Infinity, 1], "note": "NaN Infinity"}') as { note: string };
      expect(body.note).to.equal('NaN Infinity');
      const tensor = parsePredictRequest(body, [{ name: 'x', dtype: 'float32', shape: [-1] }], LIMIT).inputs.x!;
      expect(Array.from(tensor.data as Float32Array)).to.deep.equal([Number.NaN, Infinity, -Infinity, 1]);
    });

    it('reports parse errors as JSON Parse error', () => {
      expect(invalid(() => parseTfServingJson('{"instances": [1, 2'))).to.match(/^JSON Parse error: /);
      expect(invalid(() => parseTfServingJson(''))).to.equal('JSON Parse error: The document is empty');
    });
  });
});
