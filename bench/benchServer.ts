/**
 * The benchmark servers (bench/visionServer.ts, bench/predictServer.ts) run as child processes that print one
 * JSON line when they listen; the scripts that drive them start and stop them here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { runtimeNodeFlags } from './runtimeFlags.js';
import { nodeScript } from './runtimeBuild.js';

/** The first line of a child's stdout that parses as JSON (the ready line); throws if the child exits first. */
export async function readyLine<T>(child: ChildProcess, name: string): Promise<T> {
  for await (const line of createInterface({ input: child.stdout! })) {
    try {
      return JSON.parse(line) as T;
    } catch {
      // not the ready line
    }
  }
  throw new Error(`${name}: server exited before it was ready`);
}

export interface VisionServer {
  url: string;
  backends: string[];
  child: ChildProcess;
}

/** Where and how a bench server runs: a checkout (default this one), cores to pin it to (taskset), variables added to the environment. */
export interface ServerPlacement {
  cwd?: string;
  pin?: string;
  env?: Record<string, string>;
}

/** A server script of bench/ from a checkout, compiled as the runtime ships, with its ready line. */
async function startBenchScript<T>(name: string, script: string, args: string[], placement: ServerPlacement): Promise<T & { child: ChildProcess }> {
  const node = [process.execPath, ...(await runtimeNodeFlags(placement.cwd)), ...nodeScript(placement.cwd ?? process.cwd(), path.join('bench', script)), ...args];
  const [cmd, ...rest] = placement.pin ? ['taskset', '-c', placement.pin, ...node] : node;
  const child = spawn(cmd!, rest, { cwd: placement.cwd, env: { ...process.env, ...placement.env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return { ...(await readyLine<T>(child, name)), child };
}

/** bench/visionServer.ts with `workers` inference threads. */
export function startVisionServer(options: { name: string; workers: number; backend: string } & ServerPlacement): Promise<VisionServer> {
  return startBenchScript(options.name, 'visionServer.ts', ['--workers', String(options.workers), '--backend', options.backend], options);
}

export interface PredictServer {
  url: string;
  backend: string;
  threads: number;
  child: ChildProcess;
}

/** bench/predictServer.ts (facial-expression alone) over the model cache `cacheDir`; `args` after its own. */
export function startPredictServer(options: { name: string; cacheDir: string; backend?: string; args?: string[] } & ServerPlacement): Promise<PredictServer> {
  return startBenchScript(options.name, 'predictServer.ts', [options.cacheDir, options.backend ?? 'auto', ...(options.args ?? [])], options);
}

export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
