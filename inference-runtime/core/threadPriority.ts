import os from 'node:os';

/**
 * Nice steps the inference workers run below the event loop when there is more than one core and each worker
 * runs its sessions on one thread (a worker per core, the default). On Linux the nice value belongs to a
 * thread, and the threads and processes a thread starts inherit it.
 *
 * Under load every request crosses the event loop several times: it reads the body, letterboxes the image,
 * sends the inputs to a worker, crops the faces and writes the answer. With a worker per core, the event
 * loop and the workers want more than the cores. At equal priority the event loop waited in the run queue
 * 31-38% of the time while 0.14-0.23 of the 2 cores idled, because the next input was not ready. At 10
 * steps below it waited 10-15% of the time and 0.06-0.11 cores idled. 2 workers then served 3.9-25% more
 * `:predict` requests in three runs, and as many flagship requests or up to 7% more in four. The workers keep
 * every cycle the event loop leaves: the scheduler never starves a runnable thread, it gives it a smaller
 * share while others contend.
 *
 * Elsewhere the workers stay at the event loop's priority:
 * - **One core.** There is no idle core to win, and the event loop preempting the worker at every event only
 *   adds switches: a one-core server at 10 steps below served 0.98-1.02x the requests.
 * - **A worker with several intra-op threads** (fewer workers than cores). A parallel section ends when its
 *   last thread does; when the event loop preempts one of them, the others wait with a core idle. 1 worker
 *   on 2 cores served 0.95-0.96x the flagship requests at 10 steps below in two runs of three (1.01x in the
 *   third).
 *
 * (2026-12-03, docs/benchmarks.md, "The event loop ahead of the inference threads".)
 */
export const DEFAULT_INFERENCE_NICE = 10;

/** The nice steps of workers whose sessions run `intraOpThreads` threads each on `cores` cores (see above). */
export function inferenceNiceFor(intraOpThreads: number, cores: number): number {
  return cores > 1 && intraOpThreads === 1 ? DEFAULT_INFERENCE_NICE : 0;
}

/** `MLOFFLOAD_INFERENCE_NICE` (0-19; 0 runs the workers at the event loop's priority), or undefined when unset. */
export function inferenceNiceOverride(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = env.MLOFFLOAD_INFERENCE_NICE?.trim();
  if (!text) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 19) throw new RangeError(`MLOFFLOAD_INFERENCE_NICE must be a whole number from 0 to 19, got ${text}`);
  return n;
}

/** The calling thread's nice value after lowering its priority, or why it could not be lowered. */
export type ThreadPriority = { nice: number } | { reason: string };

/**
 * Lowers the calling thread's priority by `steps` nice values, to at most 19. Linux applies `setpriority` on
 * the calling thread alone; call it from the thread to lower.
 */
export function lowerThreadPriority(steps: number): ThreadPriority {
  try {
    const current = os.getPriority(0);
    if (steps > 0) os.setPriority(0, Math.min(19, current + steps));
    return { nice: os.getPriority(0) };
  } catch (error) {
    return { reason: (error as Error).message };
  }
}
