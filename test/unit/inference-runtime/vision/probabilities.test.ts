import { expect } from 'chai';
import { argmax, asProbabilities, softmax } from '../../../../inference-runtime/vision/probabilities.js';
import { fer2013Codes } from '../../../../inference-runtime/vision/labels.js';

describe('class probabilities', () => {
  it('softmax sums to one, keeps order, and survives large logits', () => {
    const p = softmax([1000, 1001, 999]);
    expect(p.reduce((s, v) => s + v, 0)).to.be.closeTo(1, 1e-9);
    expect(argmax(p)).to.equal(1);
    expect(p.every(Number.isFinite)).to.equal(true);
  });

  it('passes a distribution through and turns logits into one', () => {
    expect(asProbabilities([0.1, 0.2, 0.7])).to.deep.equal([0.1, 0.2, 0.7]);
    const fromLogits = asProbabilities([2, -1, 0.5]);
    expect(fromLogits.reduce((s, v) => s + v, 0)).to.be.closeTo(1, 1e-9);
    expect(argmax(fromLogits)).to.equal(0);
  });
});

describe('FER2013 codes', () => {
  it('maps the FER2013 order onto codes 0..6', () => {
    expect(fer2013Codes(['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'], 7)).to.deep.equal([0, 1, 2, 3, 4, 5, 6]);
  });

  it('maps another class order (AffectNet-style) by name, so codes stay FER2013', () => {
    expect(fer2013Codes(['Angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprised'], 7)).to.deep.equal([0, 1, 2, 3, 6, 4, 5]);
  });

  it('assumes FER2013 order for a 7-class model without labels and refuses other vocabularies', () => {
    expect(fer2013Codes(undefined, 7)).to.deep.equal([0, 1, 2, 3, 4, 5, 6]);
    expect(() => fer2013Codes(undefined, 8)).to.throw(/no labels/);
    expect(() => fer2013Codes(['cat', 'dog'], 2)).to.throw(/not a FER2013 expression/);
    expect(() => fer2013Codes(['happy'], 7)).to.throw(/1 labels for 7 outputs/);
  });
});
