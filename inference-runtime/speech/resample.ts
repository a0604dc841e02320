/**
 * Band-limited resampling (windowed sinc, Blackman window). When lowering the rate the kernel's cut-off moves
 * down to the new Nyquist frequency, so energy above it is filtered out instead of folding back as noise the
 * acoustic model would hear. The kernel is tabulated once per call (finely, read with linear interpolation):
 * evaluating sines and cosines per tap cost ten times more.
 */
const HALF_TAPS = 16;
/** Table entries per input sample of kernel width. */
const TABLE_STEPS = 256;

export function resample(input: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (fromRate === toRate) return input;
  const ratio = toRate / fromRate;
  const n = Math.floor(input.length * ratio);
  const out = new Float32Array(n);
  const cutoff = Math.min(1, ratio);
  // The kernel widens with the decimation factor to keep its cut-off sharp.
  const half = Math.ceil(HALF_TAPS / cutoff);
  const table = kernelTable(half, cutoff);
  for (let i = 0; i < n; i++) {
    const centre = i / ratio;
    const first = Math.max(0, Math.ceil(centre - half));
    const last = Math.min(input.length - 1, Math.floor(centre + half));
    let sum = 0;
    let weight = 0;
    for (let j = first; j <= last; j++) {
      const pos = (j - centre + half) * TABLE_STEPS;
      const k = pos | 0;
      const w = table[k] + (table[k + 1] - table[k]) * (pos - k);
      sum += input[j] * w;
      weight += w;
    }
    out[i] = weight > 0 ? sum / weight : 0;
  }
  return out;
}

/** The kernel over [-half, half], one entry per 1/TABLE_STEPS of an input sample (plus a guard entry). */
function kernelTable(half: number, cutoff: number): Float64Array {
  const size = 2 * half * TABLE_STEPS + 2;
  const table = new Float64Array(size);
  for (let k = 0; k < size; k++) {
    const x = k / TABLE_STEPS - half;
    table[k] = blackman(x / half) * sinc(x * cutoff);
  }
  return table;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/** Blackman window over t in [-1, 1]. */
function blackman(t: number): number {
  if (t <= -1 || t >= 1) return 0;
  const a = Math.PI * (t + 1);
  return 0.42 - 0.5 * Math.cos(a) + 0.08 * Math.cos(2 * a);
}
