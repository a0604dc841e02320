import { expect } from 'chai';
import { decodeDetections, detectionsOutput } from '../../../../inference-runtime/vision/centernet.js';

describe('CenterNet detections', () => {
  it('picks the [1, k, 6] output and decodes corner boxes, skipping low scores and degenerate rows', () => {
    const data = new Float32Array([10, 20, 110, 220, 0.9, 0, 0, 0, 5, 5, 0.8, 2, 0, 0, 50, 50, 0.1, 16, 5, 5, 4, 40, 0.95, 1]);
    const outputs = {
      'tower_0/wh': { dtype: 'float32' as const, shape: [1, 2, 2, 4], data: new Float32Array(16) },
      'tower_0/detections': { dtype: 'float32' as const, shape: [1, 4, 6], data },
    };
    const found = decodeDetections(detectionsOutput(outputs), 0.3);
    expect(found).to.deep.equal([
      { box: { x: 10, y: 20, width: 100, height: 200 }, score: found[0].score, classIndex: 0 },
      { box: { x: 0, y: 0, width: 5, height: 5 }, score: found[1].score, classIndex: 2 },
    ]);
    expect(found[0].score).to.be.closeTo(0.9, 1e-6);
  });
});
