import { loadNativeAddon, nativeAddonFile } from './nativeAddon.js';

/**
 * Returns the C allocator's free memory to the system (glibc, inference-runtime/native/mallocTrim.c).
 *
 * Why: loading the pool's onnxruntime sessions, warming them up and the load-time benchmarks' batched runs
 * free most of what they allocate, and so does each request, but into the threads' malloc arenas, where glibc
 * keeps it: the free pages below live blocks, and each thread's arena top up to a threshold glibc raises to
 * 64 MiB. The vision pool idled at 350-370 MiB with some 135 MiB of it free inside those arenas, and after
 * 10,000 requests the inference threads' arena tops alone held 40 MiB (bench/rss.ts). Setting glibc's
 * thresholds low instead (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`) gives memory back on every
 * request at the price of page faults on every request; a release at the moments the runtime knows it has
 * just freed a peak costs nothing in between.
 */
export interface AllocatorTrim {
  /** False where the addon is not built (no C compiler at build time) or the C library has no malloc_trim. */
  readonly available: boolean;
  /** Why it is not available. */
  readonly reason?: string;
  /**
   * Returns free memory of every arena to the system: the free pages inside each, the calling thread's arena
   * top, and the tops of the arenas whose large blocks `collect` (a garbage collection, run first) frees.
   * True when there was any. A no-op when unavailable. Each thread with an arena of its own (the inference
   * threads) runs it itself, with its own collection: a thread's top is returned only from that thread.
   */
  release(collect?: () => void): boolean;
  /**
   * Returns the arena tops of the libuv pool's threads (where sharp decodes and resizes): resolves with the
   * number of pool threads that did (0 when unavailable).
   */
  releasePoolArenas(): Promise<number>;
}

/** libuv's pool size: `UV_THREADPOOL_SIZE`, 4 by default, at most 1024. */
export function uvPoolThreads(env: NodeJS.ProcessEnv = process.env): number {
  const size = Number(env.UV_THREADPOOL_SIZE);
  return Number.isInteger(size) && size >= 1 ? Math.min(size, 1024) : 4;
}

export function loadAllocatorTrim(file: string = nativeAddonFile('mallocTrim')): AllocatorTrim {
  if (process.platform !== 'linux') return unavailable(`malloc_trim is glibc's; this is ${process.platform}`);
  const loaded = loadNativeAddon<{ trim(collect?: () => void): unknown; trimPoolArenas(threads: number): Promise<number> }>(file, ['trim', 'trimPoolArenas']);
  if ('reason' in loaded) return unavailable(loaded.reason);
  const { trim, trimPoolArenas } = loaded.addon;
  return {
    available: true,
    release: (collect) => trim(collect) === true,
    releasePoolArenas: () => trimPoolArenas(uvPoolThreads()),
  };
}

function unavailable(reason: string): AllocatorTrim {
  return { available: false, reason, release: () => false, releasePoolArenas: async () => 0 };
}
