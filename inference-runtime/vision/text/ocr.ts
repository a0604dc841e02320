import sharp from 'sharp';
import { NotReady } from '../../core/errors.js';
import type { InferOptions } from '../../core/executor.js';
import type { ServingModel } from '../../core/registry.js';
import { float32, type HostTensor } from '../../core/tensor.js';
import type { RgbImage } from '../decode.js';
import { cropResize } from '../tensorize.js';
import { ctcGreedyDecode } from './ctcDecode.js';
import { defaultDbOptions, textRegions, type DbOptions } from './dbPostprocess.js';
import { quadSize, type Quad } from './quad.js';
import { readingOrder } from './readingOrder.js';
import {
  checkClassifier,
  checkDetector,
  checkRecognizer,
  LINE_HEIGHT,
  MAX_LINE_WIDTH,
  MIN_LINE_WIDTH,
  ORIENTATION_WIDTH,
} from './textModels.js';
import { rotate180, warpQuad, writeChwBgr } from './warp.js';
import type { CancelSignal } from '../../core/cancelSignal.js';

/** The models of one OCR request; the orientation classifier is optional. */
export interface OcrModels {
  detector: ServingModel;
  classifier?: ServingModel;
  recognizer: ServingModel;
}

export interface OcrOptions {
  /** Longest side detection sees (PaddleOCR det_limit_side_len 960, limit type max). */
  detectionMaxSide: number;
  db: DbOptions;
  /** Lines whose mean character probability is lower are dropped (PaddleOCR drop_score 0.5). */
  minConfidence: number;
  /** Run the orientation classifier (when the pool has one) and turn lines it finds upside down. */
  orientation: boolean;
  /** The classifier's probability needed to turn a line (cls_thresh 0.9). */
  orientationThreshold: number;
  /** Lines per recogniser call (rec_batch_num 6). */
  batchSize: number;
  /** Most lines recognised per image, the largest regions first. */
  maxLines: number;
}

export const defaultOcrOptions: OcrOptions = {
  detectionMaxSide: 960,
  db: defaultDbOptions,
  minConfidence: 0.5,
  orientation: true,
  orientationThreshold: 0.9,
  batchSize: 6,
  maxLines: 200,
};

/** One recognised line in the pixels of the image the pipeline was given. */
export interface OcrLine {
  text: string;
  confidence: number;
  quad: Quad;
}

/** Stages the pipeline times itself, in milliseconds (engines included). */
export interface OcrTiming {
  detect: number;
  classify: number;
  recognize: number;
}

// PaddleOCR's det NormalizeImage (ImageNet statistics, applied in B, G, R channel order) and the rec/cls
// normalisation to [-1, 1].
const detMean = [0.485, 0.456, 0.406];
const detStd = [0.229, 0.224, 0.225];
const lineMean = [0.5, 0.5, 0.5];
const lineStd = [0.5, 0.5, 0.5];

const roundUp = (v: number, m: number): number => Math.ceil(v / m) * m;

/**
 * A model of the pipeline that does not fit its step (a pool entry for the task with another signature or
 * labels) is a 503 naming why, not a 500 from deep inside the pipeline. The task table runs the same checks
 * at load.
 */
function ensureFits(model: ServingModel, check: typeof checkDetector, what: string): void {
  const reasons = check({ config: model.config, signature: model.signature() });
  if (reasons.length) throw new NotReady(`model ${model.name} cannot ${what}: ${reasons.join('; ')}`);
}

/** Detection input size: the long side limited to `maxSide`, both sides rounded to multiples of 32 (at least 32). */
export function detectionSize(width: number, height: number, maxSide: number): { width: number; height: number } {
  const ratio = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(32, Math.round((width * ratio) / 32) * 32), height: Math.max(32, Math.round((height * ratio) / 32) * 32) };
}

async function detect(model: ServingModel, img: RgbImage, options: OcrOptions, infer: InferOptions): Promise<{ quad: Quad; score: number }[]> {
  ensureFits(model, checkDetector, 'detect text');
  const size = detectionSize(img.width, img.height, options.detectionMaxSide);
  const resized = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(size.width, size.height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  const data = new Float32Array(3 * size.width * size.height);
  writeChwBgr({ data: resized, width: size.width, height: size.height }, data, 0, size.width, detMean, detStd);
  const input = model.signature().inputs[0].name;
  const out = Object.values(await model.infer({ [input]: float32([1, 3, size.height, size.width], data) }, infer))[0];
  const [, , mh, mw] = out.shape;
  if (out.dtype !== 'float32' || mh !== size.height || mw !== size.width) {
    throw new NotReady(`model ${model.name} cannot detect text: it returned ${out.dtype} [${out.shape.join(', ')}] for a ${size.width}x${size.height} input, not a map of the same size`);
  }
  const sx = img.width / mw;
  const sy = img.height / mh;
  return textRegions(out.data as Float32Array, mw, mh, options.db)
    .slice(0, options.maxLines)
    .map((r) => ({ score: r.score, quad: r.quad.map((p) => ({ x: clamp(p.x * sx, 0, img.width), y: clamp(p.y * sy, 0, img.height) })) as Quad }));
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/**
 * The quad's text as a 48 px high line image. A region much taller than wide is read as a vertical line:
 * straightened with its top-right corner first, as PaddleOCR's rot90 does.
 */
function lineImage(img: RgbImage, quad: Quad): RgbImage {
  const { width, height } = quadSize(quad);
  const vertical = height / Math.max(width, 1e-6) >= 1.5;
  const q: Quad = vertical ? [quad[1], quad[2], quad[3], quad[0]] : quad;
  const [w, h] = vertical ? [height, width] : [width, height];
  const outWidth = clamp(Math.round((w * LINE_HEIGHT) / Math.max(h, 1e-6)), 1, MAX_LINE_WIDTH);
  return warpQuad(img, q, outWidth, LINE_HEIGHT);
}

/** A batch of line images as one [n, 3, 48, width] tensor, each padded on the right (or squeezed to `width`). */
function lineBatch(lines: readonly RgbImage[], width: number): HostTensor {
  const per = 3 * LINE_HEIGHT * width;
  const data = new Float32Array(per * lines.length);
  lines.forEach((line, i) => {
    const fitted = line.width > width ? cropResize(line, { x: 0, y: 0, width: line.width, height: line.height }, width, LINE_HEIGHT) : line;
    writeChwBgr(fitted, data, i * per, width, lineMean, lineStd);
  });
  return float32([lines.length, 3, LINE_HEIGHT, width], data);
}

async function orient(model: ServingModel, lines: RgbImage[], options: OcrOptions, infer: InferOptions): Promise<RgbImage[]> {
  ensureFits(model, checkClassifier, 'classify text orientation');
  const input = model.signature().inputs[0].name;
  const out = [...lines];
  const chunk = 16;
  const runs: Promise<void>[] = [];
  for (let start = 0; start < lines.length; start += chunk) {
    const part = lines.slice(start, start + chunk);
    runs.push(
      model.infer({ [input]: lineBatch(part, ORIENTATION_WIDTH) }, infer).then((result) => {
        const probs = Object.values(result)[0].data as Float32Array;
        part.forEach((line, i) => {
          if (probs[i * 2 + 1] > probs[i * 2] && probs[i * 2 + 1] > options.orientationThreshold) out[start + i] = rotate180(line);
        });
      }),
    );
  }
  await Promise.all(runs);
  return out;
}

/**
 * Recognises line images in batches of similar widths (sorted by width, each batch padded to its widest line
 * rounded up to 32 px, at least 320 px), so a short word is not padded to the width of the longest line.
 */
async function recognize(model: ServingModel, lines: RgbImage[], options: OcrOptions, infer: InferOptions): Promise<{ text: string; confidence: number }[]> {
  ensureFits(model, checkRecognizer, 'recognise text');
  const labels = model.config.labels!;
  const input = model.signature().inputs[0].name;
  const order = lines.map((_, i) => i).sort((a, b) => lines[a].width - lines[b].width);
  const results: { text: string; confidence: number }[] = new Array(lines.length);
  const runs: Promise<void>[] = [];
  for (let start = 0; start < order.length; start += options.batchSize) {
    const ids = order.slice(start, start + options.batchSize);
    const part = ids.map((i) => lines[i]);
    const width = clamp(roundUp(Math.max(...part.map((l) => l.width)), 32), MIN_LINE_WIDTH, MAX_LINE_WIDTH);
    runs.push(
      model.infer({ [input]: lineBatch(part, width) }, infer).then((result) => {
        const scores = Object.values(result)[0];
        const [, steps, classes] = scores.shape;
        ids.forEach((id, row) => {
          results[id] = ctcGreedyDecode(scores.data as Float32Array, steps, classes, labels, row);
        });
      }),
    );
  }
  await Promise.all(runs);
  return results;
}

/**
 * Text in an image: detection (DB), straightening each region into a 48 px line, orientation (180 degrees),
 * batched recognition (CTC), reading order. Lines below `minConfidence` or with no characters are dropped;
 * an image with no text gives an empty list.
 */
export async function readText(
  models: OcrModels,
  img: RgbImage,
  options: OcrOptions = defaultOcrOptions,
  signal?: CancelSignal,
): Promise<{ lines: OcrLine[]; timing: OcrTiming }> {
  // Every tensor is built for its one call: hand the buffers to the worker instead of copying them.
  const infer: InferOptions = { signal, transfer: true };
  const timing: OcrTiming = { detect: 0, classify: 0, recognize: 0 };
  let t0 = performance.now();
  const regions = await detect(models.detector, img, options, infer);
  timing.detect = performance.now() - t0;
  if (regions.length === 0) return { lines: [], timing };
  let images = regions.map((r) => lineImage(img, r.quad));
  if (models.classifier && options.orientation) {
    t0 = performance.now();
    images = await orient(models.classifier, images, options, infer);
    timing.classify = performance.now() - t0;
  }
  t0 = performance.now();
  const texts = await recognize(models.recognizer, images, options, infer);
  timing.recognize = performance.now() - t0;
  const lines = regions
    .map((r, i) => ({ text: texts[i].text.trim(), confidence: texts[i].confidence, quad: r.quad }))
    .filter((l) => l.text.length > 0 && l.confidence >= options.minConfidence);
  return { lines: readingOrder(lines), timing };
}
