import type { RgbImage } from '../decode.js';
import type { Quad } from './quad.js';

/**
 * Projective map from the unit square onto a quad (Heckbert's closed form): corners (0,0), (1,0), (1,1),
 * (0,1) go to quad[0..3]. Returns a function of (u, v) writing the source point into `out`.
 */
function squareToQuad(q: Quad): (u: number, v: number, out: { x: number; y: number }) => void {
  const [p0, p1, p2, p3] = q;
  const sx = p0.x - p1.x + p2.x - p3.x;
  const sy = p0.y - p1.y + p2.y - p3.y;
  let g = 0;
  let h = 0;
  if (Math.abs(sx) > 1e-9 || Math.abs(sy) > 1e-9) {
    const dx1 = p1.x - p2.x;
    const dx2 = p3.x - p2.x;
    const dy1 = p1.y - p2.y;
    const dy2 = p3.y - p2.y;
    const den = dx1 * dy2 - dx2 * dy1;
    if (Math.abs(den) > 1e-12) {
      g = (sx * dy2 - dx2 * sy) / den;
      h = (dx1 * sy - sx * dy1) / den;
    }
  }
  const a = p1.x - p0.x + g * p1.x;
  const b = p3.x - p0.x + h * p3.x;
  const d = p1.y - p0.y + g * p1.y;
  const e = p3.y - p0.y + h * p3.y;
  return (u, v, out) => {
    const w = g * u + h * v + 1;
    out.x = (a * u + b * v + p0.x) / w;
    out.y = (d * u + e * v + p0.y) / w;
  };
}

/**
 * The quad's content straightened into a `width` x `height` image (perspective warp with bilinear sampling,
 * edge pixels repeated outside the image). Where the quad is larger than the output, each output pixel
 * averages a grid of samples, so small text shrunk to the recogniser's 48 px stays legible.
 */
export function warpQuad(img: RgbImage, quad: Quad, width: number, height: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  const map = squareToQuad(quad);
  const qw = Math.max(Math.hypot(quad[1].x - quad[0].x, quad[1].y - quad[0].y), Math.hypot(quad[2].x - quad[3].x, quad[2].y - quad[3].y));
  const qh = Math.max(Math.hypot(quad[3].x - quad[0].x, quad[3].y - quad[0].y), Math.hypot(quad[2].x - quad[1].x, quad[2].y - quad[1].y));
  const nx = Math.min(4, Math.max(1, Math.ceil(qw / width)));
  const ny = Math.min(4, Math.max(1, Math.ceil(qh / height)));
  const maxX = img.width - 1;
  const maxY = img.height - 1;
  const src = img.data;
  const p = { x: 0, y: 0 };
  let r = 0;
  let g = 0;
  let b = 0;
  for (let oy = 0; oy < height; oy++) {
    for (let ox = 0; ox < width; ox++) {
      r = g = b = 0;
      for (let j = 0; j < ny; j++) {
        const v = (oy + (j + 0.5) / ny) / height;
        for (let i = 0; i < nx; i++) {
          map((ox + (i + 0.5) / nx) / width, v, p);
          // Pixel centres sit at integer + 0.5 in the quad's continuous coordinates.
          const x = Math.min(maxX, Math.max(0, p.x - 0.5));
          const y = Math.min(maxY, Math.max(0, p.y - 0.5));
          const x0 = Math.floor(x);
          const y0 = Math.floor(y);
          const x1 = Math.min(maxX, x0 + 1);
          const y1 = Math.min(maxY, y0 + 1);
          const fx = x - x0;
          const fy = y - y0;
          const i00 = (y0 * img.width + x0) * 3;
          const i01 = (y0 * img.width + x1) * 3;
          const i10 = (y1 * img.width + x0) * 3;
          const i11 = (y1 * img.width + x1) * 3;
          const w00 = (1 - fx) * (1 - fy);
          const w01 = fx * (1 - fy);
          const w10 = (1 - fx) * fy;
          const w11 = fx * fy;
          r += src[i00] * w00 + src[i01] * w01 + src[i10] * w10 + src[i11] * w11;
          g += src[i00 + 1] * w00 + src[i01 + 1] * w01 + src[i10 + 1] * w10 + src[i11 + 1] * w11;
          b += src[i00 + 2] * w00 + src[i01 + 2] * w01 + src[i10 + 2] * w10 + src[i11 + 2] * w11;
        }
      }
      const n = nx * ny;
      const o = (oy * width + ox) * 3;
      out[o] = Math.round(r / n);
      out[o + 1] = Math.round(g / n);
      out[o + 2] = Math.round(b / n);
    }
  }
  return { data: out, width, height };
}

/** The image turned by 180 degrees (text the orientation classifier found upside down). */
export function rotate180(img: RgbImage): RgbImage {
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const q = (n - 1 - p) * 3;
    out[p * 3] = img.data[q];
    out[p * 3 + 1] = img.data[q + 1];
    out[p * 3 + 2] = img.data[q + 2];
  }
  return { data: out, width: img.width, height: img.height };
}

/**
 * Writes pixels as float32 CHW into `target` at `offset`, in the B, G, R channel order PaddleOCR models were
 * trained on (OpenCV's), normalised per channel; columns from `img.width` to `paddedWidth` stay 0.
 */
export function writeChwBgr(img: RgbImage, target: Float32Array, offset: number, paddedWidth: number, mean: readonly number[], std: readonly number[]): void {
  const plane = img.height * paddedWidth;
  const src = img.data;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const s = (y * img.width + x) * 3;
      const o = offset + y * paddedWidth + x;
      target[o] = (src[s + 2] / 255 - mean[0]) / std[0];
      target[o + plane] = (src[s + 1] / 255 - mean[1]) / std[1];
      target[o + 2 * plane] = (src[s] / 255 - mean[2]) / std[2];
    }
  }
}
