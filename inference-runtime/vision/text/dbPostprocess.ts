import type { Point } from '../geometry.js';
import { growRect, minAreaRect, rectCorners, type Quad } from './quad.js';

/**
 * DB (Differentiable Binarization) post-processing, as PaddleOCR's DBPostProcess does it: the text-probability
 * map is binarised, each connected region becomes its minimum-area rectangle, rectangles whose mean probability
 * is low are dropped, and the rest are grown back ("unclipped") by the margin the model was trained to shrink
 * text regions by.
 */
export interface DbOptions {
  /** Probability above which a pixel is text (PaddleOCR det_db_thresh 0.3). */
  threshold: number;
  /** Mean probability inside a region's rectangle needed to keep it (det_db_box_thresh 0.6). */
  boxThreshold: number;
  /** Growth of a region: distance = area x ratio / perimeter (det_db_unclip_ratio 1.5). */
  unclipRatio: number;
  /** Regions examined at most, largest first (max_candidates 1000). */
  maxCandidates: number;
  /** Shorter side, in map pixels, below which a region is noise (min_size 3). */
  minSize: number;
}

export const defaultDbOptions: DbOptions = { threshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.5, maxCandidates: 1000, minSize: 3 };

export interface TextRegion {
  /** Corners in probability-map pixels. */
  quad: Quad;
  /** Mean text probability inside the region's rectangle before growing. */
  score: number;
}

interface Component {
  /** Hull candidates: the leftmost and rightmost pixel centre of each row. */
  extremes: Point[];
  pixels: number;
}

/**
 * Labels 8-connected regions of `map > threshold` with an explicit stack (no recursion, typed arrays only).
 * Regions of `minPixels` or fewer are skipped: their points span less than the minimum size in every
 * direction, and a map full of specks must not cost one object per speck.
 */
function components(map: Float32Array, width: number, height: number, threshold: number, minPixels: number): Component[] {
  const seen = new Uint8Array(width * height);
  const stack = new Int32Array(width * height);
  // Leftmost and rightmost column per row of the region being filled; rows are reset as they are read out.
  const rowMin = new Int32Array(height).fill(-1);
  const rowMax = new Int32Array(height).fill(-1);
  const found: Component[] = [];
  for (let start = 0; start < map.length; start++) {
    if (seen[start] || !(map[start] > threshold)) continue;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    let pixels = 0;
    let y0 = height;
    let y1 = -1;
    while (top > 0) {
      const p = stack[--top];
      pixels++;
      const y = (p / width) | 0;
      const x = p - y * width;
      if (rowMin[y] < 0 || x < rowMin[y]) rowMin[y] = x;
      if (x > rowMax[y]) rowMax[y] = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if ((dx === 0 && dy === 0) || nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (!seen[q] && map[q] > threshold) {
            seen[q] = 1;
            stack[top++] = q;
          }
        }
      }
    }
    const extremes: Point[] = [];
    for (let y = y0; y <= y1; y++) {
      const lo = rowMin[y];
      const hi = rowMax[y];
      if (lo >= 0 && pixels > minPixels) {
        extremes.push({ x: lo, y });
        if (hi !== lo) extremes.push({ x: hi, y });
      }
      rowMin[y] = -1;
      rowMax[y] = -1;
    }
    if (pixels > minPixels) found.push({ extremes, pixels });
  }
  return found;
}

/** Mean of the map over the pixels whose centre lies inside the convex quad (PaddleOCR's box_score_fast). */
function meanInside(map: Float32Array, width: number, height: number, quad: Quad): number {
  const xs = quad.map((p) => p.x);
  const ys = quad.map((p) => p.y);
  const x0 = Math.max(0, Math.floor(Math.min(...xs)));
  const x1 = Math.min(width - 1, Math.ceil(Math.max(...xs)));
  const y0 = Math.max(0, Math.floor(Math.min(...ys)));
  const y1 = Math.min(height - 1, Math.ceil(Math.max(...ys)));
  let sum = 0;
  let n = 0;
  const eps = 0.5;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let inside = true;
      for (let i = 0; i < 4 && inside; i++) {
        const a = quad[i];
        const b = quad[(i + 1) % 4];
        // Clockwise corners in y-down coordinates: inside points are on the right of every edge.
        const cross = (b.x - a.x) * (y - a.y) - (b.y - a.y) * (x - a.x);
        inside = cross >= -eps * Math.hypot(b.x - a.x, b.y - a.y);
      }
      if (inside) {
        sum += map[y * width + x];
        n++;
      }
    }
  }
  return n > 0 ? sum / n : 0;
}

/** Text regions of a probability map (`width` x `height`, row-major), in map pixels. */
export function textRegions(map: Float32Array, width: number, height: number, options: DbOptions = defaultDbOptions): TextRegion[] {
  if (map.length !== width * height) throw new RangeError(`probability map has ${map.length} values, expected ${width}x${height}`);
  const regions: TextRegion[] = [];
  const candidates = components(map, width, height, options.threshold, options.minSize)
    .sort((a, b) => b.pixels - a.pixels)
    .slice(0, options.maxCandidates);
  for (const c of candidates) {
    const rect = minAreaRect(c.extremes);
    if (Math.min(rect.width, rect.height) < options.minSize) continue;
    const score = meanInside(map, width, height, rectCorners(rect));
    if (score < options.boxThreshold) continue;
    const distance = (rect.width * rect.height * options.unclipRatio) / (2 * (rect.width + rect.height));
    const grown = growRect(rect, distance);
    if (Math.min(grown.width, grown.height) < options.minSize + 2) continue;
    regions.push({ quad: rectCorners(grown), score });
  }
  return regions;
}
