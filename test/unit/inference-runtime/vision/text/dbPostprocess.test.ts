import { expect } from 'chai';
import fc from 'fast-check';
import { textRegions } from '../../../../../inference-runtime/vision/text/dbPostprocess.js';
import { quadBounds } from '../../../../../inference-runtime/vision/text/quad.js';

function mapWith(width: number, height: number, rects: { x: number; y: number; w: number; h: number; p?: number }[]): Float32Array {
  const map = new Float32Array(width * height);
  for (const r of rects) for (let y = r.y; y < r.y + r.h; y++) for (let x = r.x; x < r.x + r.w; x++) map[y * width + x] = r.p ?? 0.9;
  return map;
}

describe('DB post-processing', () => {
  it('turns each confident region into one quad grown around it by area x 1.5 / perimeter', () => {
    const map = mapWith(200, 100, [
      { x: 20, y: 10, w: 100, h: 10 },
      { x: 30, y: 60, w: 60, h: 8 },
    ]);
    const regions = textRegions(map, 200, 100);
    expect(regions).to.have.length(2);
    const [a, b] = regions.map((r) => quadBounds(r.quad));
    // Pixel centres span 99 x 9; the margin is 99 * 9 * 1.5 / (2 * (99 + 9)) = 6.19 px on every side.
    expect(a.x).to.be.closeTo(20 - 6.19, 0.05);
    expect(a.width).to.be.closeTo(99 + 2 * 6.19, 0.1);
    expect(a.height).to.be.closeTo(9 + 2 * 6.19, 0.1);
    expect(b.y).to.be.below(60);
    for (const r of regions) expect(r.score).to.be.closeTo(0.9, 1e-6);
  });

  it('drops regions below the box threshold, thinner than the minimum size, and empty maps', () => {
    expect(textRegions(new Float32Array(64 * 64), 64, 64)).to.deep.equal([]);
    expect(textRegions(mapWith(64, 64, [{ x: 5, y: 5, w: 40, h: 10, p: 0.5 }]), 64, 64)).to.deep.equal([]);
    expect(textRegions(mapWith(64, 64, [{ x: 5, y: 5, w: 40, h: 2 }]), 64, 64)).to.deep.equal([]);
  });

  it('never throws on arbitrary maps and keeps its quads near the map', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 48 }), fc.integer({ min: 1, max: 48 }), fc.integer(), (w, h, seed) => {
        let x = seed >>> 0 || 1;
        const map = new Float32Array(w * h).map(() => {
          x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
          return x / 4294967296;
        });
        for (const r of textRegions(map, w, h)) {
          const b = quadBounds(r.quad);
          // Grown regions may reach past the border by their margin, never further than the map's own size.
          expect(b.x).to.be.at.least(-Math.max(w, h));
          expect(b.x + b.width).to.be.at.most(2 * Math.max(w, h));
          expect(r.score).to.be.within(0.6, 1);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('finds nothing in a page-sized map of isolated specks (130 000 one-pixel regions)', () => {
    const [w, h] = [960, 544];
    const map = new Float32Array(w * h);
    for (let y = 0; y < h; y += 2) for (let x = 0; x < w; x += 2) map[y * w + x] = 0.99;
    expect(textRegions(map, w, h)).to.deep.equal([]);
  });

  it('refuses a map whose size does not match', () => {
    expect(() => textRegions(new Float32Array(10), 4, 4)).to.throw(RangeError);
  });
});
