import type { ServingModel } from '../core/registry.js';
import type { HostTensor } from '../core/tensor.js';
import type { RgbImage } from './decode.js';
import type { Box } from './geometry.js';
import { round4 } from './geometry.js';
import { fer2013Codes, fer2013Expressions, type ExpressionLabel } from './labels.js';
import { argmax, asProbabilities } from './probabilities.js';
import { acceptsBatches, imageInput, preprocessingOf } from './servingModel.js';
import { cropsToBatchTensor } from './tensorize.js';

/**
 * The face crop handed to the expression model is the detector's box grown to a square this many times its
 * longer side: the detector's box stops at the brows and chin, FER2013 faces include forehead and jaw.
 */
export const expressionCropMargin = 1.4;

export interface Expression {
  /** FER2013 code: 0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral. */
  code: number;
  label: ExpressionLabel;
  confidence: number;
}

export interface ExpressionResult {
  expression: Expression;
  /** Probability of every FER2013 expression, in code order. */
  scores: Record<ExpressionLabel, number>;
}

export interface ExpressionRun {
  results: ExpressionResult[];
  /** Number of model calls: 1 when the model takes a batch, one per face when its batch size is fixed at 1. */
  calls: number;
}

/**
 * Classifies the expression of each crop region (working pixels). All faces of an image go to the model as
 * one batch when its batch dimension allows it; a model fixed at batch 1 is called once per face.
 */
export async function classifyExpressions(model: ServingModel, pixels: RgbImage, regions: readonly Box[]): Promise<ExpressionRun> {
  if (regions.length === 0) return { results: [], calls: 0 };
  // The reference pipeline (human's emotion.ts) feeds grey 64x64 crops mapped onto [-1, 1].
  const pre = preprocessingOf(model, { colour: 'grayscale', range: [-1, 1] });
  const inputName = imageInput(model).name;
  const batches = acceptsBatches(model) ? [regions] : regions.map((r) => [r]);
  const rows: number[][] = [];
  for (const batch of batches) {
    const outputs = Object.values(await model.infer({ [inputName]: cropsToBatchTensor(pixels, batch, pre) }, { transfer: true }));
    if (outputs.length !== 1) throw new TypeError(`expression model ${model.name} returned ${outputs.length} outputs, expected 1`);
    rows.push(...splitRows(outputs[0], batch.length));
  }
  const codes = fer2013Codes(model.config.labels, rows[0].length);
  return { results: rows.map((row) => toExpression(asProbabilities(row), codes)), calls: batches.length };
}

function splitRows(t: HostTensor, count: number): number[][] {
  if (!(t.data instanceof Float32Array) || t.shape.length !== 2 || t.shape[0] !== count) {
    throw new TypeError(`expression model returned ${t.dtype} [${t.shape.join(', ')}], expected float32 [${count}, classes]`);
  }
  const width = t.shape[1];
  const data = t.data;
  return Array.from({ length: count }, (_, i) => Array.from(data.subarray(i * width, (i + 1) * width)));
}

function toExpression(probabilities: number[], codes: number[]): ExpressionResult {
  const byCode = new Array<number>(fer2013Expressions.length).fill(0);
  probabilities.forEach((p, i) => (byCode[codes[i]] += p));
  const best = argmax(byCode);
  const scores = {} as Record<ExpressionLabel, number>;
  fer2013Expressions.forEach((label, code) => (scores[label] = round4(byCode[code])));
  return { expression: { code: best, label: fer2013Expressions[best], confidence: round4(byCode[best]) }, scores };
}
