import { checkClassifier, classifierExample, ORIENTATION_LABELS, TEXT_ORIENTATION_TASK } from '../../vision/text/textModels.js';
import type { TaskModule } from '../task.js';

/** Upright or upside down, per text line; optional step of vision/text-recognition's API. */
export const textOrientationTask: TaskModule = {
  id: TEXT_ORIENTATION_TASK,
  summary: 'Whether a text line is upright or upside down',
  frameworks: ['onnx'],
  labels: { count: ORIENTATION_LABELS.length, note: `output order ${ORIENTATION_LABELS.join(', ')} (degrees)` },
  checkModel: checkClassifier,
  exampleInputs: classifierExample,
};
