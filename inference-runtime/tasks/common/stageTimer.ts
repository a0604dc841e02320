import { performance } from 'node:perf_hooks';

/** Milliseconds per pipeline stage, as reported in every response's `timing` block. */
export type Timing = Record<string, number>;

/** Times named stages of one request; `total` runs from construction to `finish()`. */
export class StageTimer {
  private readonly started = performance.now();
  private readonly stages: Timing = {};

  async time<T>(stage: string, work: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      this.stages[stage] = (this.stages[stage] ?? 0) + performance.now() - t0;
    }
  }

  /** Adds a stage measured elsewhere (e.g. by a pipeline that times its own parts). */
  add(stage: string, ms: number): void {
    this.stages[stage] = (this.stages[stage] ?? 0) + ms;
  }

  finish(): Timing {
    const out: Timing = {};
    for (const [k, v] of Object.entries(this.stages)) out[k] = round2(v);
    out.total = round2(performance.now() - this.started);
    return out;
  }
}

function round2(ms: number): number {
  return Math.round(ms * 100) / 100;
}
