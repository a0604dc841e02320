import sharp from 'sharp';
import type { Preprocessing } from '../config/types.js';
import { float32, type HostTensor } from '../core/tensor.js';
import type { Box } from './geometry.js';
import type { RgbImage } from './decode.js';

/** ITU-R BT.601 luma weights (MATLAB's rgb2gray), used when the model's entry names no grey weights. */
const bt601: readonly [number, number, number] = [0.2989, 0.587, 0.114];

export interface Letterboxed {
  pixels: RgbImage;
  /** Model-input pixels per working pixel (same on both axes: the aspect ratio is kept). */
  scale: number;
}

/**
 * Fits the image into the model's input without distorting it: scaled to fit, anchored top-left, padded
 * with black on the right or bottom. Top-left anchoring keeps the mapping back to image pixels a pure scale.
 */
export async function letterbox(img: RgbImage, width: number, height: number): Promise<Letterboxed> {
  const scale = Math.min(width / img.width, height / img.height);
  const w = Math.max(1, Math.min(width, Math.round(img.width * scale)));
  const h = Math.max(1, Math.min(height, Math.round(img.height * scale)));
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(w, h, { fit: 'fill', kernel: 'lanczos3' })
    .extend({ top: 0, left: 0, right: width - w, bottom: height - h, background: { r: 0, g: 0, b: 0 } })
    .raw()
    .toBuffer();
  return { pixels: { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height }, scale };
}

/**
 * Crops `box` (working pixels, may reach outside the image: edge pixels are repeated) and resizes it to
 * width x height. Each output pixel averages a grid of bilinear samples proportional to the shrink factor,
 * so a 400 px face shrunk to 64 px is smoothed instead of aliased.
 */
export function cropResize(img: RgbImage, box: Box, width: number, height: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  const sx = box.width / width;
  const sy = box.height / height;
  const nx = Math.min(8, Math.max(1, Math.ceil(sx)));
  const ny = Math.min(8, Math.max(1, Math.ceil(sy)));
  const maxX = img.width - 1;
  const maxY = img.height - 1;
  const src = img.data;
  const acc = [0, 0, 0];
  for (let oy = 0; oy < height; oy++) {
    for (let ox = 0; ox < width; ox++) {
      acc[0] = acc[1] = acc[2] = 0;
      for (let j = 0; j < ny; j++) {
        const y = Math.min(maxY, Math.max(0, box.y + (oy + (j + 0.5) / ny) * sy - 0.5));
        const y0 = Math.floor(y);
        const y1 = Math.min(maxY, y0 + 1);
        const fy = y - y0;
        for (let i = 0; i < nx; i++) {
          const x = Math.min(maxX, Math.max(0, box.x + (ox + (i + 0.5) / nx) * sx - 0.5));
          const x0 = Math.floor(x);
          const x1 = Math.min(maxX, x0 + 1);
          const fx = x - x0;
          const p00 = (y0 * img.width + x0) * 3;
          const p01 = (y0 * img.width + x1) * 3;
          const p10 = (y1 * img.width + x0) * 3;
          const p11 = (y1 * img.width + x1) * 3;
          for (let c = 0; c < 3; c++) {
            const top = src[p00 + c] + (src[p01 + c] - src[p00 + c]) * fx;
            const bottom = src[p10 + c] + (src[p11 + c] - src[p10 + c]) * fx;
            acc[c] += top + (bottom - top) * fy;
          }
        }
      }
      const o = (oy * width + ox) * 3;
      const n = nx * ny;
      out[o] = Math.round(acc[0] / n);
      out[o + 1] = Math.round(acc[1] / n);
      out[o + 2] = Math.round(acc[2] / n);
    }
  }
  return { data: out, width, height };
}

/** Number of channels the model's colour mode takes. */
export function channelsOf(pre: Preprocessing): number {
  return pre.colour === 'grayscale' ? 1 : 3;
}

/**
 * Writes the pixels as float32 NHWC values into `target` at `offset` (so several crops can share one batch
 * tensor), converting colour and normalising as the model's preprocessing says: 0..255 mapped linearly onto
 * `range` (default 0..255), then `(v - mean[c]) / std[c]`.
 */
export function writePixels(img: RgbImage, pre: Preprocessing, target: Float32Array, offset: number): void {
  if (img.width !== pre.width || img.height !== pre.height) {
    throw new RangeError(`pixels are ${img.width}x${img.height}, the model takes ${pre.width}x${pre.height}`);
  }
  const [lo, hi] = pre.range ?? [0, 255];
  const k = (hi - lo) / 255;
  const channels = channelsOf(pre);
  const mean = Array.from({ length: channels }, (_, c) => pre.mean?.[c] ?? pre.mean?.[0] ?? 0);
  const std = Array.from({ length: channels }, (_, c) => pre.std?.[c] ?? pre.std?.[0] ?? 1);
  const luma = pre.grayscaleWeights ?? bt601;
  const src = img.data;
  const n = img.width * img.height;
  for (let p = 0; p < n; p++) {
    const r = src[p * 3];
    const g = src[p * 3 + 1];
    const b = src[p * 3 + 2];
    if (pre.colour === 'grayscale') {
      const v = lo + (luma[0] * r + luma[1] * g + luma[2] * b) * k;
      target[offset + p] = (v - mean[0]) / std[0];
    } else {
      const o = offset + p * 3;
      const [c0, c1, c2] = pre.colour === 'bgr' ? [b, g, r] : [r, g, b];
      target[o] = (lo + c0 * k - mean[0]) / std[0];
      target[o + 1] = (lo + c1 * k - mean[1]) / std[1];
      target[o + 2] = (lo + c2 * k - mean[2]) / std[2];
    }
  }
}

/** One NHWC float32 batch from same-sized images. */
export function toBatchTensor(images: readonly RgbImage[], pre: Preprocessing): HostTensor {
  const channels = channelsOf(pre);
  const per = pre.width * pre.height * channels;
  const data = new Float32Array(per * images.length);
  images.forEach((img, i) => writePixels(img, pre, data, i * per));
  return float32([images.length, pre.height, pre.width, channels], data);
}
