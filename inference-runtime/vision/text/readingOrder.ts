import type { Quad } from './quad.js';

/**
 * Reading order for horizontal scripts: lines grouped into rows (a line joins a row when its vertical centre
 * falls within the row's first line's vertical extent), rows from top to bottom, lines left to right within
 * a row. Slightly tilted lines keep their row because the test uses centres, not top edges.
 */
export function readingOrder<T extends { quad: Quad }>(lines: readonly T[]): T[] {
  const spanOf = (q: Quad) => {
    const ys = q.map((p) => p.y);
    const top = Math.min(...ys);
    const bottom = Math.max(...ys);
    return { top, bottom, centre: (top + bottom) / 2, left: Math.min(...q.map((p) => p.x)) };
  };
  const items = lines.map((line) => ({ line, ...spanOf(line.quad) })).sort((a, b) => a.centre - b.centre || a.left - b.left);
  const rows: (typeof items)[] = [];
  for (const item of items) {
    const row = rows.find((r) => item.centre >= r[0].top && item.centre <= r[0].bottom && r[0].centre >= item.top && r[0].centre <= item.bottom);
    if (row) row.push(item);
    else rows.push([item]);
  }
  const centreOf = (r: typeof items) => r.reduce((s, i) => s + i.centre, 0) / r.length;
  return rows
    .sort((a, b) => centreOf(a) - centreOf(b))
    .flatMap((r) => r.sort((a, b) => a.left - b.left).map((i) => i.line));
}
