import { intersectionOverUnion, type Box } from './geometry.js';

export interface Scored {
  box: Box;
  score: number;
}

export interface NmsOptions {
  /** Candidates overlapping a kept one by more than this IoU are dropped. */
  iouThreshold: number;
  /** Candidates scoring below this are dropped before suppression. */
  minScore: number;
  /** At most this many are kept (highest scores first). */
  maxResults: number;
  /** Only suppress overlaps within the same class (object detection); default: across all. */
  classOf?: (index: number) => number;
}

/**
 * Greedy non-maximum suppression: the highest-scoring candidate wins, overlapping ones are dropped.
 * Returns the kept candidates, best first.
 */
export function nonMaxSuppression<T extends Scored>(candidates: readonly T[], opts: NmsOptions): T[] {
  const order = candidates
    .map((c, i) => i)
    .filter((i) => candidates[i].score >= opts.minScore)
    .sort((a, b) => candidates[b].score - candidates[a].score);
  const kept: number[] = [];
  for (const i of order) {
    if (kept.length >= opts.maxResults) break;
    const suppressed = kept.some(
      (k) =>
        (opts.classOf === undefined || opts.classOf(k) === opts.classOf(i)) &&
        intersectionOverUnion(candidates[k].box, candidates[i].box) > opts.iouThreshold,
    );
    if (!suppressed) kept.push(i);
  }
  return kept.map((i) => candidates[i]);
}
