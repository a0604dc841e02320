/**
 * The garbage collections of a benchmark's child process, read from the lines V8 prints with `GC_TRACE_FLAGS`:
 * young-generation collections (scavenges) with the bytes each found alive and promoted, and full
 * (mark-compact) collections. The child also prints its JSON ready line (`{"event":"ready","url":...}`) on
 * stdout, where the trace goes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
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

/** Per-request and per-scavenge figures of `gc` over `requests`, as the tables of bench/ print them. */
export function gcFigures(requests: number, gc: GcCounts): { fullPer1000: string; scavengesPer1000: string; kbAlive: string; kbPromoted: string } {
  const per = (n: number): string => ((1000 * n) / requests).toFixed(2);
  const kb = (bytes: number): string => (gc.scavenges ? bytes / gc.scavenges / 1024 : 0).toFixed(0);
  return { fullPer1000: per(gc.fullCollections), scavengesPer1000: per(gc.scavenges), kbAlive: kb(gc.survivedBytes), kbPromoted: kb(gc.promotedBytes) };
}

/**
 * Starts `argv` (a node command line, GC_TRACE_FLAGS among its flags) pinned to core 1, runs `load` against
 * its ready URL for `warmupSeconds`, then again for `seconds` while counting its collections, and stops it.
 * `load` returns the number of requests answered.
 */
export async function measureGc(
  argv: string[],
  name: string,
  load: (url: string, seconds: number) => Promise<number>,
  warmupSeconds: number,
  seconds: number,
): Promise<{ requests: number; gc: GcCounts }> {
  const child = spawn('taskset', ['-c', '1', ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const trace = traceGc(child, name);
    const url = await trace.url;
    await load(url, warmupSeconds);
    const { result, gc } = await trace.count(() => load(url, seconds));
    return { requests: result, gc };
  } finally {
    child.kill('SIGTERM');
  }
}
