import { checkRecognizer, recognizerExample } from '../../vision/text/textModels.js';
import { textRouter } from './textRouter.js';
import type { TaskModule } from '../task.js';
import { textRecognitionSpec } from './specs.js';

/**
 * Text in images: `POST /v1/vision/text` runs the pool's vision/text-detection model, its
 * vision/text-orientation model when there is one, and this task's recogniser.
 */
export const textRecognitionTask: TaskModule = {
  ...textRecognitionSpec,
  checkModel: checkRecognizer,
  exampleInputs: recognizerExample,
  routes: textRouter,
};
