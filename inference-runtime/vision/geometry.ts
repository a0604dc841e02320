/** Boxes and points in input-image pixels, the unit every vision response uses. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

export function area(b: Box): number {
  return Math.max(0, b.width) * Math.max(0, b.height);
}

export function intersectionOverUnion(a: Box, b: Box): number {
  const x1 = Math.max(a.x, b.x);
  const y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width);
  const y2 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  if (inter === 0) return 0;
  return inter / (area(a) + area(b) - inter);
}

/** Clips a box to the image; a box entirely outside comes back with zero width or height. */
export function clipBox(b: Box, width: number, height: number): Box {
  const x1 = Math.min(Math.max(b.x, 0), width);
  const y1 = Math.min(Math.max(b.y, 0), height);
  const x2 = Math.min(Math.max(b.x + b.width, 0), width);
  const y2 = Math.min(Math.max(b.y + b.height, 0), height);
  return { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
}

/** A square box around the same centre whose side is `factor` times the longer side of `b`. */
export function squareWithMargin(b: Box, factor: number): Box {
  const side = Math.max(b.width, b.height) * factor;
  const cx = b.x + b.width / 2;
  const cy = b.y + b.height / 2;
  return { x: cx - side / 2, y: cy - side / 2, width: side, height: side };
}

export function scaleBox(b: Box, sx: number, sy: number = sx): Box {
  return { x: b.x * sx, y: b.y * sy, width: b.width * sx, height: b.height * sy };
}

/** Rounds to one decimal: sub-pixel precision beyond that is noise in a JSON response. */
export function roundBox(b: Box): Box {
  return { x: round1(b.x), y: round1(b.y), width: round1(b.width), height: round1(b.height) };
}

export function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

export function round4(v: number): number {
  return Math.round(v * 10000) / 10000;
}
