import { nativeFunction } from '../core/nativeAddon.js';
import type { RgbImage } from './decode.js';
import type { Box } from './geometry.js';

/**
 * The source pixels and weights each output pixel of one axis reads: a triangle (tent) filter whose radius
 * grows with the shrink factor, so a shrink averages every source pixel it covers (no aliasing) and an
 * enlargement is plain bilinear. Indices outside the image repeat its edge pixel.
 */
interface AxisTaps {
  /** Taps per output pixel (the same for all, zero weights pad the short ones). */
  width: number;
  index: Int32Array;
  weight: Float32Array;
  /** Smallest and largest source index read. */
  min: number;
  max: number;
}

function axisTaps(start: number, length: number, out: number, size: number): AxisTaps {
  const runs = axisRuns(start, length, out, size);
  const { width } = runs;
  const index = new Int32Array(out * width);
  const weight = new Float32Array(out * width);
  let min = size - 1;
  let max = 0;
  for (let o = 0; o < out; o++) {
    const count = runs.count[o];
    for (let k = 0; k < width; k++) {
      // Past its run, an output pixel's taps repeat the run's last index with a zero weight.
      const j = runs.start[o] + Math.min(k, count - 1);
      const clamped = j < 0 ? 0 : j >= size ? size - 1 : j;
      index[o * width + k] = clamped;
      if (k >= count) continue;
      weight[o * width + k] = runs.weight[o * width + k];
      if (clamped < min) min = clamped;
      if (clamped > max) max = clamped;
    }
  }
  return { width, index, weight, min, max };
}

/**
 * Resamples `region` of the image (working pixels; it may reach outside the image) to `width` x `height`
 * into `out` (RGB bytes, `stride` bytes per output row, starting at `offset`): a separable pass along x over
 * the source rows the region needs, then along y. Work is proportional to the region and the output, not to
 * the whole image.
 */
export function resampleInto(img: RgbImage, region: Box, width: number, height: number, out: Uint8Array, offset = 0, stride = width * 3): void {
  const tx = axisTaps(region.x, region.width, width, img.width);
  const ty = axisTaps(region.y, region.height, height, img.height);
  const rows = ty.max - ty.min + 1;
  const rowBytes = img.width * 3;
  const src = img.data;
  const horizontal = new Float32Array(rows * width * 3);
  const tw = tx.width;
  for (let r = 0; r < rows; r++) {
    const line = (ty.min + r) * rowBytes;
    let h = r * width * 3;
    for (let o = 0; o < width; o++) {
      let a = 0;
      let b = 0;
      let c = 0;
      const base = o * tw;
      for (let k = 0; k < tw; k++) {
        const w = tx.weight[base + k];
        const p = line + tx.index[base + k] * 3;
        a += src[p] * w;
        b += src[p + 1] * w;
        c += src[p + 2] * w;
      }
      horizontal[h++] = a;
      horizontal[h++] = b;
      horizontal[h++] = c;
    }
  }
  // Weights are positive and sum to 1, so values stay within 0..255; +0.5 rounds (the byte store truncates).
  verticalPass(ty, horizontal, width * 3, ty.min, height, out, offset, stride, 1, 0.5);
}

/**
 * The pass along y shared by both resamplers: output row `oy` is the weighted sum of the horizontally
 * resampled rows its taps name (`horizontal` holds rows from source row `firstRow` on, `line` values each),
 * written as `sum * gain + bias` at `offset + oy * stride`.
 */
function verticalPass(
  ty: AxisTaps,
  horizontal: Float32Array,
  line: number,
  firstRow: number,
  height: number,
  out: Uint8Array | Float32Array,
  offset: number,
  stride: number,
  gain: number,
  bias: number,
): void {
  const vw = ty.width;
  const acc = new Float32Array(line);
  for (let oy = 0; oy < height; oy++) {
    const base = oy * vw;
    acc.fill(0);
    for (let k = 0; k < vw; k++) {
      const w = ty.weight[base + k];
      if (w === 0) continue;
      const from = (ty.index[base + k] - firstRow) * line;
      for (let x = 0; x < line; x++) acc[x] += horizontal[from + x] * w;
    }
    const q = offset + oy * stride;
    for (let x = 0; x < line; x++) out[q + x] = acc[x] * gain + bias;
  }
}

/**
 * Resamples `region` like `resampleInto`, but of the image's luma (`weights` applied to R, G, B) into one
 * float per output pixel, unrounded: a greyscale model's crop then costs a third of the arithmetic of an RGB
 * one (the grey value of averaged pixels is the average of their grey values), and no byte rounding lies
 * between the source and the model's input. `map(v)` = v * gain + bias is applied on the way out.
 */
export function resampleLumaInto(
  img: RgbImage,
  region: Box,
  width: number,
  height: number,
  weights: readonly [number, number, number],
  map: { gain: number; bias: number },
  out: Float32Array,
  offset: number,
  stride = width,
): void {
  const tx = axisRuns(region.x, region.width, width, img.width);
  const ty = axisTaps(region.y, region.height, height, img.height);
  // Rows: every index a vertical tap names, zero weights included. Columns: the runs' span, unclamped; a
  // column outside the image holds the luma of the edge column it repeats.
  const [y0, y1] = indexSpan(ty);
  const rows = y1 - y0 + 1;
  const cols = tx.last - tx.first + 1;
  // The image columns the window covers; a window wholly outside the image repeats its nearest edge column.
  const inLast = Math.max(0, Math.min(img.width - 1, tx.last));
  const inFirst = Math.min(inLast, Math.max(0, tx.first));
  const left = Math.max(0, Math.min(cols, inFirst - tx.first));
  const src = img.data;
  const rowBytes = img.width * 3;
  const [wr, wg, wb] = weights;
  const luma = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const line = r * cols;
    const row = (y0 + r) * rowBytes;
    let l = line + left;
    for (let s = row + inFirst * 3, end = row + (inLast + 1) * 3; s < end && l < line + cols; s += 3) luma[l++] = src[s] * wr + src[s + 1] * wg + src[s + 2] * wb;
    if (left > 0) luma.fill(src[row + inFirst * 3] * wr + src[row + inFirst * 3 + 1] * wg + src[row + inFirst * 3 + 2] * wb, line, line + left);
    if (l < line + cols) luma.fill(src[row + inLast * 3] * wr + src[row + inLast * 3 + 1] * wg + src[row + inLast * 3 + 2] * wb, l, line + cols);
  }
  const horizontal = new Float32Array(rows * width);
  const { start, count, weight } = tx;
  const tw = tx.width;
  for (let r = 0, h = 0; r < rows; r++) {
    const line = r * cols - tx.first;
    for (let o = 0; o < width; o++) {
      let a = 0;
      const p = line + start[o];
      const base = o * tw;
      for (let k = 0, n = count[o]; k < n; k++) a += luma[p + k] * weight[base + k];
      horizontal[h++] = a;
    }
  }
  verticalPass(ty, horizontal, width, y0, height, out, offset, stride, map.gain, map.bias);
}

/** One output channel of a model's input: the source channel it reads (0 R, 1 G, 2 B), then `v * gain + bias`. */
export interface ChannelMap {
  source: 0 | 1 | 2;
  gain: number;
  bias: number;
}

/** inference-runtime/native/resampleToTensor.c's `resample` (its arguments are described there). */
export type NativeResample = (
  src: Uint8Array,
  srcWidth: number,
  srcHeight: number,
  out: Float32Array,
  offset: number,
  stride: number,
  width: number,
  height: number,
  xStart: Int32Array,
  xCount: Int32Array,
  xWeight: Float32Array,
  yStart: Int32Array,
  yCount: Int32Array,
  yWeight: Float32Array,
  map: Float32Array,
) => void;

const addon = nativeFunction<NativeResample>('resampleToTensor', 'resample');

/** The addon's `resample` from `file`, or null. */
export const loadNativeResample = (file: string): NativeResample | null => addon.load(file);

/** The process's native resampler, loaded on first use (null: the JavaScript twin runs). */
export const nativeResample = (): NativeResample | null => addon.get();

/** Why the process has no native resampler; undefined when it has one. */
export const nativeResampleMissing = (): string | undefined => addon.missing();

/**
 * Resamples the whole image to `width` x `height` with the tent filter and writes each pixel as three model
 * values (`channels`: source channel, gain, bias per output channel) into `out` from `offset`, `stride`
 * values a row: a detector's letterbox in one pass, without a byte image between the resize and the tensor.
 * The arithmetic is float32 in a fixed order: rows first (each output row the weighted sum of its source
 * rows), then columns, then the mapping. `native` (the addon, where it is built) does it in C; without it
 * the JavaScript twin runs, which rounds to float32 at the same steps and so gives the same values bit for
 * bit, at about ten times the CPU.
 */
export function resampleToTensor(
  img: RgbImage,
  width: number,
  height: number,
  channels: readonly [ChannelMap, ChannelMap, ChannelMap],
  out: Float32Array,
  offset: number,
  stride: number,
  native: NativeResample | null = nativeResample(),
): void {
  const tx = axisRuns(0, img.width, width, img.width);
  const ty = axisRuns(0, img.height, height, img.height);
  const map = Float32Array.from(channels.flatMap((c) => [c.source, c.gain, c.bias]));
  if (native) {
    native(img.data, img.width, img.height, out, offset, stride, width, height, tx.start, tx.count, tx.weight, ty.start, ty.count, ty.weight, map);
    return;
  }
  const fr = Math.fround;
  const src = img.data;
  const line = img.width * 3;
  const row = new Float32Array(line);
  const [s0, g0, b0, s1, g1, b1, s2, g2, b2] = map;
  const v = new Float32Array(3);
  for (let oy = 0; oy < height; oy++) {
    row.fill(0);
    for (let k = 0; k < ty.count[oy]; k++) {
      const w = ty.weight[oy * ty.width + k];
      const from = clampIndex(ty.start[oy] + k, img.height) * line;
      // Float32Array stores round the sums; fround rounds the products.
      for (let i = 0; i < line; i++) row[i] = row[i] + fr(src[from + i] * w);
    }
    const o = offset + oy * stride;
    for (let ox = 0; ox < width; ox++) {
      v.fill(0);
      const base = ox * tx.width;
      for (let k = 0; k < tx.count[ox]; k++) {
        const w = tx.weight[base + k];
        const p = clampIndex(tx.start[ox] + k, img.width) * 3;
        v[0] = v[0] + fr(row[p] * w);
        v[1] = v[1] + fr(row[p + 1] * w);
        v[2] = v[2] + fr(row[p + 2] * w);
      }
      out[o + ox * 3] = fr(v[s0] * g0) + b0;
      out[o + ox * 3 + 1] = fr(v[s1] * g1) + b1;
      out[o + ox * 3 + 2] = fr(v[s2] * g2) + b2;
    }
  }
}

function clampIndex(i: number, size: number): number {
  return i < 0 ? 0 : i >= size ? size - 1 : i;
}

/**
 * The tent filter of one axis as runs: per output pixel the first source index of its nonzero weights
 * (unclamped: it may lie outside the image, whose edge then repeats) and how many follow, with their
 * weights. The reads of a run are contiguous, and the zero weights at the filter's ends, which add nothing,
 * are not read. `axisTaps` spells the same weights out tap by tap, with clamped indices.
 */
interface AxisRuns {
  width: number;
  start: Int32Array;
  count: Int32Array;
  /** `width` per output pixel, the run's weights first. */
  weight: Float32Array;
  /** Smallest and largest source index read, unclamped. */
  first: number;
  last: number;
}

function axisRuns(from: number, length: number, out: number, size: number): AxisRuns {
  const scale = length / out;
  const radius = Math.max(1, scale);
  const width = Math.ceil(2 * radius) + 1;
  const start = new Int32Array(out);
  const count = new Int32Array(out);
  const weight = new Float32Array(out * width);
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (let o = 0; o < out; o++) {
    const centre = from + (o + 0.5) * scale;
    const j0 = Math.floor(centre - radius + 0.5);
    let sum = 0;
    let lo = -1;
    let hi = -1;
    for (let k = 0; k < width; k++) {
      const w = Math.max(0, 1 - Math.abs(j0 + k + 0.5 - centre) / radius);
      if (w > 0) {
        if (lo === -1) lo = k;
        hi = k;
        // Stored as float32, then divided by the sum of the unrounded weights.
        weight[o * width + k - lo] = w;
        sum += w;
      }
    }
    if (sum === 0) {
      // A region wholly outside the image still reads its nearest edge pixel.
      start[o] = Math.min(size - 1, Math.max(0, Math.floor(centre)));
      count[o] = 1;
      weight[o * width] = 1;
    } else {
      start[o] = j0 + lo;
      count[o] = hi - lo + 1;
      for (let k = 0; k < count[o]; k++) weight[o * width + k] /= sum;
    }
    first = Math.min(first, start[o]);
    last = Math.max(last, start[o] + count[o] - 1);
  }
  return { width, start, count, weight, first, last };
}

function indexSpan(taps: AxisTaps): [number, number] {
  let lo = taps.index[0];
  let hi = lo;
  for (const i of taps.index) {
    if (i < lo) lo = i;
    if (i > hi) hi = i;
  }
  return [lo, hi];
}
