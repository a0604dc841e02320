import { Router } from '@koa/router';
import { ModelNotFound } from '../../core/errors.js';
import type { MeteredModel } from '../../dataplane/meteredModel.js';
import type { RequestState } from '../../http/requestState.js';
import type { DecodedImage } from '../../vision/decode.js';
import { round1, round4, type Box } from '../../vision/geometry.js';
import type { VisionLimits } from '../../vision/limits.js';
import type { Timing } from '../common/stageTimer.js';
import type { ModelInfo, TaskRequest } from '../common/taskRequest.js';
import { defaultOcrOptions, readText, type OcrLine, type OcrOptions } from '../../vision/text/ocr.js';
import { quadBounds } from '../../vision/text/quad.js';
import { TEXT_DETECTION_TASK, TEXT_ORIENTATION_TASK, TEXT_RECOGNITION_TASK } from '../../vision/text/textModels.js';
import type { TaskContext } from '../task.js';
import { beginImageTask } from './imageTask.js';

/** One line of `POST /v1/vision/text`, in the pixels of the image as sent. */
export interface TextLine {
  text: string;
  /** Mean probability of the line's characters (0..1). */
  confidence: number;
  /** Axis-aligned box around the line. */
  box: Box;
  /** The line's corners, clockwise from its top-left (reading start), as [x, y] pairs. */
  polygon: [number, number][];
}

export interface TextResponse {
  lines: TextLine[];
  /** The lines' texts in reading order, joined by newlines; empty when no text was found. */
  text: string;
  image: { width: number; height: number };
  models: ModelInfo[];
  timing: Timing;
}

/**
 * Longest side of the working copy OCR decodes to. Detection sees at most 960 px, but recognition reads each
 * line from the working copy at 48 px of height: small print in a large photo needs more pixels than the
 * 960 px the face and object pipelines work at.
 */
export const ocrWorkingMaxSide = 2048;

/** The OCR limits: the vision limits with the larger working copy, and the decode allowance grown by its bytes. */
export function ocrLimits(limits: VisionLimits): VisionLimits {
  const side = Math.max(limits.workingMaxSide, ocrWorkingMaxSide);
  // decodeCost counts the working copy and one intermediate of its size, 3 bytes a pixel each.
  const extra = 2 * 3 * (side * side - limits.workingMaxSide * limits.workingMaxSide);
  return { ...limits, workingMaxSide: side, maxDecodeBytes: limits.maxDecodeBytes + extra };
}

function toLine(line: OcrLine, image: DecodedImage): TextLine {
  const points = line.quad.map((p) => ({
    x: Math.min(image.width, Math.max(0, p.x * image.scaleX)),
    y: Math.min(image.height, Math.max(0, p.y * image.scaleY)),
  }));
  const b = quadBounds(points);
  return {
    text: line.text,
    confidence: round4(line.confidence),
    box: { x: round1(b.x), y: round1(b.y), width: round1(b.width), height: round1(b.height) },
    polygon: points.map((p) => [round1(p.x), round1(p.y)]),
  };
}

/** The orientation classifier is optional: a pool without one reads upright text only. */
function optionalModel(request: TaskRequest, task: string): MeteredModel | undefined {
  try {
    return request.models.forTask(task);
  } catch (error) {
    if (error instanceof ModelNotFound) return undefined;
    throw error;
  }
}

/**
 * `POST /v1/vision/text`: the text in an image (raw image body, multipart field `image`, or JSON
 * `{"image": {"b64": ...}}`), line by line in reading order. No text found is a 200 with no lines.
 */
export function textRouter(context: TaskContext): Router<RequestState> {
  const router = new Router<RequestState>();

  router.post('/v1/vision/text', async (ctx) => {
    const { request, decode } = await beginImageTask(context, ctx, ocrLimits);
    const opts: OcrOptions = {
      ...defaultOcrOptions,
      minConfidence: request.options.number('minConfidence', defaultOcrOptions.minConfidence, 0, 1),
      orientation: request.options.boolean('orientation', defaultOcrOptions.orientation),
    };
    // Taken in pipeline order, which is the order the response names them in.
    const detector = request.models.forTask(TEXT_DETECTION_TASK);
    const classifier = opts.orientation ? optionalModel(request, TEXT_ORIENTATION_TASK) : undefined;
    const recognizer = request.models.forTask(TEXT_RECOGNITION_TASK);
    ctx.body = await request.withinDeadline(
      (async (): Promise<TextResponse> => {
        const image = await decode();
        const { lines, timing } = await readText({ detector, classifier, recognizer }, image.pixels, opts, request.deadline);
        request.timer.add('detect', timing.detect);
        if (classifier) request.timer.add('classify', timing.classify);
        request.timer.add('recognize', timing.recognize);
        const out = lines.map((l) => toLine(l, image));
        return request.answer(recognizer, {
          lines: out,
          text: out.map((l) => l.text).join('\n'),
          image: { width: image.width, height: image.height },
        });
      })(),
      'the text request',
    );
  });

  return router;
}
