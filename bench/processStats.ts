/** What the benchmarks that drive a runtime in a process of their own read from it. */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { createInterface } from 'node:readline';

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, 100 on Linux). */
const CLOCK_TICKS = 100;

/** CPU time (user + system) in ms of the text of a /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat file. */
export function statCpuMs(stat: string): number {
  // utime and stime are fields 14 and 15; fields[0] here is field 3, after the command's closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** CPU time (user + system, all threads) of a process so far, in ms (Linux /proc). */
export function processCpuMs(pid: number): number {
  return statCpuMs(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** Seconds the event-loop (main) thread of a process has been runnable but waiting for a core (/proc schedstat, ns). */
export function eventLoopWaitSeconds(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
}

/** The machine's idle and total CPU time so far, in ticks (/proc/stat's first line; iowait counts as idle). */
export function machineTicks(): { idle: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  return { idle: fields[3]! + fields[4]!, total: fields.reduce((n, v) => n + v, 0) };
}

/** The cores the machine left idle on average between two `machineTicks()` readings. */
export function idleCoresBetween(before: { idle: number; total: number }, after: { idle: number; total: number }): number {
  return ((after.idle - before.idle) / Math.max(1, after.total - before.total)) * os.availableParallelism();
}

/** The first stdout line of `child` that is a JSON object with `event` equal to `event`. */
export function nextEvent(child: ChildProcess, event: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const onExit = (code: number | null): void => reject(new Error(`${event}: process exited with ${code}`));
    lines.on('line', (text) => {
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        if (line.event !== event) return;
        lines.close();
        child.off('exit', onExit);
        resolve(line);
      } catch {
        // not a log line
      }
    });
    child.once('exit', onExit);
  });
}
