import type { HostTensor, NamedTensors } from '../core/tensor.js';
import type { Box } from './geometry.js';

/**
 * CenterNet (MobileNetV3 backbone) emits its top-k detections from inside the graph: `[1, k, 6]` rows of
 * x1, y1, x2, y2 (model-input pixels), score, class index (0-based COCO order).
 */
export interface ObjectCandidate {
  /** In model-input pixels. */
  box: Box;
  score: number;
  classIndex: number;
}

/** The detections tensor: the output whose last dimension is 6 (`tower_0/detections` in the default model). */
export function detectionsOutput(outputs: NamedTensors): HostTensor {
  const found = Object.values(outputs).filter((t) => t.shape.length === 3 && t.shape[2] === 6);
  if (found.length !== 1 || !(found[0].data instanceof Float32Array)) {
    const shapes = Object.entries(outputs).map(([n, t]) => `${n} [${t.shape.join(', ')}]`).join(', ');
    throw new TypeError(`object detector outputs ${shapes} have no float32 [1, k, 6] detections tensor`);
  }
  return found[0];
}

export function decodeDetections(detections: HostTensor, minScore: number): ObjectCandidate[] {
  const data = detections.data as Float32Array;
  const rows = detections.shape[1];
  const out: ObjectCandidate[] = [];
  for (let i = 0; i < rows; i++) {
    const [x1, y1, x2, y2, score, cls] = data.subarray(i * 6, i * 6 + 6);
    if (!(score >= minScore) || !Number.isFinite(cls) || cls < 0) continue;
    if (!(x2 > x1 && y2 > y1)) continue;
    out.push({ box: { x: x1, y: y1, width: x2 - x1, height: y2 - y1 }, score, classIndex: Math.round(cls) });
  }
  return out;
}
