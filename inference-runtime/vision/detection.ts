import type { Preprocessing } from '../config/types.js';
import type { ServingModel } from '../core/registry.js';
import type { NamedTensors } from '../core/tensor.js';
import type { DecodedImage } from './decode.js';
import { scaleBox, type Box } from './geometry.js';
import { nonMaxSuppression, type Scored } from './nms.js';
import { imageInput, preprocessingOf } from './servingModel.js';
import { letterboxTensor } from './tensorize.js';

/** What tells one detector apart from another: its reference preprocessing and how its outputs decode. */
export interface DetectorHead<C extends Scored> {
  /** Colour and value range of the reference pipeline, where the pool entry gives no preprocessing. */
  readonly reference: Omit<Preprocessing, 'width' | 'height'>;
  /** Refuses an input size the head cannot decode (BlazeFace anchors need a square input). */
  checkInput?(pre: Preprocessing): void;
  /** Candidates in model-input pixels. */
  decode(outputs: NamedTensors, pre: Preprocessing, minScore: number): C[];
}

export interface DetectionOptions {
  minScore: number;
  maxResults: number;
  /** Boxes overlapping a better one by more than this IoU are the same thing. */
  iouThreshold: number;
}

/**
 * The detection pipeline faces and objects share: letterbox the working image into the model input, infer,
 * decode with the detector's head, suppress overlaps, and map the kept boxes back to working pixels.
 * `mapBack` scales anything else a candidate carries (keypoints) by the same factor.
 */
export async function detect<C extends Scored>(
  model: ServingModel,
  image: DecodedImage,
  head: DetectorHead<C>,
  opts: DetectionOptions,
): Promise<{ kept: C[]; back: number; boxes: Box[] }> {
  const pre = preprocessingOf(model, head.reference);
  head.checkInput?.(pre);
  const boxed = await letterboxTensor(image.pixels, pre);
  // The tensor is built for this call alone: its buffer moves to the inference thread.
  const outputs = await model.infer({ [imageInput(model).name]: boxed.tensor }, { transfer: true });
  const kept = nonMaxSuppression(head.decode(outputs, pre, opts.minScore), {
    iouThreshold: opts.iouThreshold,
    minScore: opts.minScore,
    maxResults: opts.maxResults,
  });
  const back = 1 / boxed.scale;
  return { kept, back, boxes: kept.map((c) => scaleBox(c.box, back)) };
}
