import { expect } from 'chai';
import { readingOrder } from '../../../../../inference-runtime/vision/text/readingOrder.js';
import type { Quad } from '../../../../../inference-runtime/vision/text/quad.js';

const line = (text: string, x: number, y: number, w: number, h: number, tilt = 0): { text: string; quad: Quad } => ({
  text,
  quad: [
    { x, y },
    { x: x + w, y: y + tilt },
    { x: x + w, y: y + h + tilt },
    { x, y: y + h },
  ],
});

describe('reading order', () => {
  it('reads rows top to bottom and left to right within a row, tolerating tilt and uneven tops', () => {
    const lines = [line('d', 10, 200, 300, 30), line('c', 400, 104, 200, 26, 8), line('a', 10, 10, 100, 30), line('b', 10, 100, 300, 30), line('a2', 200, 14, 80, 24)];
    expect(readingOrder(lines).map((l) => l.text)).to.deep.equal(['a', 'a2', 'b', 'c', 'd']);
  });

  it('keeps stacked lines that do not share a row apart', () => {
    expect(readingOrder([line('lower', 0, 40, 100, 30), line('upper', 50, 0, 100, 30)]).map((l) => l.text)).to.deep.equal(['upper', 'lower']);
  });
});
