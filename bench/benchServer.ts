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

/**
 * bench/visionServer.ts with `workers` inference threads, optionally pinned to cores (taskset), from a
 * checkout, with `env` added to this process's environment.
 */
export async function startVisionServer(options: { name: string; workers: number; backend: string; pin?: string; cwd?: string; env?: Record<string, string> }): Promise<VisionServer> {
  const node = [process.execPath, ...(await runtimeNodeFlags(options.cwd)), ...nodeScript(options.cwd ?? process.cwd(), path.join('bench', 'visionServer.ts')), '--workers', String(options.workers), '--backend', options.backend];
  const [cmd, ...args] = options.pin ? ['taskset', '-c', options.pin, ...node] : node;
  const child = spawn(cmd!, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const info = await readyLine<{ url: string; backends: string[] }>(child, options.name);
  return { ...info, child };
}

export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
