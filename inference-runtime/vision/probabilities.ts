/** Softmax over one row of logits, numerically stable (max subtracted first). */
export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exps.reduce((s, v) => s + v, 0);
  return exps.map((v) => v / sum);
}

/**
 * Class probabilities from a classifier's output row. Some graphs end in a softmax (the default FER2013
 * model does), others emit logits; a row that already is a distribution is passed through unchanged.
 */
export function asProbabilities(row: ArrayLike<number>): number[] {
  let sum = 0;
  let inRange = true;
  for (let i = 0; i < row.length; i++) {
    sum += row[i];
    if (!(row[i] >= 0 && row[i] <= 1)) inRange = false;
  }
  if (inRange && Math.abs(sum - 1) < 1e-3) return Array.from(row);
  return softmax(row);
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
