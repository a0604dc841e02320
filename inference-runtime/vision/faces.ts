import type { ServingModel } from '../core/registry.js';
import { blazefaceAnchors, blazefaceRows, decodeBlazeface, keypointNames, type FaceCandidate, type KeypointName } from './blazeface.js';
import type { DecodedImage } from './decode.js';
import { clipBox, round1, roundBox, round4, scaleBox, type Box, type Point } from './geometry.js';
import { detect, type DetectorHead } from './detection.js';

export interface FaceDetectionOptions {
  /** Faces scoring below this are not reported. */
  minScore: number;
  /** At most this many faces, best first. */
  maxFaces: number;
  /** Boxes overlapping a better one by more than this IoU are the same face. */
  iouThreshold: number;
}

export const defaultFaceDetectionOptions: FaceDetectionOptions = { minScore: 0.4, maxFaces: 20, iouThreshold: 0.3 };

/** A detected face in working-image pixels (see DecodedImage.pixels). */
export interface WorkingFace {
  box: Box;
  keypoints: Point[];
  score: number;
}

/** A detected face as the API reports it, in the pixels of the image as sent. */
export interface FaceResult {
  box: Box;
  score: number;
  landmarks: Record<KeypointName, Point>;
}

const anchorCache = new Map<number, Point[]>();

function anchorsFor(size: number): Point[] {
  let anchors = anchorCache.get(size);
  if (!anchors) {
    anchors = blazefaceAnchors(size);
    anchorCache.set(size, anchors);
  }
  return anchors;
}

const blazefaceHead: DetectorHead<FaceCandidate> = {
  // The reference pipeline (human's blazeface.ts) maps 0..255 onto [-1, 1].
  reference: { colour: 'rgb', range: [-1, 1] },
  checkInput(pre) {
    if (pre.width !== pre.height) throw new TypeError(`face detector input is ${pre.width}x${pre.height}; BlazeFace anchors need a square input`);
  },
  decode: (outputs, pre, minScore) => decodeBlazeface(blazefaceRows(outputs), anchorsFor(pre.width), minScore),
};

/**
 * Runs the face detector on the working copy of an image (the shared detection pipeline with BlazeFace's
 * anchors as its head), in working pixels.
 */
export async function detectFaces(model: ServingModel, image: DecodedImage, opts: FaceDetectionOptions): Promise<WorkingFace[]> {
  const { kept, back, boxes } = await detect(model, image, blazefaceHead, { minScore: opts.minScore, maxResults: opts.maxFaces, iouThreshold: opts.iouThreshold });
  return kept.map((c, i) => ({
    box: boxes[i],
    keypoints: c.keypoints.map((p) => ({ x: p.x * back, y: p.y * back })),
    score: c.score,
  }));
}

/** Box in image pixels, clipped to the image. */
export function imageBox(box: Box, image: DecodedImage): Box {
  return roundBox(clipBox(scaleBox(box, image.scaleX, image.scaleY), image.width, image.height));
}

export function toFaceResult(face: WorkingFace, image: DecodedImage): FaceResult {
  const landmarks = {} as Record<KeypointName, Point>;
  keypointNames.forEach((name, i) => {
    const p = face.keypoints[i];
    landmarks[name] = { x: round1(p.x * image.scaleX), y: round1(p.y * image.scaleY) };
  });
  return { box: imageBox(face.box, image), score: round4(face.score), landmarks };
}
