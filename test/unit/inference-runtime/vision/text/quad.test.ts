import { expect } from 'chai';
import fc from 'fast-check';
import { convexHull, minAreaRect, orderQuad, polygonArea, rectCorners } from '../../../../../inference-runtime/vision/text/quad.js';

describe('text quads: minimum-area rectangle', () => {
  it('recovers a rotated rectangle from points filling it, and encloses every point', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 5, max: 400, noNaN: true }),
        fc.double({ min: 3, max: 80, noNaN: true }),
        fc.double({ min: -Math.PI / 2, max: Math.PI / 2, noNaN: true }),
        fc.double({ min: 0, max: 1000, noNaN: true }),
        fc.double({ min: 0, max: 1000, noNaN: true }),
        (w, h, angle, cx, cy) => {
          const [ux, uy] = [Math.cos(angle), Math.sin(angle)];
          const points = [];
          for (let i = 0; i <= 10; i++) {
            for (let j = 0; j <= 4; j++) {
              const u = (i / 10 - 0.5) * w;
              const v = (j / 4 - 0.5) * h;
              points.push({ x: cx + u * ux - v * uy, y: cy + u * uy + v * ux });
            }
          }
          const r = minAreaRect(points);
          expect(r.width * r.height).to.be.closeTo(w * h, w * h * 1e-6 + 1e-6);
          expect(r.cx).to.be.closeTo(cx, 1e-6);
          expect(r.cy).to.be.closeTo(cy, 1e-6);
          const corners = rectCorners(r);
          expect(polygonArea(corners)).to.be.closeTo(w * h, w * h * 1e-6 + 1e-6);
          for (const p of points) {
            const u = (p.x - r.cx) * r.ux + (p.y - r.cy) * r.uy;
            const v = -(p.x - r.cx) * r.uy + (p.y - r.cy) * r.ux;
            expect(Math.abs(u)).to.be.at.most(r.width / 2 + 1e-6);
            expect(Math.abs(v)).to.be.at.most(r.height / 2 + 1e-6);
          }
        },
      ),
    );
  });

  it('orders corners top-left, top-right, bottom-right, bottom-left', () => {
    const q = orderQuad([
      { x: 100, y: 40 },
      { x: 0, y: 0 },
      { x: 0, y: 30 },
      { x: 100, y: 5 },
    ]);
    expect(q).to.deep.equal([
      { x: 0, y: 0 },
      { x: 100, y: 5 },
      { x: 100, y: 40 },
      { x: 0, y: 30 },
    ]);
  });

  it('drops interior and collinear points from the hull', () => {
    const hull = convexHull([
      { x: 0, y: 0 },
      { x: 5, y: 0 },
      { x: 10, y: 0 },
      { x: 10, y: 10 },
      { x: 0, y: 10 },
      { x: 5, y: 5 },
    ]);
    expect(hull).to.have.length(4);
  });
});
