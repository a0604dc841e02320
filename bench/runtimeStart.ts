/**
 * The built runtime (`dist/inference-runtime/main.js`) as a process of its own for the start-up and
 * footprint benchmarks: the time from spawn to the first 200 of `/readyz`, and the resident memory of the
 * runtime and of every process it started (Apertium pipelines, the speech recogniser), from `/proc`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { PoolConfig } from '../inference-runtime/config/types.js';
import { distOf } from './runtimeBuild.js';
import { runtimeNodeFlags } from './runtimeFlags.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The entry of a build: this checkout's `dist/`, or another checkout's to compare against. */
export function mainOf(checkout = ROOT): string {
  const main = distOf(checkout, 'inference-runtime/main.ts');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` in ${checkout} first`);
  return main;
}

/** Writes a pool as a JSON pool file in a temporary folder and returns its path. */
export function poolFile(pool: PoolConfig, name: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'mloffload-bench-pool-')), `${name}.json`);
  writeFileSync(file, JSON.stringify(pool));
  return file;
}

export interface StartedRuntime {
  child: ChildProcess;
  url: string;
  /** Spawn to first 200 of /readyz. */
  readyMs: number;
  /** JSON log lines the runtime wrote up to now, each with `atMs` since spawn. */
  log: Array<Record<string, unknown>>;
  /** Resolves with the first log line of this event (already written or to come), by the deadline. */
  event(name: string, timeoutMs: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** `mainOf()` of the build to start. */
  main: string;
  pool: string;
  cacheDir: string;
  workers?: number;
  env?: NodeJS.ProcessEnv;
  deadlineMs?: number;
}

/** Spawns the runtime and polls `/readyz` every 25 ms until it answers 200; rejects on exit or at the deadline. */
export async function startRuntime(options: StartOptions): Promise<StartedRuntime> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'PORT' && !k.startsWith('MLOFFLOAD_')));
  const t0 = performance.now();
  const child = spawn(process.execPath, [...(await runtimeNodeFlags(path.resolve(path.dirname(options.main), '..', '..'))), options.main, '--port', '0', '--host', '127.0.0.1', '--model-cache', options.cacheDir, '--config', options.pool], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...clean, ...(options.workers !== undefined ? { MLOFFLOAD_WORKERS: String(options.workers) } : {}), ...options.env },
  });
  const log: Array<Record<string, unknown>> = [];
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exit.then(() => (exited = true));
  let port: number | undefined;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (text) => {
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        log.push({ ...line, atMs: Math.round(performance.now() - t0) });
        if (line.event === 'listening') port = line.port as number;
      } catch {
        // not a log line
      }
    });
  }
  const stop = async (): Promise<void> => {
    if (!exited) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exit;
    clearTimeout(timer);
  };
  const event = async (name: string, timeoutMs: number): Promise<Record<string, unknown>> => {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const line = log.find((l) => l.event === name);
      if (line) return line;
      if (exited || performance.now() > until) throw new Error(`no ${name} event: ${JSON.stringify(log.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const deadline = t0 + (options.deadlineMs ?? 300_000);
  for (;;) {
    if (exited) throw new Error(`the runtime exited before ready: ${JSON.stringify(log.slice(-5))}`);
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`not ready within ${options.deadlineMs ?? 300_000} ms: ${JSON.stringify(log.slice(-5))}`);
    }
    if (port !== undefined) {
      const status = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) return { child, url: `http://127.0.0.1:${port}`, readyMs: performance.now() - t0, log, event, stop };
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return kb ? Number(kb[1]) : 0;
}

/** Proportional set size: pages shared with other processes (a pipeline's common libraries) count once in all. */
async function pssKiB(pid: number): Promise<number> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  const kb = /^Pss:\s+(\d+) kB$/m.exec(rollup);
  return kb ? Number(kb[1]) : 0;
}

async function descendants(root: number): Promise<Array<{ pid: number; name: string }>> {
  const byParent = new Map<number, Array<{ pid: number; name: string }>>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
    const close = stat.lastIndexOf(')');
    if (close < 0) continue;
    const name = stat.slice(stat.indexOf('(') + 1, close);
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    const list = byParent.get(ppid) ?? [];
    list.push({ pid: Number(entry), name });
    byParent.set(ppid, list);
  }
  const out: Array<{ pid: number; name: string }> = [];
  const walk = (pid: number): void => {
    for (const c of byParent.get(pid) ?? []) {
      out.push(c);
      walk(c.pid);
    }
  };
  walk(root);
  return out;
}

export interface Footprint {
  /** The runtime process itself (main thread and inference threads): RSS. */
  runtimeMiB: number;
  /** Processes it started, by command name: how many, and their summed PSS. */
  children: Record<string, { count: number; pssMiB: number }>;
  /** Summed PSS of the processes it started (their RSS would count shared libraries once per process). */
  childrenPssMiB: number;
  childrenRssMiB: number;
}

export async function footprint(pid: number): Promise<Footprint> {
  const runtimeMiB = (await rssKiB(pid)) / 1024;
  const children: Footprint['children'] = {};
  let childrenRssMiB = 0;
  for (const c of await descendants(pid)) {
    const entry = (children[c.name] ??= { count: 0, pssMiB: 0 });
    entry.count++;
    entry.pssMiB += (await pssKiB(c.pid)) / 1024;
    childrenRssMiB += (await rssKiB(c.pid)) / 1024;
  }
  const childrenPssMiB = Object.values(children).reduce((a, b) => a + b.pssMiB, 0);
  return { runtimeMiB, children, childrenPssMiB, childrenRssMiB };
}

export async function loadAverage(): Promise<string> {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
}
