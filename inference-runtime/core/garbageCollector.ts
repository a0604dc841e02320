import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * A full garbage collection on demand, with the memory of dead ArrayBuffers freed by the time it returns: for
 * the memory budget, and before each memory release (main.ts).
 * After a flood of large JSON bodies, V8's old space holds hundreds of MB of dead parsed objects; a process
 * that then refuses work (its RSS is over budget) allocates too little to trigger a collection, and would go
 * on refusing until V8's idle heuristics run (90 s in bench/flood.ts). `global.gc` is only defined with
 * `--expose-gc`, which the flag below turns on for contexts created afterwards.
 *
 * `gc()` without arguments: in Node 20 (V8 11.3) the options form (`gc({ type: 'major', execution: 'sync' })`,
 * with or without `flavor: 'last-resort'`) returns without freeing what it should: 82 of 84 MB of dead objects
 * were still counted in use after it, 3 MB after `gc()` (test/unit/inference-runtime/core/garbageCollector.test.ts).
 */
export function fullGarbageCollector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  // A collection hands the backing stores of the ArrayBuffers it found dead (request bodies, decoded images,
  // tensors: malloc'd memory, most of what a spell of traffic leaves) to a background thread that frees them
  // after `gc()` returns. A release that trims the allocator right away misses what is freed later, which then
  // stays resident: 10-42 MiB of 59 in a test of dead 100 KiB buffers. A full collection first waits for the
  // previous one's sweeping to finish, so the second call returns with every backing store of the first freed.
  return () => {
    gc();
    gc();
  };
}
