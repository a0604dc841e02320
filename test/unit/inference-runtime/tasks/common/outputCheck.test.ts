import { expect } from 'chai';
import fc from 'fast-check';
import { FACE_DETECTOR, FACIAL_EXPRESSION, OBJECT_DETECTOR } from '../../../../../inference-runtime/config/defaultPool.js';
import type { NamedTensors } from '../../../../../inference-runtime/core/tensor.js';
import type { TaskModule } from '../../../../../inference-runtime/tasks/task.js';
import { faceDetection } from '../../../../../inference-runtime/tasks/vision/faceDetection.js';
import { facialExpression } from '../../../../../inference-runtime/tasks/vision/facialExpression.js';
import { objectDetection } from '../../../../../inference-runtime/tasks/vision/objectDetection.js';

const floats = (...shape: number[]): NamedTensors[string] => ({ dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
const view = (config: typeof FACE_DETECTOR) => ({ config, signature: { inputs: [], outputs: [] } });
const check = (task: TaskModule, config: typeof FACE_DETECTOR, outputs: NamedTensors): string[] => task.checkOutputs!(view(config), outputs);

describe('vision tasks refuse warm-up outputs their decoders cannot read', () => {
  it('accepts outputs shaped as the decoders read them', () => {
    expect(check(facialExpression, FACIAL_EXPRESSION, { scores: floats(1, 7) })).to.deep.equal([]);
    expect(check(objectDetection, OBJECT_DETECTOR, { detections: floats(1, 100, 6) })).to.deep.equal([]);
  });

  it('names the task and the model when the class count does not fit the labels or the detections are misshapen', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }).filter((n) => n !== 7), (classes) => {
        const [reason, ...rest] = check(facialExpression, FACIAL_EXPRESSION, { scores: floats(1, classes) });
        expect(rest).to.deep.equal([]);
        expect(reason).to.contain(`task ${facialExpression.id}, model ${FACIAL_EXPRESSION.name}`);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }).filter((n) => n !== 6), (columns) => {
        const [reason] = check(objectDetection, OBJECT_DETECTOR, { detections: floats(1, 10, columns) });
        expect(reason).to.contain(`task ${objectDetection.id}, model ${OBJECT_DETECTOR.name}`);
      }),
    );
    const [reason] = check(faceDetection, FACE_DETECTOR, { boxes: floats(1, 3) });
    expect(reason).to.contain(`task ${faceDetection.id}, model ${FACE_DETECTOR.name}`);
  });
});
