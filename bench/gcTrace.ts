/**
 * The garbage collections of a benchmark's child process, read from the lines V8 prints with `GC_TRACE_FLAGS`:
 * young-generation collections (scavenges) with the bytes each found alive and promoted, and full
 * (mark-compact) collections. The child also prints its JSON ready line (`{"event":"ready","url":...}`) on
 * stdout, where the trace goes.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export const GC_TRACE_FLAGS = ['--trace-gc', '--trace-gc-nvp'];

export interface GcCounts {
  scavenges: number;
  survivedBytes: number;
  promotedBytes: number;
  fullCollections: number;
}

export interface GcTrace {
  /** The URL of the child's ready line; rejects if the child exits first. */
  url: Promise<string>;
  /** Runs `work` and counts the collections the child made meanwhile. */
  count<T>(work: () => Promise<T>): Promise<{ result: T; gc: GcCounts }>;
}

export function traceGc(child: ChildProcess, name: string): GcTrace {
  let counts: GcCounts | undefined;
  const url = new Promise<string>((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`${name} exited with ${code} before it was ready`));
    child.once('exit', onExit);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"event":"ready"')) {
        child.off('exit', onExit);
        resolve(String((JSON.parse(line) as { url: string }).url));
      }
      if (!counts) return;
      const kind = /\bgc=(\w+)/.exec(line)?.[1];
      if (kind === 's') {
        counts.scavenges++;
        counts.survivedBytes += Number(/\bnew_space_survived=(\d+)/.exec(line)?.[1] ?? 0);
        counts.promotedBytes += Number(/\bpromoted=(\d+)/.exec(line)?.[1] ?? 0);
      } else if (kind === 'mc') {
        counts.fullCollections++;
      }
    });
  });
  return {
    url,
    async count(work) {
      const gc = { scavenges: 0, survivedBytes: 0, promotedBytes: 0, fullCollections: 0 };
      counts = gc;
      try {
        return { result: await work(), gc };
      } finally {
        counts = undefined;
      }
    },
  };
}
