import { checkRecognizer, recognizerExample, TEXT_RECOGNITION_TASK } from '../../vision/text/textModels.js';
import { textRouter } from '../../vision/text/textRouter.js';
import type { TaskModule } from '../task.js';

/**
 * Text in images: `POST /v1/vision/text` runs the pool's vision/text-detection model, its
 * vision/text-orientation model when there is one, and this task's recogniser.
 */
export const textRecognitionTask: TaskModule = {
  id: TEXT_RECOGNITION_TASK,
  summary: 'The text in an image, line by line in reading order, with boxes and confidences',
  frameworks: ['onnx'],
  labels: { required: true, note: 'CTC classes in output order: "" (the blank) first, then the characters, then " "' },
  checkModel: checkRecognizer,
  exampleInputs: recognizerExample,
  routes: (context) => textRouter({ registry: context.registry, memoryBudget: context.memoryBudget, limits: context.limits }),
};
