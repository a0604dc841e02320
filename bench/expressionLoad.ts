/**
 * What the protocol benchmarks (predict.ts, v2.ts) share: the facial-expression input they send, and the
 * in-process load they measure the protocols against.
 */
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { NamedTensors } from '../inference-runtime/core/tensor.js';

/** A deterministic 64x64 grey input in [-1, 1]. */
export const EXPRESSION_INPUT: Float32Array = (() => {
  const data = new Float32Array(64 * 64);
  let state = 12345;
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = Math.fround((state / 2 ** 32) * 2 - 1);
  }
  return data;
})();

/** EXPRESSION_INPUT as a TF Serving `:predict` JSON body: one 64x64x1 instance in the row format. */
export function expressionPredictBody(): Buffer {
  const rows = Array.from({ length: 64 }, (_, y) => Array.from({ length: 64 }, (_, x) => [EXPRESSION_INPUT[y * 64 + x]!]));
  return Buffer.from(JSON.stringify({ instances: [rows] }));
}

export interface Segment {
  latencies: number[];
  seconds: number;
  errors: number;
}

/** `concurrency` callers inferring in a loop for `seconds`, each call on a fresh tensor, as a route builds one per request. */
export async function inProcessLoad(infer: (inputs: NamedTensors) => Promise<NamedTensors>, inputName: string, concurrency: number, seconds: number): Promise<Segment> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const lane = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await infer({ [inputName]: { dtype: 'float32', shape: [1, 64, 64, 1], data: EXPRESSION_INPUT.slice() } });
        latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { latencies, seconds: (performance.now() - t0) / 1000, errors };
}

/**
 * A load runner's side of bench/v2.ts's protocol: each stdin line `{"concurrency":n,"seconds":s}` is answered
 * with one stdout line `{"event":"segment",...}` holding what `run` measured.
 */
export async function answerSegments(run: (concurrency: number, seconds: number) => Promise<Segment>): Promise<void> {
  for await (const line of createInterface({ input: process.stdin })) {
    const { concurrency, seconds } = JSON.parse(line) as { concurrency: number; seconds: number };
    process.stdout.write(`${JSON.stringify({ event: 'segment', ...(await run(concurrency, seconds)) })}\n`);
  }
}
