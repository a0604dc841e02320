import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * A full garbage collection on demand, for the memory budget. After a flood of large JSON bodies, V8's old
 * space holds hundreds of MB of dead parsed objects; a process that then refuses work (its RSS is over budget)
 * allocates too little to trigger a collection, and would go on refusing until V8's idle heuristics run (90 s
 * in bench/flood.ts). `global.gc` is only defined with `--expose-gc`, which the flag below turns on for
 * contexts created afterwards.
 */
export function fullGarbageCollector(options: { reduceMemory?: boolean } = {}): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as (options?: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
  // The last-resort flavour collects as under memory pressure: it also shrinks the young generation a spell of
  // requests grew and unmaps V8's pooled pages (20-30 MiB of the main thread's RSS after a few hundred requests).
  return options.reduceMemory ? () => gc({ type: 'major', execution: 'sync', flavor: 'last-resort' }) : () => gc();
}
