import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { PoolConfig } from '../../inference-runtime/config/types.js';
import { terminate } from './childProcess.js';
import { RUNTIME_NODE_FLAGS } from '../../inference-runtime/nodeFlags.js';
import { addonTarget, buildNativeAddons, nativeSources, NATIVE_SOURCES } from '../../deploy/nativeAddons.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Shared by the runtime-process tests so the built-in pool is fetched and compiled once per machine. */
export const CACHE_DIR = path.join(tmpdir(), 'mloffload-http-test-cache');

export interface LogLine {
  event: string;
  [field: string]: unknown;
}

let addonsChecked = false;

/**
 * The runtime started from the sources finds its native addons (core/allocatorTrim.ts) in the checkout's dist/,
 * where `npm run build` puts them: built there before the first start when missing or older than their source,
 * so that no test depends on another having run first. Without a C compiler the runtime serves without them,
 * as it would anywhere, and its `starting` line says why.
 */
function ensureNativeAddons(): void {
  if (addonsChecked) return;
  addonsChecked = true;
  const dist = path.join(ROOT, 'dist');
  // Any source or header newer than an addon makes it stale.
  const newestSource = Math.max(...readdirSync(NATIVE_SOURCES).map((f) => statSync(path.join(NATIVE_SOURCES, f)).mtimeMs));
  const stale = nativeSources().some((f) => {
    const addon = addonTarget(dist, f);
    return !existsSync(addon) || statSync(addon).mtimeMs < newestSource;
  });
  if (!stale) return;
  try {
    buildNativeAddons(dist);
  } catch {
    // No C compiler: see above.
  }
}

/**
 * The runtime as a real process (`inference-runtime/main.ts`), with every line it writes captured: JSON log
 * lines parsed for `event()`, and the raw text of stdout and stderr kept for assertions on what was logged.
 */
export class RuntimeProcess {
  readonly lines: LogLine[] = [];
  /** Everything written to stdout and stderr, line by line, parsed or not. */
  readonly rawLines: string[] = [];
  readonly exited: Promise<{ code: number | null; at: number }>;
  private readonly waiters: Array<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];

  constructor(readonly child: ChildProcess) {
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (text) => this.take(text));
    }
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
  }

  /** Starts `main.ts` with exactly these arguments; PORT and MLOFFLOAD_* variables of the test's environment are cleared. */
  static start(args: readonly string[], env: NodeJS.ProcessEnv = {}): RuntimeProcess {
    ensureNativeAddons();
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'PORT' && !k.startsWith('MLOFFLOAD_')));
    const child = spawn(process.execPath, [...RUNTIME_NODE_FLAGS, '--import', 'tsx', 'inference-runtime/main.ts', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...clean, ...env },
    });
    return new RuntimeProcess(child);
  }

  /** Starts the runtime on a free loopback port with the shared model cache; `args` add or override flags. */
  static startLocal(args: readonly string[], env: NodeJS.ProcessEnv = {}): RuntimeProcess {
    return RuntimeProcess.start(['--port', '0', '--host', '127.0.0.1', '--model-cache', CACHE_DIR, ...args], env);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first line of this event (already seen or to come); rejects at the deadline or on exit. */
  event(name: string, timeoutMs: number, match: (l: LogLine) => boolean = () => true): Promise<LogLine> {
    const seen = this.lines.find((l) => l.event === name && match(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${name}" event within ${timeoutMs} ms; log: ${this.rawLines.join('\n').slice(-3000)}`)), timeoutMs);
      this.waiters.push({
        match: (l) => l.event === name && match(l),
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void this.exited.then(({ code }) => {
        clearTimeout(timer);
        reject(new Error(`runtime exited (${code}) before "${name}"; log: ${this.rawLines.join('\n').slice(-3000)}`));
      });
    });
  }

  /** The port from the `listening` event. */
  async port(timeoutMs = 30_000): Promise<number> {
    return (await this.event('listening', timeoutMs)).port as number;
  }

  /** Resident set size of the process, as the kernel counts it (Linux). */
  async rssBytes(): Promise<number> {
    const status = await readFile(`/proc/${this.child.pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    if (!kb) throw new Error(`no VmRSS in /proc/${this.child.pid}/status`);
    return Number(kb[1]) * 1024;
  }

  /**
   * The RSS once the next memory release after log line `since` has run (core/quietRelease.ts: within two of its
   * 5 s checks after a spell of traffic ends): the lowest over the two seconds after it, since V8 unmaps the
   * pages a collection emptied from a thread of its own, a little after the release logs. Two such figures
   * compare what two spells of traffic left, whatever the heap's collection cycle or the allocator's arenas
   * were doing when each spell stopped. With the release's own log line.
   */
  async rssAfterRelease(since: number, timeoutMs = 30_000): Promise<{ rss: number; release: LogLine }> {
    const release = await this.event('memory_released', timeoutMs, (l) => this.lines.indexOf(l) >= since);
    let rss = await this.rssBytes();
    for (let i = 0; i < 8; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      rss = Math.min(rss, await this.rssBytes());
    }
    return { rss, release };
  }

  /** SIGTERM, then SIGKILL after the bound. */
  stop(timeoutMs = 15_000): Promise<number | null> {
    return terminate(
      this.child,
      this.exited.then((e) => e.code),
      timeoutMs,
    );
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  private take(text: string): void {
    this.rawLines.push(text);
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    if (typeof line?.event !== 'string') return;
    this.lines.push(line);
    for (const w of [...this.waiters]) {
      if (w.match(line)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  }
}

/** A runtime process whose pool is loaded and measured, as a node in a multi-node test. */
export interface ReadyRuntime {
  readonly child: ChildProcess;
  readonly url: string;
  readonly port: number;
  /** SIGKILL: the process dies at once, as on a node that lost power. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface ReadyRuntimeOptions {
  pool: PoolConfig;
  /** NODE_NAME as the downward API sets it. */
  nodeName: string;
  args?: string[];
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /** The event that ends the start (default `models_ready`; `models_settled_with_failures` for a pool meant to fail). */
  settledEvent?: 'models_ready' | 'models_settled_with_failures';
}

/** Starts a runtime on loopback with a pool file written for it; resolves once every model is loaded and measured. */
export async function startRuntimeProcess(options: ReadyRuntimeOptions): Promise<ReadyRuntime> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mloffload-runtime-'));
  const poolFile = path.join(dir, 'pool.json');
  writeFileSync(poolFile, JSON.stringify(options.pool));
  const runtime = RuntimeProcess.startLocal(['--config', poolFile, ...(options.args ?? [])], { NODE_NAME: options.nodeName, ...options.env });
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    const port = await runtime.port(60_000);
    await runtime.event(options.settledEvent ?? 'models_ready', options.readyTimeoutMs ?? 180_000);
    return {
      child: runtime.child,
      port,
      url: `http://127.0.0.1:${port}`,
      kill: async () => {
        runtime.kill();
        await runtime.exited;
        cleanup();
      },
      stop: async () => {
        await runtime.stop();
        cleanup();
      },
    };
  } catch (error) {
    runtime.kill();
    cleanup();
    throw error;
  }
}
