import os from 'node:os';

/**
 * Intra-op threads for each onnxruntime session when `concurrent` sessions compute at once (one per inference
 * thread: a worker runs one inference at a time): the cores divided among them, at least 1. With W workers
 * on C cores that is max(1, floor(C / W)): a worker per core gets 1 thread each, since more would only
 * contend for the same cores; a lone session (in-process serving, or fewer workers than cores) gets the
 * cores the other workers leave free.
 */
export function intraOpThreads(concurrent: number, cores: number = availableCores()): number {
  return Math.max(1, Math.floor(cores / Math.max(1, concurrent)));
}

export function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}
