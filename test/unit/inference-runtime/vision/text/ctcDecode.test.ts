import { expect } from 'chai';
import { ctcGreedyDecode } from '../../../../../inference-runtime/vision/text/ctcDecode.js';

const labels = ['', 'a', 'b', '中', '，', 'c', ' '];

/** Scores [1, steps, classes] where step t puts `p` on class path[t] and the rest evenly on the other non-space classes. */
function scores(path: number[], p = 0.9, extra: Record<number, [number, number]> = {}): Float32Array {
  const out = new Float32Array(path.length * labels.length);
  path.forEach((c, t) => {
    const space = labels.length - 1;
    const rest = (1 - p) / (c === space ? labels.length - 1 : labels.length - 2);
    for (let k = 0; k < labels.length; k++) out[t * labels.length + k] = k === c ? p : k === space ? 0 : rest;
    const e = extra[t];
    if (e) out[t * labels.length + e[0]] = e[1];
  });
  return out;
}

describe('CTC greedy decoding', () => {
  it('collapses repeats, drops blanks, and keeps a repeated character separated by a blank', () => {
    const r = ctcGreedyDecode(scores([1, 1, 0, 1, 2, 2, 0]), 7, labels.length, labels, 0);
    expect(r.text).to.equal('aab');
    expect(r.confidence).to.be.closeTo(0.9, 1e-6);
  });

  it('averages the probabilities of the emitted characters only', () => {
    const s = scores([1, 0, 2]);
    s[2 * labels.length + 2] = 0.5;
    expect(ctcGreedyDecode(s, 3, labels.length, labels, 0).confidence).to.be.closeTo(0.7, 1e-6);
    expect(ctcGreedyDecode(scores([0, 0]), 2, labels.length, labels, 0)).to.deep.equal({ text: '', confidence: 0 });
  });

  it('inserts a space where the space class rose in the gap between two Latin characters', () => {
    const space = labels.length - 1;
    expect(ctcGreedyDecode(scores([1, 0, 2], 0.9, { 1: [space, 0.02] }), 3, labels.length, labels, 0).text).to.equal('a b');
    expect(ctcGreedyDecode(scores([1, 0, 2], 0.9, { 1: [space, 0.001] }), 3, labels.length, labels, 0).text).to.equal('ab');
    // Not next to CJK characters, where words are written without spaces.
    expect(ctcGreedyDecode(scores([1, 0, 3], 0.9, { 1: [space, 0.3] }), 3, labels.length, labels, 0).text).to.equal('a中');
    // A space the model emitted itself is not doubled.
    expect(ctcGreedyDecode(scores([1, space, 0, 2], 0.9, { 2: [space, 0.3] }), 4, labels.length, labels, 0).text).to.equal('a b');
  });

  it('writes full-width punctuation between Latin characters in ASCII, and leaves it next to CJK', () => {
    expect(ctcGreedyDecode(scores([1, 4, 5]), 3, labels.length, labels, 0).text).to.equal('a,c');
    expect(ctcGreedyDecode(scores([3, 4, 3]), 3, labels.length, labels, 0).text).to.equal('中，中');
  });

  it('reads the row it is asked for in a batch', () => {
    const batch = new Float32Array([...scores([1, 0]), ...scores([2, 5])]);
    expect(ctcGreedyDecode(batch, 2, labels.length, labels, 1).text).to.equal('bc');
  });
});
