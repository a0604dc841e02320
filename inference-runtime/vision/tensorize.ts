import type { Preprocessing } from '../config/types.js';
import { float32, type HostTensor } from '../core/tensor.js';
import type { Box } from './geometry.js';
import type { RgbImage } from './decode.js';
import { nativeResample, resampleInto, resampleLumaInto, resampleToTensor, type ChannelMap, type NativeResample } from './resample.js';

/** ITU-R BT.601 luma weights (MATLAB's rgb2gray), used when the model's entry names no grey weights. */
const bt601: readonly [number, number, number] = [0.2989, 0.587, 0.114];

export interface LetterboxedTensor {
  /** The model's [1, height, width, channels] input. */
  tensor: HostTensor;
  /** Model-input pixels per working pixel (same on both axes: the aspect ratio is kept). */
  scale: number;
}

/**
 * Fits the image into the model's input without distortion: scaled to fit, anchored top-left, padded with
 * black on the right or bottom, and written as the model's input values. Top-left anchoring keeps the
 * mapping back to image pixels a pure scale. The resize is the crops' tent filter (a triangle widened by the
 * shrink factor, so every source pixel is averaged in), written straight as model values: in native code
 * (`resampleToTensor`) it costs about a third of a libvips resize called through sharp plus the packing of its
 * bytes. Grey models take the luma resampler's values. The padding is written as black's value. `native`:
 * see `resampleToTensor`.
 */
export function letterboxTensor(img: RgbImage, pre: Preprocessing, native: NativeResample | null = nativeResample()): Promise<LetterboxedTensor> {
  const { width, height } = pre;
  const scale = Math.min(width / img.width, height / img.height);
  const w = Math.max(1, Math.min(width, Math.round(img.width * scale)));
  const h = Math.max(1, Math.min(height, Math.round(img.height * scale)));
  const channels = channelsOf(pre);
  const data = new Float32Array(width * height * channels);
  const { gain, bias } = valueMap(pre);
  const whole = { x: 0, y: 0, width: img.width, height: img.height };
  if (pre.colour === 'grayscale') resampleLumaInto(img, whole, w, h, lumaWeights(pre), { gain: gain[0], bias: bias[0] }, data, 0, width);
  else {
    const order = sourceChannels(pre);
    const map = [0, 1, 2].map((c) => ({ source: order[c], gain: gain[c], bias: bias[c] })) as [ChannelMap, ChannelMap, ChannelMap];
    resampleToTensor(img, w, h, map, data, 0, width * 3, native);
  }
  const black = blackValues(valueWriter(pre), channels);
  if (w < width) for (let y = 0; y < h; y++) fillPixels(data, (y * width + w) * channels, width - w, black);
  fillPixels(data, h * width * channels, (height - h) * width, black);
  return Promise.resolve({ tensor: float32([1, height, width, channels], data), scale });
}

/**
 * Crops `box` (working pixels, may reach outside the image: edge pixels are repeated) and resizes it to
 * width x height. A shrink averages every source pixel under an output pixel, so a 400 px face shrunk to
 * 64 px is smoothed instead of aliased. In JS: the work is proportional to the face, and a native pipeline's
 * set-up would cost more than a 64 px crop.
 */
export function cropResize(img: RgbImage, box: Box, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  resampleInto(img, box, width, height, data);
  return { data, width, height };
}

/** The model's input values of a black pixel, one per channel, as `write` converts it. */
function blackValues(write: ValueWriter, channels: number): Float32Array {
  const values = new Float32Array(channels);
  write(new Uint8Array(3), 0, 1, values, 0);
  return values;
}

/** Writes `count` pixels of the same `values` into `target` from `offset`. */
function fillPixels(target: Float32Array, offset: number, count: number, values: Float32Array): void {
  if (count <= 0) return;
  if (values.every((v) => v === values[0])) {
    target.fill(values[0], offset, offset + count * values.length);
    return;
  }
  for (let o = offset, end = offset + count * values.length; o < end; o += values.length) target.set(values, o);
}

/** Number of channels the model's colour mode takes. */
export function channelsOf(pre: Preprocessing): number {
  return pre.colour === 'grayscale' ? 1 : 3;
}

/**
 * How the model's preprocessing turns source bytes into input values, per channel: 0..255 mapped linearly
 * onto `range` (default 0..255), then `(v - mean[c]) / std[c]`, folded into one multiply-add `v * gain + bias`.
 */
function valueMap(pre: Preprocessing): { gain: number[]; bias: number[] } {
  const [lo, hi] = pre.range ?? [0, 255];
  const k = (hi - lo) / 255;
  const channels = channelsOf(pre);
  const mean = Array.from({ length: channels }, (_, c) => pre.mean?.[c] ?? pre.mean?.[0] ?? 0);
  const std = Array.from({ length: channels }, (_, c) => pre.std?.[c] ?? pre.std?.[0] ?? 1);
  return { gain: std.map((s) => k / s), bias: mean.map((m, c) => (lo - m) / std[c]) };
}

/** The source channel (0 R, 1 G, 2 B) of each of a colour model's input channels: BGR reads them reversed. */
function sourceChannels(pre: Preprocessing): readonly [0 | 1 | 2, 0 | 1 | 2, 0 | 1 | 2] {
  return pre.colour === 'bgr' ? [2, 1, 0] : [0, 1, 2];
}

function lumaWeights(pre: Preprocessing): readonly [number, number, number] {
  return pre.grayscaleWeights ?? bt601;
}

/**
 * Writes the pixels as float32 NHWC values into `target` at `offset` (so several crops can share one batch
 * tensor), converting colour and normalising as the model's preprocessing says (see `valueMap`).
 */
export function writePixels(img: RgbImage, pre: Preprocessing, target: Float32Array, offset: number): void {
  if (img.width !== pre.width || img.height !== pre.height) {
    throw new RangeError(`pixels are ${img.width}x${img.height}, the model takes ${pre.width}x${pre.height}`);
  }
  valueWriter(pre)(img.data, 0, img.width * img.height, target, offset);
}

/** Writes `count` RGB pixels of `src` from byte `from` as model values into `target` at `offset`. */
type ValueWriter = (src: Uint8Array, from: number, count: number, target: Float32Array, offset: number) => void;

/** The model's conversion of RGB bytes to input values, worked out once for any number of rows. */
function valueWriter(pre: Preprocessing): ValueWriter {
  const { gain, bias } = valueMap(pre);
  if (pre.colour === 'grayscale') {
    const luma = lumaWeights(pre);
    const wr = luma[0] * gain[0];
    const wg = luma[1] * gain[0];
    const wb = luma[2] * gain[0];
    const b0 = bias[0];
    return (src, from, count, target, offset) => {
      for (let s = from, o = offset, end = from + count * 3; s < end; s += 3, o++) target[o] = src[s] * wr + src[s + 1] * wg + src[s + 2] * wb + b0;
    };
  }
  const [r, g, b] = sourceChannels(pre);
  const [g0, g1, g2] = gain;
  const [b0, b1, b2] = bias;
  return (src, from, count, target, offset) => {
    for (let s = from, o = offset, end = from + count * 3; s < end; s += 3, o += 3) {
      target[o] = src[s + r] * g0 + b0;
      target[o + 1] = src[s + g] * g1 + b1;
      target[o + 2] = src[s + b] * g2 + b2;
    }
  };
}

/**
 * One NHWC float32 batch of crops of `img` (regions in its pixels, as `cropResize` takes them), each resized
 * to the model's input. A greyscale model's crops are resampled from luma straight into the tensor (a third
 * of the arithmetic of resampling RGB, and no intermediate image); colour models go through `cropResize`.
 */
export function cropsToBatchTensor(img: RgbImage, regions: readonly Box[], pre: Preprocessing): HostTensor {
  if (pre.colour !== 'grayscale') return toBatchTensor(regions.map((r) => cropResize(img, r, pre.width, pre.height)), pre);
  const per = pre.width * pre.height;
  const data = new Float32Array(per * regions.length);
  const { gain, bias } = valueMap(pre);
  regions.forEach((r, i) => resampleLumaInto(img, r, pre.width, pre.height, lumaWeights(pre), { gain: gain[0], bias: bias[0] }, data, i * per));
  return float32([regions.length, pre.height, pre.width, 1], data);
}

/** One NHWC float32 batch from same-sized images. */
export function toBatchTensor(images: readonly RgbImage[], pre: Preprocessing): HostTensor {
  const channels = channelsOf(pre);
  const per = pre.width * pre.height * channels;
  const data = new Float32Array(per * images.length);
  images.forEach((img, i) => writePixels(img, pre, data, i * per));
  return float32([images.length, pre.height, pre.width, channels], data);
}
