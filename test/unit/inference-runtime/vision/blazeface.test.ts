import { expect } from 'chai';
import { blazefaceAnchors, blazefaceRows, decodeBlazeface } from '../../../../inference-runtime/vision/blazeface.js';
import type { HostTensor } from '../../../../inference-runtime/core/tensor.js';

const tensor = (shape: number[], data: Float32Array): HostTensor => ({ dtype: 'float32', shape, data });

describe('BlazeFace decoding', () => {
  it('lays out 896 anchors for 256 px: 16x16 cells x 2, then 8x8 cells x 6, centred in their cells', () => {
    const anchors = blazefaceAnchors(256);
    expect(anchors).to.have.length(896);
    expect(anchors[0]).to.deep.equal({ x: 8, y: 8 });
    expect(anchors[1]).to.deep.equal({ x: 8, y: 8 });
    expect(anchors[2]).to.deep.equal({ x: 24, y: 8 });
    expect(anchors[512]).to.deep.equal({ x: 16, y: 16 });
    expect(anchors[895]).to.deep.equal({ x: 240, y: 240 });
  });

  it('gathers split outputs (scores and regressors per anchor layer) in anchor order', () => {
    const s512 = new Float32Array(512).fill(-10);
    const s384 = new Float32Array(384).fill(-10);
    s384[3] = 5;
    const r512 = new Float32Array(512 * 16);
    const r384 = new Float32Array(384 * 16);
    r384[3 * 16] = 42;
    // Output names and order as the default model's export has them: not in anchor order.
    const rows = blazefaceRows({
      Identity_3: tensor([1, 384, 16], r384),
      Identity: tensor([1, 512, 1], s512),
      Identity_1: tensor([1, 384, 1], s384),
      Identity_2: tensor([1, 512, 16], r512),
    });
    expect(rows.scores[512 + 3]).to.equal(5);
    expect(rows.regressors[(512 + 3) * 16]).to.equal(42);
  });

  it('reads the single-tensor export (logit then 16 regressors per row)', () => {
    const data = new Float32Array(896 * 17);
    data[10 * 17] = 3;
    data[10 * 17 + 1] = 7;
    const rows = blazefaceRows({ out: tensor([1, 896, 17], data) });
    expect(rows.scores[10]).to.equal(3);
    expect(rows.regressors[10 * 16]).to.equal(7);
  });

  it('decodes a box and keypoints relative to the anchor, with a sigmoid score', () => {
    const anchors = blazefaceAnchors(256);
    const scores = new Float32Array(896).fill(-20);
    const regressors = new Float32Array(896 * 16);
    const i = 2; // anchor at (24, 8)
    scores[i] = 2;
    regressors.set([4, 6, 40, 50, -10, -8, 10, -8, 0, 0, 0, 12, -20, 0, 20, 0], i * 16);
    const faces = decodeBlazeface({ scores, regressors }, anchors, 0.5);
    expect(faces).to.have.length(1);
    expect(faces[0].score).to.be.closeTo(1 / (1 + Math.exp(-2)), 1e-6);
    expect(faces[0].box).to.deep.equal({ x: 28 - 20, y: 14 - 25, width: 40, height: 50 });
    expect(faces[0].keypoints[0]).to.deep.equal({ x: 14, y: 0 });
    expect(faces[0].keypoints[3]).to.deep.equal({ x: 24, y: 20 });
  });

  it('rejects outputs that are not BlazeFace-shaped', () => {
    expect(() => blazefaceRows({ x: tensor([1, 10, 5], new Float32Array(50)) })).to.throw(/do not look like BlazeFace/);
  });
});
