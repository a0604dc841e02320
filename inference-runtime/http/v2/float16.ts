/**
 * IEEE 754 half precision <-> JS numbers, for FP16 tensors written as JSON numbers. Half values travel as
 * their bits (Uint16Array), which is what onnxruntime and the binary tensor data extension carry.
 */
const view = new DataView(new ArrayBuffer(4));

/** The largest finite half. */
export const FLOAT16_MAX = 65504;

/** The half nearest to `value` (ties to even), as its bits; beyond the half range: infinity. */
export function toFloat16Bits(value: number): number {
  view.setFloat32(0, value);
  const f = view.getUint32(0);
  const sign = (f >>> 16) & 0x8000;
  const exponent = (f >>> 23) & 0xff;
  let mantissa = f & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  // Rounding goes through float32 first, which can differ from rounding the double directly only on exact
  // ties between halves after float32 rounding; values that are halves (what clients send) convert exactly.
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half++;
  return sign | half;
}

export function fromFloat16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
