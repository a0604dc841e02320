// The inference runtime as a child process (inference-runtime/main.ts through tsx), on loopback and a free
// port, with a pool file written for it; resolves once every model of the pool is loaded and measured.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { PoolConfig } from '../../inference-runtime/config/types.js';
import { terminate } from './childProcess.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CACHE_DIR = path.join(tmpdir(), 'mloffload-http-test-cache');

export interface RuntimeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly port: number;
  /** SIGKILL: the process dies at once, as on a node that lost power. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface RuntimeProcessOptions {
  pool: PoolConfig;
  /** NODE_NAME as the downward API sets it. */
  nodeName: string;
  args?: string[];
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

export async function startRuntimeProcess(options: RuntimeProcessOptions): Promise<RuntimeProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mloffload-runtime-'));
  const poolFile = path.join(dir, 'pool.json');
  writeFileSync(poolFile, JSON.stringify(options.pool));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'inference-runtime/main.ts', '--port', '0', '--host', '127.0.0.1', '--config', poolFile, '--model-cache', CACHE_DIR, ...(options.args ?? [])],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PORT: '', MLOFFLOAD_POOL_CONFIG: '', NODE_NAME: options.nodeName, ...options.env } },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const log: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (c: string) => log.push(c));
  const events = new Map<string, Record<string, unknown>>();
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    log.push(text);
    try {
      const line = JSON.parse(text) as Record<string, unknown>;
      if (typeof line.event === 'string') events.set(line.event, line);
    } catch {
      return;
    }
    for (const w of waiters.splice(0)) w();
  });
  const waitFor = (event: string, timeoutMs: number) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`runtime ${options.nodeName}: no ${event} within ${timeoutMs} ms\n${log.join('\n').slice(-3000)}`)), timeoutMs);
      const check = () => {
        const seen = events.get(event);
        if (seen) {
          clearTimeout(timer);
          resolve(seen);
        } else if (child.exitCode !== null) {
          clearTimeout(timer);
          reject(new Error(`runtime ${options.nodeName} exited with ${child.exitCode}\n${log.join('\n').slice(-3000)}`));
        } else waiters.push(check);
      };
      check();
    });
  void exited.then(() => {
    for (const w of waiters.splice(0)) w();
  });
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    const listening = await waitFor('listening', 60_000);
    await waitFor('models_ready', options.readyTimeoutMs ?? 180_000);
    const port = Number(listening.port);
    return {
      child,
      port,
      url: `http://127.0.0.1:${port}`,
      kill: async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited;
        }
        cleanup();
      },
      stop: async () => {
        await terminate(child, exited, 15_000);
        cleanup();
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    cleanup();
    throw error;
  }
}
