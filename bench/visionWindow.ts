/**
 * One window of flagship load against a vision server of bench/, as bench/visionCores.ts and
 * bench/inferenceNice.ts measure it: a niced (and optionally pinned) load generator process
 * (bench/visionLoad.ts) whose CPU is counted apart, the server's CPU split by kind of thread, the time its
 * event loop waited for a core, and the cores the machine left idle (Linux /proc).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { eventLoopWaitSeconds, idleCoresBetween, machineTicks, processCpuMs, statCpuMs } from './processStats.js';

export interface LoadTarget {
  name: string;
  url: string;
  pid: number;
}

/**
 * CPU seconds of a process by kind of thread: the main (event loop) thread, libvips' pixel workers, and
 * every other thread (inference workers, the libuv pool that runs sharp's calls, V8's helpers).
 */
export type ThreadCpu = Record<'main' | 'libvips' | 'other', number>;
function threadCpuOf(pid: number): ThreadCpu {
  const out: ThreadCpu = { main: 0, libvips: 0, other: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    out[Number(tid) === pid ? 'main' : name.startsWith('libvips') ? 'libvips' : 'other'] += statCpuMs(stat) / 1000;
  }
  return out;
}

/** What the load generator reports. */
export interface LoadResult {
  latencies: number[];
  stages: Record<string, number>[];
  faces: number[];
  seconds: number;
  cpuSeconds: number;
}

export interface Window extends LoadResult {
  serverCpuSeconds: number;
  threads: ThreadCpu;
  /** Seconds the server's event loop waited in the run queue. */
  mainWaitSeconds: number;
  /** Cores the machine left idle, on average over the window. */
  idleCores: number;
}

/** `clients` closed-loop clients sending `images` in turn to the server for `ms`, the generator niced to 19. */
export async function loadWindow(server: LoadTarget, images: string[], clients: number, ms: number, pin?: string): Promise<Window> {
  const generator = [process.execPath, '--import', 'tsx', path.join('bench', 'visionLoad.ts'), '--url', server.url, '--clients', String(clients), '--ms', String(ms), ...images];
  const [cmd, ...args] = ['nice', '-n', '19', ...(pin ? ['taskset', '-c', pin] : []), ...generator];
  const before = processCpuMs(server.pid);
  const threadsBefore = threadCpuOf(server.pid);
  const waitBefore = eventLoopWaitSeconds(server.pid);
  const ticksBefore = machineTicks();
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${server.name}: load generator exited with ${code}`);
  const threadsAfter = threadCpuOf(server.pid);
  const ticksAfter = machineTicks();
  const idleCores = idleCoresBetween(ticksBefore, ticksAfter);
  const mainWaitSeconds = eventLoopWaitSeconds(server.pid) - waitBefore;
  const threads: ThreadCpu = { main: threadsAfter.main - threadsBefore.main, libvips: threadsAfter.libvips - threadsBefore.libvips, other: threadsAfter.other - threadsBefore.other };
  return { ...(JSON.parse(out) as LoadResult), serverCpuSeconds: (processCpuMs(server.pid) - before) / 1000, threads, mainWaitSeconds, idleCores };
}
