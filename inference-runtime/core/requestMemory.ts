import type { NamedTensors } from './tensor.js';

/**
 * Estimates of the memory a request's work allocates beyond its body, for the memory budget's admission.
 * They are deliberately coarse and on the high side: what they miss, the budget's RSS term and the headroom
 * left between the budget and the container limit absorb.
 */

/**
 * V8 holds parsed JSON arrays of numbers at about 16x their text: each `[0.5]` of a TF Serving body is an
 * array object, its element store and a heap number (measured with a 16 MB `:predict` body of 1,000 rows).
 */
export const JSON_PARSE_EXPANSION = 16;

/**
 * Engine memory (activations, intermediate tensors, output) per byte of input tensor. Measured on the
 * built-in expression model (mini-Xception, 64x64x1 float input): 300 rows (4.9 MB of input) raised the peak RSS
 * by about 350 MB beyond the parsed body, i.e. ~71x; convolutional models keep several feature maps of the
 * input's size at once.
 */
export const ENGINE_BYTES_PER_INPUT_BYTE = 80;

/** Bytes the parsed form of a JSON body of `bodyBytes` may take. */
export function jsonParseBytes(bodyBytes: number): number {
  return bodyBytes * JSON_PARSE_EXPANSION;
}

/** Bytes an inference over `inputs` may allocate in the engine. */
export function inferenceBytes(inputs: NamedTensors): number {
  let bytes = 0;
  for (const tensor of Object.values(inputs)) {
    const data = tensor.data;
    bytes += ArrayBuffer.isView(data) ? data.byteLength : data.reduce((n, s) => n + s.length, 0);
  }
  return bytes * ENGINE_BYTES_PER_INPUT_BYTE;
}

/**
 * Bytes a body will have once read: its declared length when it is sent as is, else the cap (a compressed or
 * chunked body may decode to anything up to it).
 */
export function expectedBodyBytes(headers: { 'content-length'?: string; 'content-encoding'?: string }, maxBytes: number): number {
  const encoding = (headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const declared = Number(headers['content-length']);
  if ((encoding === 'identity' || encoding === '') && Number.isSafeInteger(declared) && declared >= 0) return Math.min(declared, maxBytes);
  return maxBytes;
}
