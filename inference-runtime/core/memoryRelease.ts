import type { AllocatorTrim } from './allocatorTrim.js';

/**
 * The runtime's memory release (main.ts runs it at `models_available`, `models_ready` and when a spell of
 * traffic ends): every thread collects its garbage, then the allocator trim returns what that freed.
 *
 * Why in this order: dead request bodies, decoded images and benchmark inputs hold their malloc'd backing
 * stores until V8 collects them, in the thread that holds them last. Request tensors are handed over to the
 * inference threads (`transfer`) and die there, in heaps that allocate little JS and so seldom collect: after
 * 10,000 flagship requests they kept RSS 10-27% above idle. Collected first, their memory is free for the trim
 * to return. Nothing here runs per request.
 */
export interface MemoryReleaseDeps {
  allocator: AllocatorTrim;
  /** A full collection of this thread's heap (core/garbageCollector.ts). */
  collectGarbage(): void;
  /** The inference threads' collections (`InferenceExecutor.collectGarbage`); absent when they run in this thread. */
  collectInferenceThreads?(): Promise<void>;
}

/** What a release logs (a type, not an interface, so that it is a logger's fields). */
export type MemoryReleased = {
  rssMiB: number;
  /** RSS the trim gave back; absent when there was nothing to trim or no trim. */
  releasedMiB?: number;
};

const mib = (bytes: number): number => Math.round(bytes / 2 ** 20);

/** Returns the release; a release asked for while one runs shares that one's result. */
export function memoryRelease(deps: MemoryReleaseDeps): () => Promise<MemoryReleased> {
  let running: Promise<MemoryReleased> | undefined;
  const release = async (): Promise<MemoryReleased> => {
    const before = process.memoryUsage.rss();
    if (!deps.allocator.available) return { rssMiB: mib(before) };
    await deps.collectInferenceThreads?.();
    deps.collectGarbage();
    if (!deps.allocator.release()) return { rssMiB: mib(process.memoryUsage.rss()) };
    const after = process.memoryUsage.rss();
    return { rssMiB: mib(after), releasedMiB: mib(before - after) };
  };
  return () =>
    (running ??= release().finally(() => {
      running = undefined;
    }));
}
