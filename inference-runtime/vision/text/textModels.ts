import type { ModelSignature } from '../../core/backend.js';
import type { PoolModel } from '../../config/types.js';
import { exampleInputs } from '../../core/exampleInputs.js';
import type { NamedTensors, TensorSpec } from '../../core/tensor.js';

/**
 * What the OCR pipeline needs of its three models (PaddleOCR PP-OCR layout, NCHW float32), in one place:
 * the load-time checks of the task modules and the request path both read these rules.
 */
export const TEXT_DETECTION_TASK = 'vision/text-detection';
export const TEXT_ORIENTATION_TASK = 'vision/text-orientation';
export const TEXT_RECOGNITION_TASK = 'vision/text-recognition';

/** Height of a text line as the recogniser and the orientation classifier take it. */
export const LINE_HEIGHT = 48;
/** Width of the orientation classifier's input (PaddleOCR cls_image_shape 3,48,192). */
export const ORIENTATION_WIDTH = 192;
/** Narrowest recogniser input (PaddleOCR rec_image_shape 3,48,320): shorter lines are padded to it. */
export const MIN_LINE_WIDTH = 320;
/** Widest recogniser input; longer lines are squeezed into it (a 50:1 line of text). */
export const MAX_LINE_WIDTH = 2400;
/** Orientation classes in output order (PaddleOCR label_list ['0', '180']). */
export const ORIENTATION_LABELS = ['0', '180'];

interface View {
  config: PoolModel;
  signature: ModelSignature;
}

const describe = (s: TensorSpec): string => `${s.name} ${s.dtype} [${s.shape.join(', ')}]`;
const fits = (d: number, want: number): boolean => d === -1 || d === want;

/** One float32 NCHW image input with 3 channels and, when `height` is given, that height (or a free one). */
function checkImageInput(sig: ModelSignature, height?: number): string[] {
  const [x] = sig.inputs;
  if (sig.inputs.length !== 1 || x.dtype !== 'float32' || x.shape.length !== 4 || !fits(x.shape[1], 3) || (height !== undefined && !fits(x.shape[2], height))) {
    const want = `one float32 input [N, 3, ${height ?? 'H'}, W]`;
    return [`takes ${sig.inputs.map(describe).join(', ') || 'no input'}; text models need ${want}`];
  }
  return [];
}

function checkOneOutput(sig: ModelSignature, rank: number, want: string, ok: (shape: number[]) => boolean): string[] {
  const [y] = sig.outputs;
  if (sig.outputs.length !== 1 || y.dtype !== 'float32' || y.shape.length !== rank || !ok(y.shape)) {
    return [`returns ${sig.outputs.map(describe).join(', ') || 'nothing'}; expected one float32 output ${want}`];
  }
  return [];
}

export function checkDetector(view: View): string[] {
  return [...checkImageInput(view.signature), ...checkOneOutput(view.signature, 4, '[N, 1, H, W] (text probability map)', (s) => fits(s[1], 1))];
}

export function checkClassifier(view: View): string[] {
  const reasons = [...checkImageInput(view.signature, LINE_HEIGHT), ...checkOneOutput(view.signature, 2, '[N, 2] (0 and 180 degrees)', (s) => fits(s[1], 2))];
  const labels = view.config.labels;
  if (labels && (labels.length !== 2 || labels.join() !== ORIENTATION_LABELS.join())) {
    reasons.push(`labels must be ${JSON.stringify(ORIENTATION_LABELS)} (the output order) when given`);
  }
  return reasons;
}

/**
 * The recogniser's `labels` are its CTC classes in output order: `''` (the blank) first, then the dictionary,
 * then `' '`; their count must equal the output's class dimension.
 */
export function checkRecognizer(view: View): string[] {
  const reasons = [...checkImageInput(view.signature, LINE_HEIGHT), ...checkOneOutput(view.signature, 3, '[N, T, classes] (CTC scores)', () => true)];
  const labels = view.config.labels;
  const classes = view.signature.outputs[0]?.shape[2];
  reasons.push(...recognizerLabelProblems(labels));
  if (labels && classes !== undefined && classes > 0 && labels.length !== classes) reasons.push(`has ${classes} output classes but ${labels.length} labels`);
  return reasons;
}

/**
 * The label rule of a recogniser, without the model (the operator checks MLModels with it): the CTC classes,
 * `''` first; the others are characters, so whitespace ones (`' '`, U+3000) are real classes, and a character
 * listed twice would make the decoding ambiguous.
 */
export function recognizerLabelProblems(labels: readonly string[] | undefined): string[] {
  if (!labels || labels.length < 2) return ['labels must list the CTC classes: the blank as "" first, then the characters'];
  const reasons: string[] = [];
  if (labels[0] !== '') reasons.push(`labels[0] must be "" (the CTC blank), got ${JSON.stringify(labels[0].slice(0, 16))}`);
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const l of labels.slice(1)) (seen.has(l) ? twice : seen).add(l);
  if (twice.size) reasons.push(`characters listed twice make the decoding ambiguous: ${[...twice].slice(0, 10).map((c) => JSON.stringify(c)).join(', ')}`);
  if (seen.has('')) reasons.push('only the first label (the CTC blank) may be ""');
  return reasons;
}

const withShape = (view: View, shape: number[]): NamedTensors => {
  const [x] = view.signature.inputs;
  return exampleInputs([Object.assign({}, x, { shape })], shape[0]);
};

/** A 1280x720 photo as detection sees it: the long side limited to 960, both sides multiples of 32. */
export const detectorExample = (view: View): NamedTensors => withShape(view, [1, 3, 544, 960]);
export const classifierExample = (view: View): NamedTensors => withShape(view, [1, 3, LINE_HEIGHT, ORIENTATION_WIDTH]);
export const recognizerExample = (view: View): NamedTensors => withShape(view, [1, 3, LINE_HEIGHT, MIN_LINE_WIDTH]);
