import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BenchmarkOptions } from './loadBenchmark.js';
import type { ModelBenchmark } from './registry.js';

/**
 * Load-time benchmarks kept in the model cache next to what they measured. Measuring takes most of a warm
 * start (seconds per model: 20 single runs and a throughput run with every thread busy); a restart on the same
 * node, with the same runtime, engine, model file and threads, would measure the same thing again. The kept
 * figure keeps its own `measuredAt` and `node`, so whoever reads it knows when and where it was taken.
 */
export interface BenchmarkKey {
  /** sha256 of the file the engine runs (the compiled ONNX model, or the model's entry file). */
  artifactSha256: string;
  backend: string;
  runtimeVersion: string;
  node: string;
  threads: number;
  options: BenchmarkOptions;
}

function fileOf(workDir: string, key: BenchmarkKey): string {
  const digest = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 32);
  return path.join(workDir, `benchmark-${digest}.json`);
}

function sameKey(a: unknown, b: BenchmarkKey): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function looksLikeBenchmark(value: unknown, key: BenchmarkKey): value is ModelBenchmark {
  if (typeof value !== 'object' || value === null) return false;
  const b = value as Partial<ModelBenchmark>;
  return (
    b.backend === key.backend &&
    b.node === key.node &&
    b.runtimeVersion === key.runtimeVersion &&
    b.threads === key.threads &&
    typeof b.measuredAt === 'string' &&
    typeof b.iterations === 'number' &&
    typeof b.batchSize === 'number' &&
    typeof b.throughputPerSec === 'number' &&
    typeof b.latencyMs?.p50 === 'number' &&
    typeof b.latencyMs?.p95 === 'number'
  );
}

/** The benchmark an earlier start measured under the same key, or undefined (none, damaged, or another key). */
export async function readKeptBenchmark(workDir: string, key: BenchmarkKey): Promise<ModelBenchmark | undefined> {
  try {
    const kept = JSON.parse(await readFile(fileOf(workDir, key), 'utf8')) as { key?: unknown; benchmark?: unknown };
    return sameKey(kept.key, key) && looksLikeBenchmark(kept.benchmark, key) ? kept.benchmark : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps a benchmark for the next start; a failed write only costs that start a measurement. */
export async function keepBenchmark(workDir: string, key: BenchmarkKey, benchmark: ModelBenchmark): Promise<void> {
  const file = fileOf(workDir, key);
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await mkdir(workDir, { recursive: true });
    await writeFile(tmp, JSON.stringify({ key, benchmark }));
    await rename(tmp, file);
  } catch {
    // The cache may be read-only or full: the benchmark still serves from memory.
  }
}
