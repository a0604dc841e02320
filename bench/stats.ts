/** Summaries the benchmark scripts print: order statistics over samples and fixed-decimal figures. */

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
};

/** The p-th percentile (nearest rank, 0 <= p <= 100). */
export const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
export const r1 = (v: number): string => (Math.round(v * 10) / 10).toFixed(1);
export const r2 = (v: number): string => (Math.round(v * 100) / 100).toFixed(2);
