import { availableCores } from './containerLimits.js';

/**
 * Intra-op threads for each onnxruntime session when `concurrent` sessions compute at once (one per inference
 * thread: a worker runs one inference at a time): the cores divided among them, at least 1. With W workers
 * on C cores that is max(1, floor(C / W)): a worker per core gets 1 thread each, since more would only
 * contend for the same cores; a lone session (in-process serving, or fewer workers than cores) gets the
 * cores the other workers leave free. C counts the container's CPU quota (core/containerLimits.ts).
 */
export function intraOpThreads(concurrent: number, cores: number = availableCores()): number {
  return Math.max(1, Math.floor(cores / Math.max(1, concurrent)));
}

/**
 * onnxruntime session options for `threads` intra-op threads. They block between parallel sections instead of
 * spinning (onnxruntime's default): a spinning thread holds its core from one operator to the next and past
 * the end of each run, away from the event loop, the decode pool and the other workers. One worker on 2 cores
 * (2 intra-op threads) served the flagship at 83-94 requests/s and 20-23 ms of CPU a request spinning, against
 * 166-168 and 10.1-10.3 ms not (bench/visionCores.ts; docs/benchmarks.md, "onnxruntime's intra-op threads").
 */
export function intraOpSessionOptions(threads: number): { intraOpNumThreads: number; interOpNumThreads: number; extra: Record<string, unknown> } {
  return { intraOpNumThreads: threads, interOpNumThreads: 1, extra: { session: { intra_op: { allow_spinning: '0' } } } };
}
