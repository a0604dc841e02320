/** TF window geometry (SAME/VALID/EXPLICIT padding, strides, dilations) turned into explicit ONNX pads. */
import { CompileError } from '../errors.js';
import { attrInts, attrString } from '../tfAttrs.js';
import type { TfNodeDef } from '../tfjsModel.js';

export interface Window {
  strides: [number, number];
  dilations: [number, number];
  /** ONNX order: [top, left, bottom, right]. */
  pads: [number, number, number, number];
  outHeight: number;
  outWidth: number;
}

/**
 * TF SAME: output = ceil(in / stride); the total padding needed is split with the smaller half first, so an
 * odd total puts the extra row/column at the bottom/right (asymmetric, unlike a symmetric auto-pad).
 */
export function samePadding(inSize: number, kernel: number, stride: number, dilation: number): [number, number, number] {
  const effective = (kernel - 1) * dilation + 1;
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + effective - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before, out];
}

export function checkNhwc(node: TfNodeDef): void {
  const format = attrString(node, 'data_format', 'NHWC');
  if (format !== 'NHWC') throw new CompileError(`${node.op} ${node.name}: data_format ${format} is not supported`);
}

export function windowOf(node: TfNodeDef, inShape: number[], kernel: [number, number]): Window {
  checkNhwc(node);
  const [, inH, inW] = inShape;
  if (!(inH > 0 && inW > 0)) throw new CompileError(`${node.op} ${node.name}: needs static height and width, got [${inShape}]`);
  const s = attrInts(node, 'strides', [1, 1, 1, 1]);
  const d = attrInts(node, 'dilations', [1, 1, 1, 1]);
  const strides: [number, number] = [s[1], s[2]];
  const dilations: [number, number] = [d[1], d[2]];
  const padding = attrString(node, 'padding', 'VALID');
  const eff = (k: number, dil: number): number => (k - 1) * dil + 1;
  if (padding === 'SAME') {
    const [top, bottom, outHeight] = samePadding(inH, kernel[0], strides[0], dilations[0]);
    const [left, right, outWidth] = samePadding(inW, kernel[1], strides[1], dilations[1]);
    return { strides, dilations, pads: [top, left, bottom, right], outHeight, outWidth };
  }
  let pads: [number, number, number, number] = [0, 0, 0, 0];
  if (padding === 'EXPLICIT') {
    const p = attrInts(node, 'explicit_paddings');
    if (p.length !== 8) throw new CompileError(`${node.op} ${node.name}: explicit_paddings needs 8 values`);
    pads = [p[2], p[4], p[3], p[5]];
  } else if (padding !== 'VALID') {
    throw new CompileError(`${node.op} ${node.name}: padding ${padding} is not supported`);
  }
  const outHeight = Math.floor((inH + pads[0] + pads[2] - eff(kernel[0], dilations[0])) / strides[0]) + 1;
  const outWidth = Math.floor((inW + pads[1] + pads[3] - eff(kernel[1], dilations[1])) / strides[1]) + 1;
  if (outHeight < 1 || outWidth < 1) throw new CompileError(`${node.op} ${node.name}: window larger than input [${inShape}]`);
  return { strides, dilations, pads, outHeight, outWidth };
}
