import type { ServingModel } from '../core/registry.js';
import { decodeDetections, detectionsOutput, type ObjectCandidate } from './centernet.js';
import type { DecodedImage } from './decode.js';
import { detect, type DetectorHead } from './detection.js';
import { round4, type Box } from './geometry.js';
import { imageBox } from './faces.js';

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

const centernetHead: DetectorHead<ObjectCandidate> = {
  // The reference pipeline (human's centernet.ts) feeds 0..255 unchanged: the graph normalises itself.
  reference: { colour: 'rgb', range: [0, 255] },
  decode: (outputs, _pre, minScore) => decodeDetections(detectionsOutput(outputs), minScore),
};

/** Runs the object detector (the shared detection pipeline with CenterNet's head); boxes in image pixels. */
export async function detectObjects(model: ServingModel, image: DecodedImage, opts: ObjectDetectionOptions): Promise<ObjectResult[]> {
  const { kept, boxes } = await detect(model, image, centernetHead, opts);
  const labels = model.config.labels;
  return kept.map((c, i) => ({
    label: labels?.[c.classIndex] ?? `class ${c.classIndex}`,
    classId: c.classIndex,
    score: round4(c.score),
    box: imageBox(boxes[i], image),
  }));
}
