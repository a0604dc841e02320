import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Returns the C allocator's free memory to the system (glibc `malloc_trim(0)`, inference-runtime/native/mallocTrim.c).
 *
 * Why: loading the pool's onnxruntime sessions, warming them up and the load-time benchmarks' batched runs
 * free most of what they allocate, but in the inference threads' malloc arenas, where glibc returns only
 * the memory above the highest live block. The vision pool idled at 350-370 MiB with some 135 MiB of it
 * free inside those arenas (bench/rss.ts). Setting glibc's thresholds instead (`MALLOC_MMAP_THRESHOLD_`,
 * `MALLOC_TRIM_THRESHOLD_`) gives memory back on every request at the price of page faults on every request;
 * a trim at the moments the runtime knows it has just freed a peak costs nothing in between.
 */
export interface AllocatorTrim {
  /** False where the addon is not built (no C compiler at build time) or the C library has no malloc_trim. */
  readonly available: boolean;
  /** Why it is not available. */
  readonly reason?: string;
  /** Returns free pages of every arena to the system; true when there were any. A no-op when unavailable. */
  release(): boolean;
}

/**
 * Where `npm run build` (deploy/nativeAddons.ts) puts the addon: next to the compiled core/ folder; a runtime
 * started from the sources (tsx) finds it in the checkout's dist/.
 */
export function addonFile(): string {
  const compiled = fileURLToPath(new URL('../native/mallocTrim.node', import.meta.url));
  const ofSources = fileURLToPath(new URL('../../dist/inference-runtime/native/mallocTrim.node', import.meta.url));
  return existsSync(compiled) || !existsSync(ofSources) ? compiled : ofSources;
}

export function loadAllocatorTrim(file: string = addonFile()): AllocatorTrim {
  if (process.platform !== 'linux') return unavailable(`malloc_trim is glibc's; this is ${process.platform}`);
  if (!existsSync(file)) return unavailable(`${file} is not built (npm run build needs a C compiler for it)`);
  try {
    const addon = createRequire(import.meta.url)(file) as { trim?: unknown };
    const trim = addon.trim;
    if (typeof trim !== 'function') return unavailable(`${file} has no trim function`);
    return { available: true, release: () => trim() === true };
  } catch (error) {
    // A C library without malloc_trim (musl) fails to resolve the symbol when the addon loads.
    return unavailable(`${file} did not load: ${(error as Error).message}`);
  }
}

function unavailable(reason: string): AllocatorTrim {
  return { available: false, reason, release: () => false };
}
