import type { HostTensor, NamedTensors } from '../core/tensor.js';
import type { Box, Point } from './geometry.js';
import { sigmoid } from './probabilities.js';

/**
 * BlazeFace (MediaPipe short-range face detector) output decoding. Each anchor predicts a score logit and 16
 * regressors: the box centre offset and size, then 6 keypoints (offsets from the anchor), all in model-input
 * pixels. Layout and anchors follow MediaPipe's SSD anchor calculator as @vladmandic/human applies it.
 */
export const keypointNames = ['rightEye', 'leftEye', 'noseTip', 'mouthCenter', 'rightEarTragion', 'leftEarTragion'] as const;

export type KeypointName = (typeof keypointNames)[number];

export interface FaceCandidate {
  /** In model-input pixels. */
  box: Box;
  keypoints: Point[];
  score: number;
}

/** Anchor centres in model-input pixels, in the order the model emits its rows. */
export function blazefaceAnchors(inputSize: number): Point[] {
  const spec = { strides: [inputSize / 16, inputSize / 8], perCell: [2, 6] };
  const anchors: Point[] = [];
  spec.strides.forEach((stride, s) => {
    const cells = Math.floor((inputSize + stride - 1) / stride);
    for (let gy = 0; gy < cells; gy++) {
      for (let gx = 0; gx < cells; gx++) {
        for (let n = 0; n < spec.perCell[s]; n++) anchors.push({ x: stride * (gx + 0.5), y: stride * (gy + 0.5) });
      }
    }
  });
  return anchors;
}

/** Scores and regressors as flat rows: `scores[i]` is anchor i's logit, `regressors[16 i .. 16 i + 15]` its values. */
export interface BlazefaceRows {
  scores: Float32Array;
  regressors: Float32Array;
}

function asFloat(t: HostTensor): Float32Array {
  if (!(t.data instanceof Float32Array)) throw new TypeError(`face detector output is ${t.dtype}, expected float32`);
  return t.data;
}

function rowsOf(t: HostTensor): number {
  return t.shape.length >= 2 ? t.shape[t.shape.length - 2] : 1;
}

function lastDim(t: HostTensor): number {
  return t.shape[t.shape.length - 1];
}

/**
 * Gathers the detector's outputs into anchor order. Two exports of the model exist: the original one emits a
 * single `[1, 896, 17]` tensor (logit then regressors); the one in the default pool splits it per anchor
 * layer into scores `[1, n, 1]` and regressors `[1, n, 16]` (the 16x16 layer with 512 anchors first).
 */
export function blazefaceRows(outputs: NamedTensors): BlazefaceRows {
  const tensors = Object.values(outputs);
  if (tensors.length === 1 && lastDim(tensors[0]) === 17) {
    const all = asFloat(tensors[0]);
    const n = rowsOf(tensors[0]);
    const scores = new Float32Array(n);
    const regressors = new Float32Array(n * 16);
    for (let i = 0; i < n; i++) {
      scores[i] = all[i * 17];
      regressors.set(all.subarray(i * 17 + 1, i * 17 + 17), i * 16);
    }
    return { scores, regressors };
  }
  const scoreParts = tensors.filter((t) => lastDim(t) === 1).sort((a, b) => rowsOf(b) - rowsOf(a));
  const regressorParts = tensors.filter((t) => lastDim(t) === 16).sort((a, b) => rowsOf(b) - rowsOf(a));
  if (scoreParts.length === 0 || scoreParts.length !== regressorParts.length || scoreParts.some((s, i) => rowsOf(s) !== rowsOf(regressorParts[i]))) {
    const shapes = tensors.map((t) => `[${t.shape.join(', ')}]`).join(', ');
    throw new TypeError(`face detector outputs ${shapes} do not look like BlazeFace (scores [n, 1] with regressors [n, 16])`);
  }
  const n = scoreParts.reduce((sum, t) => sum + rowsOf(t), 0);
  const scores = new Float32Array(n);
  const regressors = new Float32Array(n * 16);
  let row = 0;
  scoreParts.forEach((s, i) => {
    scores.set(asFloat(s), row);
    regressors.set(asFloat(regressorParts[i]), row * 16);
    row += rowsOf(s);
  });
  return { scores, regressors };
}

/** Candidates scoring at least `minScore`, in model-input pixels, before non-maximum suppression. */
export function decodeBlazeface(rows: BlazefaceRows, anchors: readonly Point[], minScore: number): FaceCandidate[] {
  if (anchors.length !== rows.scores.length) {
    throw new RangeError(`face detector emitted ${rows.scores.length} anchors, expected ${anchors.length}`);
  }
  const out: FaceCandidate[] = [];
  for (let i = 0; i < anchors.length; i++) {
    // Clamp as MediaPipe does: a huge logit must not overflow exp().
    const score = sigmoid(Math.max(-100, Math.min(100, rows.scores[i])));
    if (score < minScore) continue;
    const r = rows.regressors.subarray(i * 16, i * 16 + 16);
    const a = anchors[i];
    const cx = a.x + r[0];
    const cy = a.y + r[1];
    const w = r[2];
    const h = r[3];
    if (!(w > 0 && h > 0)) continue;
    const keypoints: Point[] = [];
    for (let k = 0; k < 6; k++) keypoints.push({ x: a.x + r[4 + 2 * k], y: a.y + r[5 + 2 * k] });
    out.push({ box: { x: cx - w / 2, y: cy - h / 2, width: w, height: h }, keypoints, score });
  }
  return out;
}
