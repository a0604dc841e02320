import { Router } from '@koa/router';
import { ModelNotFound } from '../../core/errors.js';
import type { MemoryBudget } from '../../core/memoryBudget.js';
import type { ModelRegistry, ServingModel } from '../../core/registry.js';
import { raceDeadline } from '../../http/deadline.js';
import type { RequestState } from '../../http/requestState.js';
import { decodeImage, type DecodedImage } from '../../vision/decode.js';
import { DecodeAdmission } from '../../vision/decodeAdmission.js';
import { round1, round4, type Box } from '../../vision/geometry.js';
import { defaultVisionLimits, type VisionLimits } from '../../vision/limits.js';
import { MeteredModel } from '../../dataplane/meteredModel.js';
import { OptionReader } from '../common/optionReader.js';
import { readImageRequest } from '../common/imageRequest.js';
import { modelInfo, type ModelInfo } from '../common/taskRequest.js';
import { StageTimer, type Timing } from '../common/stageTimer.js';
import { defaultOcrOptions, readText, type OcrLine, type OcrOptions } from '../../vision/text/ocr.js';
import { quadBounds } from '../../vision/text/quad.js';
import { TEXT_DETECTION_TASK, TEXT_ORIENTATION_TASK, TEXT_RECOGNITION_TASK } from '../../vision/text/textModels.js';

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

export interface TextRouterDeps {
  registry: ModelRegistry;
  limits?: Partial<VisionLimits>;
  memoryBudget?: MemoryBudget;
}

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
function optionalModel(registry: ModelRegistry, task: string): ServingModel | undefined {
  try {
    return registry.forTask(task);
  } catch (error) {
    if (error instanceof ModelNotFound) return undefined;
    throw error;
  }
}

/**
 * `POST /v1/vision/text`: the text in an image (raw image body, multipart field `image`, or JSON
 * `{"image": {"b64": ...}}`), line by line in reading order. No text found is a 200 with no lines.
 */
export function textRouter(deps: TextRouterDeps): Router<RequestState> {
  const limits = ocrLimits({ ...defaultVisionLimits, ...deps.limits });
  const admission = new DecodeAdmission(limits, deps.memoryBudget);
  const router = new Router<RequestState>();

  router.post('/v1/vision/text', async (ctx) => {
    const deadline = ctx.state.deadline as AbortSignal | undefined;
    const request = await readImageRequest(ctx, limits.maxBodyBytes, deadline);
    const timer = new StageTimer();
    const options = new OptionReader(ctx.query, request.fields);
    const opts: OcrOptions = {
      ...defaultOcrOptions,
      minConfidence: options.number('minConfidence', defaultOcrOptions.minConfidence, 0, 1),
      orientation: options.boolean('orientation', defaultOcrOptions.orientation),
    };
    const detector = new MeteredModel(deps.registry.forTask(TEXT_DETECTION_TASK));
    const recognizer = new MeteredModel(deps.registry.forTask(TEXT_RECOGNITION_TASK));
    const orientation = opts.orientation ? optionalModel(deps.registry, TEXT_ORIENTATION_TASK) : undefined;
    const classifier = orientation ? new MeteredModel(orientation) : undefined;
    const work = (async (): Promise<TextResponse> => {
      const image = await timer.time('decode', () => decodeImage(request.bytes, limits, { gate: admission, signal: deadline }));
      const { lines, timing } = await readText({ detector, classifier, recognizer }, image.pixels, opts, deadline);
      timer.add('detect', timing.detect);
      if (classifier) timer.add('classify', timing.classify);
      timer.add('recognize', timing.recognize);
      const used = [detector, classifier, recognizer].filter((m): m is MeteredModel => m !== undefined && m.calls > 0);
      const inferenceMs = used.reduce((s, m) => s + m.inferenceMs, 0);
      ctx.state.model = { name: recognizer.name, version: recognizer.version };
      ctx.state.inferenceSeconds = inferenceMs / 1000;
      timer.add('inference', inferenceMs);
      const out = lines.map((l) => toLine(l, image));
      return {
        lines: out,
        text: out.map((l) => l.text).join('\n'),
        image: { width: image.width, height: image.height },
        models: used.map(modelInfo),
        timing: timer.finish(),
      };
    })();
    ctx.body = deadline ? await raceDeadline(work, deadline, 'the text request') : await work;
  });

  return router;
}
