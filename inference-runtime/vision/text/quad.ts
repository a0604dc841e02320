import type { Box, Point } from '../geometry.js';

/** Four corners of a text region, clockwise from the top-left corner of its first character. */
export type Quad = [Point, Point, Point, Point];

/** Convex hull (Andrew's monotone chain), counter-clockwise in y-down pixel coordinates; collinear points dropped. */
export function convexHull(points: readonly Point[]): Point[] {
  const ps = [...points].sort((a, b) => a.x - b.x || a.y - b.y);
  if (ps.length <= 2) return ps;
  const cross = (o: Point, a: Point, b: Point): number => (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
  const lower: Point[] = [];
  for (const p of ps) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = ps.length - 1; i >= 0; i--) {
    const p = ps[i];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop();
    upper.push(p);
  }
  lower.pop();
  upper.pop();
  return lower.concat(upper);
}

/** A rotated rectangle: centre, side lengths along its own axes, and the direction of its first axis. */
export interface RotatedRect {
  cx: number;
  cy: number;
  /** Length along `(ux, uy)`. */
  width: number;
  /** Length along the perpendicular `(-uy, ux)`. */
  height: number;
  ux: number;
  uy: number;
}

/**
 * The smallest-area rectangle enclosing the points (rotating calipers over the hull edges: the optimum has a
 * side on one of them), as OpenCV's minAreaRect answers it.
 */
export function minAreaRect(points: readonly Point[]): RotatedRect {
  const hull = convexHull(points);
  if (hull.length === 0) return { cx: 0, cy: 0, width: 0, height: 0, ux: 1, uy: 0 };
  if (hull.length === 1) return { cx: hull[0].x, cy: hull[0].y, width: 0, height: 0, ux: 1, uy: 0 };
  let best: RotatedRect | undefined;
  let bestArea = Infinity;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i];
    const b = hull[(i + 1) % hull.length];
    const len = Math.hypot(b.x - a.x, b.y - a.y);
    if (len === 0) continue;
    const ux = (b.x - a.x) / len;
    const uy = (b.y - a.y) / len;
    let minU = Infinity;
    let maxU = -Infinity;
    let minV = Infinity;
    let maxV = -Infinity;
    for (const p of hull) {
      const u = p.x * ux + p.y * uy;
      const v = -p.x * uy + p.y * ux;
      if (u < minU) minU = u;
      if (u > maxU) maxU = u;
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
    }
    const areaHere = (maxU - minU) * (maxV - minV);
    if (areaHere < bestArea) {
      bestArea = areaHere;
      const cu = (minU + maxU) / 2;
      const cv = (minV + maxV) / 2;
      best = { cx: cu * ux - cv * uy, cy: cu * uy + cv * ux, width: maxU - minU, height: maxV - minV, ux, uy };
    }
  }
  return best!;
}

/** The rectangle grown by `distance` on every side (what a round-joined polygon offset's bounding rectangle is). */
export function growRect(r: RotatedRect, distance: number): RotatedRect {
  return Object.assign({}, r, { width: r.width + 2 * distance, height: r.height + 2 * distance });
}

/** Corners of a rotated rectangle, ordered as a Quad. */
export function rectCorners(r: RotatedRect): Quad {
  const hx = (r.width / 2) * r.ux;
  const hy = (r.width / 2) * r.uy;
  const vx = (r.height / 2) * -r.uy;
  const vy = (r.height / 2) * r.ux;
  return orderQuad([
    { x: r.cx - hx - vx, y: r.cy - hy - vy },
    { x: r.cx + hx - vx, y: r.cy + hy - vy },
    { x: r.cx + hx + vx, y: r.cy + hy + vy },
    { x: r.cx - hx + vx, y: r.cy - hy + vy },
  ]);
}

/**
 * Orders four corners top-left, top-right, bottom-right, bottom-left as PaddleOCR's get_mini_boxes does: the
 * two leftmost points are the left side (the upper one first), the two others the right side.
 */
export function orderQuad(points: readonly Point[]): Quad {
  const byX = [...points].sort((a, b) => a.x - b.x || a.y - b.y);
  const [l1, l2, r1, r2] = byX;
  const [tl, bl] = l1.y <= l2.y ? [l1, l2] : [l2, l1];
  const [tr, br] = r1.y <= r2.y ? [r1, r2] : [r2, r1];
  return [tl, tr, br, bl];
}

export function polygonArea(points: readonly Point[]): number {
  let s = 0;
  for (let i = 0; i < points.length; i++) {
    const a = points[i];
    const b = points[(i + 1) % points.length];
    s += a.x * b.y - b.x * a.y;
  }
  return Math.abs(s) / 2;
}

export function polygonPerimeter(points: readonly Point[]): number {
  let s = 0;
  for (let i = 0; i < points.length; i++) {
    const a = points[i];
    const b = points[(i + 1) % points.length];
    s += Math.hypot(b.x - a.x, b.y - a.y);
  }
  return s;
}

/** The axis-aligned box around a quad. */
export function quadBounds(q: readonly Point[]): Box {
  const xs = q.map((p) => p.x);
  const ys = q.map((p) => p.y);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}

/** Side lengths of a quad: the longer of its top/bottom edges, the longer of its left/right edges. */
export function quadSize(q: Quad): { width: number; height: number } {
  const d = (a: Point, b: Point): number => Math.hypot(a.x - b.x, a.y - b.y);
  return { width: Math.max(d(q[0], q[1]), d(q[3], q[2])), height: Math.max(d(q[0], q[3]), d(q[1], q[2])) };
}
