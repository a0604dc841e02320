import { checkClassifier, classifierExample } from '../../vision/text/textModels.js';
import type { TaskModule } from '../task.js';
import { textOrientationSpec } from './specs.js';

/** Upright or upside down, per text line; optional step of vision/text-recognition's API. */
export const textOrientationTask: TaskModule = {
  ...textOrientationSpec,
  checkModel: checkClassifier,
  exampleInputs: classifierExample,
};
