import { expect } from 'chai';
import type { ModelSignature } from '../../../../../inference-runtime/backends/backend.js';
import { TEXT_RECOGNIZER } from '../../../../../inference-runtime/config/defaultPool.js';
import { checkClassifier, checkDetector, checkRecognizer, recognizerExample } from '../../../../../inference-runtime/vision/text/textModels.js';

const sig = (input: number[], output: number[]): ModelSignature => ({
  inputs: [{ name: 'x', dtype: 'float32', shape: input }],
  outputs: [{ name: 'y', dtype: 'float32', shape: output }],
});

describe('OCR model checks (what the task modules report at load)', () => {
  const labels = ['', 'a', 'b', ' '];
  const rec = { ...TEXT_RECOGNIZER, labels };

  it('accepts the PP-OCR signatures (dynamic batch, height and width)', () => {
    expect(checkDetector({ config: TEXT_RECOGNIZER, signature: sig([-1, 3, -1, -1], [-1, 1, -1, -1]) })).to.deep.equal([]);
    expect(checkClassifier({ config: TEXT_RECOGNIZER, signature: sig([-1, 3, -1, -1], [-1, 2]) })).to.deep.equal([]);
    expect(checkRecognizer({ config: rec, signature: sig([-1, 3, 48, -1], [-1, -1, 4]) })).to.deep.equal([]);
  });

  it('names what does not fit: NHWC inputs, wrong heights, output classes that the labels do not cover, a missing blank', () => {
    expect(checkDetector({ config: rec, signature: sig([-1, 640, 640, 3], [-1, 1, -1, -1]) })[0]).to.match(/\[N, 3, H, W\]/);
    expect(checkRecognizer({ config: rec, signature: sig([-1, 3, 32, -1], [-1, -1, 4]) })[0]).to.match(/\[N, 3, 48, W\]/);
    expect(checkRecognizer({ config: rec, signature: sig([-1, 3, 48, -1], [-1, -1, 6625]) })).to.deep.equal(['has 6625 output classes but 4 labels']);
    expect(checkRecognizer({ config: { ...rec, labels: ['blank', 'a', 'b', ' '] }, signature: sig([-1, 3, 48, -1], [-1, -1, 4]) })[0]).to.match(/labels\[0\] must be ""/);
    expect(checkRecognizer({ config: { ...rec, labels: undefined }, signature: sig([-1, 3, 48, -1], [-1, -1, 4]) })[0]).to.match(/labels must list/);
    expect(checkClassifier({ config: { ...rec, labels: ['up', 'down'] }, signature: sig([-1, 3, 48, -1], [-1, 2]) })[0]).to.match(/labels must be/);
  });

  it('gives example inputs shaped like a real line', () => {
    const x = recognizerExample({ config: rec, signature: sig([-1, 3, 48, -1], [-1, -1, 4]) }).x;
    expect(x.shape).to.deep.equal([1, 3, 48, 320]);
    expect(x.data).to.have.length(3 * 48 * 320);
  });
});
