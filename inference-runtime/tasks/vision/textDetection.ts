import { checkDetector, detectorExample } from '../../vision/text/textModels.js';
import type { TaskModule } from '../task.js';
import { textDetectionSpec } from './specs.js';

/** Text regions of an image (PP-OCR DB detector); served to users through vision/text-recognition's API. */
export const textDetectionTask: TaskModule = {
  ...textDetectionSpec,
  checkModel: checkDetector,
  exampleInputs: detectorExample,
};
