import { InvalidInput } from '../../core/errors.js';

/** The binary tensor data extension's header: how many leading bytes of the body are the JSON part. */
export const INFERENCE_HEADER = 'Inference-Header-Content-Length';

/**
 * The JSON part's length as sent, or undefined when the header is absent (the whole body is JSON). The
 * value must be a plain decimal count: a sign, a fraction, a second value (a repeated header arrives joined
 * with a comma) or anything else is a 400, never a guess.
 */
export function inferenceHeaderLength(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(',') : value.trim();
  if (!/^\d{1,15}$/.test(text)) {
    throw new InvalidInput(`${INFERENCE_HEADER} must be the byte length of the JSON part of the body, got ${JSON.stringify(text.slice(0, 32))}`);
  }
  return Number(text);
}

/** Splits a body into its JSON part and the binary data after it. */
export function splitBody(body: Buffer, headerLength: number | undefined): { json: Buffer; binary: Buffer } {
  if (headerLength === undefined) return { json: body, binary: body.subarray(body.length) };
  if (headerLength > body.length) {
    throw new InvalidInput(`${INFERENCE_HEADER} is ${headerLength} but the body has only ${body.length} bytes`);
  }
  return { json: body.subarray(0, headerLength), binary: body.subarray(headerLength) };
}
