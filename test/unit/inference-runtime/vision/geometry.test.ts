import { expect } from 'chai';
import { clipBox, intersectionOverUnion, squareWithMargin } from '../../../../inference-runtime/vision/geometry.js';
import { nonMaxSuppression } from '../../../../inference-runtime/vision/nms.js';

describe('vision geometry', () => {
  it('computes IoU of identical, disjoint and half-overlapping boxes', () => {
    const a = { x: 0, y: 0, width: 10, height: 10 };
    expect(intersectionOverUnion(a, a)).to.equal(1);
    expect(intersectionOverUnion(a, { x: 20, y: 0, width: 10, height: 10 })).to.equal(0);
    expect(intersectionOverUnion(a, { x: 5, y: 0, width: 10, height: 10 })).to.be.closeTo(50 / 150, 1e-9);
  });

  it('clips boxes to the image', () => {
    expect(clipBox({ x: -5, y: 90, width: 20, height: 20 }, 100, 100)).to.deep.equal({ x: 0, y: 90, width: 15, height: 10 });
    expect(clipBox({ x: 200, y: 0, width: 20, height: 20 }, 100, 100).width).to.equal(0);
  });

  it('grows a box into a centred square with margin', () => {
    expect(squareWithMargin({ x: 10, y: 20, width: 40, height: 20 }, 1.5)).to.deep.equal({ x: 0, y: 0, width: 60, height: 60 });
  });
});

describe('non-maximum suppression', () => {
  const box = (x: number) => ({ x, y: 0, width: 10, height: 10 });

  it('keeps the best of overlapping candidates and every separate one, best first', () => {
    const kept = nonMaxSuppression(
      [
        { box: box(0), score: 0.7 },
        { box: box(1), score: 0.9 },
        { box: box(50), score: 0.8 },
      ],
      { iouThreshold: 0.3, minScore: 0.5, maxResults: 10 },
    );
    expect(kept.map((k) => k.score)).to.deep.equal([0.9, 0.8]);
  });

  it('drops candidates under minScore and stops at maxResults', () => {
    const candidates = [0, 20, 40, 60].map((x, i) => ({ box: box(x), score: 0.9 - i * 0.1 }));
    expect(nonMaxSuppression(candidates, { iouThreshold: 0.3, minScore: 0.65, maxResults: 10 })).to.have.length(3);
    expect(nonMaxSuppression(candidates, { iouThreshold: 0.3, minScore: 0, maxResults: 2 })).to.have.length(2);
  });

  it('suppresses only within a class when asked to', () => {
    const candidates = [
      { box: box(0), score: 0.9, cls: 1 },
      { box: box(0), score: 0.8, cls: 2 },
      { box: box(1), score: 0.7, cls: 1 },
    ];
    const kept = nonMaxSuppression(candidates, { iouThreshold: 0.3, minScore: 0, maxResults: 10, classOf: (i) => candidates[i].cls });
    expect(kept.map((k) => k.cls)).to.deep.equal([1, 2]);
  });
});
