import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * A full garbage collection on demand, for the memory budget. After a flood of large JSON bodies, V8's old
 * space holds hundreds of MB of dead parsed objects; a process that then refuses work (its RSS is over budget)
 * allocates too little to trigger a collection, and would go on refusing until V8's idle heuristics run (90 s
 * in bench/flood.ts). `global.gc` is only defined with `--expose-gc`, which the flag below turns on for
 * contexts created afterwards.
 */
export function fullGarbageCollector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  return () => gc();
}
