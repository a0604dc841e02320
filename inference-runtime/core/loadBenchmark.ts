import { performance } from 'node:perf_hooks';
import type { ModelSignature } from './backend.js';
import type { Preprocessing } from '../config/types.js';
import { exampleInputs, hasDynamicBatch } from './exampleInputs.js';
import type { ModelBenchmark } from './registry.js';
import type { NamedTensors } from './tensor.js';

export interface BenchmarkOptions {
  /** Single inferences timed for p50/p95 (default 20). */
  iterations: number;
  /** Rows per inference in the throughput run, for models with a dynamic batch dimension (default 8). */
  batchSize: number;
  /** Rough time cap per model; slow models get fewer iterations, never fewer than 3 (default 5000 ms). */
  budgetMs: number;
}

export const DEFAULT_BENCHMARK: BenchmarkOptions = { iterations: 20, batchSize: 8, budgetMs: 5000 };

export interface BenchmarkTarget {
  signature: ModelSignature;
  preprocessing?: Preprocessing;
  run(inputs: NamedTensors): Promise<NamedTensors>;
  backend: string;
  runtimeVersion: string;
  node: string;
  /** Inference threads, as published. */
  threads: number;
  /** Requests the throughput run keeps in flight (enough to keep every thread busy); default `threads`. */
  concurrency?: number;
  /** Inputs of `batch` rows shaped like the task's requests (its example image, audio, text); synthetic from the signature otherwise. */
  example?(batch: number): NamedTensors;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * The published performance of a loaded, warmed-up model, measured through the same path requests take
 * (queue, worker dispatch, engine): latency of single inferences one at a time, then throughput with
 * every inference thread kept busy, batched when the model's batch dimension is dynamic.
 */
export async function benchmarkModel(target: BenchmarkTarget, options: BenchmarkOptions = DEFAULT_BENCHMARK): Promise<ModelBenchmark> {
  const minRuns = 3;
  const single = target.example?.(1) ?? exampleInputs(target.signature.inputs, 1, target.preprocessing, 7);
  const latencies: number[] = [];
  const latencyStart = performance.now();
  while (latencies.length < Math.max(minRuns, options.iterations)) {
    if (latencies.length >= minRuns && performance.now() - latencyStart > options.budgetMs / 2) break;
    const t0 = performance.now();
    await target.run(single);
    latencies.push(performance.now() - t0);
  }
  latencies.sort((a, b) => a - b);

  const batchSize = hasDynamicBatch(target.signature) ? Math.max(1, options.batchSize) : 1;
  const batch = target.example?.(batchSize) ?? exampleInputs(target.signature.inputs, batchSize, target.preprocessing, 11);
  const streams = Math.max(1, target.concurrency ?? target.threads);
  // Enough rounds for every thread to run a few times, fewer when one inference eats the budget.
  const perRun = percentile(latencies, 50) * batchSize;
  const affordable = Math.floor((options.budgetMs / 2 / Math.max(perRun, 0.01)) * Math.max(1, target.threads));
  const rounds = Math.max(streams * 2, Math.min(streams * 8, affordable));
  let started = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: streams }, async () => {
      while (started < rounds) {
        started++;
        await target.run(batch);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;

  return {
    backend: target.backend,
    runtimeVersion: target.runtimeVersion,
    node: target.node,
    measuredAt: new Date().toISOString(),
    iterations: latencies.length,
    latencyMs: { p50: round(percentile(latencies, 50)), p95: round(percentile(latencies, 95)) },
    batchSize,
    throughputPerSec: round((rounds * batchSize) / seconds, 1),
    threads: target.threads,
  };
}
