import type { ServingModel } from '../core/registry.js';
import { decodeDetections, detectionsOutput } from './centernet.js';
import type { DecodedImage } from './decode.js';
import { round4, scaleBox, type Box } from './geometry.js';
import { imageBox } from './faces.js';
import { nonMaxSuppression } from './nms.js';
import { imageInput, preprocessingOf } from './servingModel.js';
import { letterbox, toBatchTensor } from './tensorize.js';

export const objectDetectionTask = 'vision/object-detection';

export interface ObjectDetectionOptions {
  minScore: number;
  maxResults: number;
  /**
   * Boxes overlapping a better one by more than this IoU are the same object, whatever their class: the
   * detector often proposes one box under several related labels (cup, wine glass, vase), and one answer per
   * object is what a client wants.
   */
  iouThreshold: number;
}

export const defaultObjectDetectionOptions: ObjectDetectionOptions = { minScore: 0.25, maxResults: 20, iouThreshold: 0.5 };

export interface ObjectResult {
  label: string;
  /** Index of the class in the model's output (COCO order for the default model). */
  classId: number;
  score: number;
  /** In the pixels of the image as sent, clipped to the image. */
  box: Box;
}

export async function detectObjects(model: ServingModel, image: DecodedImage, opts: ObjectDetectionOptions): Promise<ObjectResult[]> {
  // The reference pipeline (human's centernet.ts) feeds 0..255 unchanged: the graph normalises itself.
  const pre = preprocessingOf(model, { colour: 'rgb', range: [0, 255] });
  const boxed = await letterbox(image.pixels, pre.width, pre.height);
  const outputs = await model.infer({ [imageInput(model).name]: toBatchTensor([boxed.pixels], pre) });
  const candidates = decodeDetections(detectionsOutput(outputs), opts.minScore);
  const kept = nonMaxSuppression(candidates, { iouThreshold: opts.iouThreshold, minScore: opts.minScore, maxResults: opts.maxResults });
  const labels = model.config.labels;
  return kept.map((c) => ({
    label: labels?.[c.classIndex] ?? `class ${c.classIndex}`,
    classId: c.classIndex,
    score: round4(c.score),
    box: imageBox(scaleBox(c.box, 1 / boxed.scale), image),
  }));
}
