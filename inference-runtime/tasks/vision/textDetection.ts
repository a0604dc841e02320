import { checkDetector, detectorExample, TEXT_DETECTION_TASK } from '../../vision/text/textModels.js';
import type { TaskModule } from '../task.js';

/** Text regions of an image (PP-OCR DB detector); served to users through vision/text-recognition's API. */
export const textDetectionTask: TaskModule = {
  id: TEXT_DETECTION_TASK,
  summary: 'Where text lines are in an image (a text probability map, turned into line quadrilaterals)',
  frameworks: ['onnx'],
  checkModel: checkDetector,
  exampleInputs: detectorExample,
};
