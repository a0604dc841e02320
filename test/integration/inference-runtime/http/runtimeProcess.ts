import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
/** Shared by the runtime-process tests so the built-in pool is fetched and compiled once per machine. */
export const CACHE_DIR = path.join(tmpdir(), 'mloffload-http-test-cache');

export interface LogLine {
  event: string;
  [field: string]: unknown;
}

/** The runtime process (inference-runtime/main.ts) with its JSON log lines, waiting on events with a deadline. */
export class RuntimeProcess {
  readonly lines: LogLine[] = [];
  private readonly waiters: Array<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  readonly exited: Promise<{ code: number | null; at: number }>;

  /** Starts the runtime on a free loopback port with the shared model cache; `args` add or override flags. */
  static start(args: readonly string[], env: NodeJS.ProcessEnv = {}): RuntimeProcess {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'inference-runtime/main.ts', '--port', '0', '--host', '127.0.0.1', '--model-cache', CACHE_DIR, ...args],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, PORT: '', MLOFFLOAD_POOL_CONFIG: '', ...env } },
    );
    return new RuntimeProcess(child);
  }

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        return;
      }
      this.lines.push(line);
      for (const w of [...this.waiters]) {
        if (w.match(line)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  event(name: string, timeoutMs: number): Promise<LogLine> {
    const seen = this.lines.find((l) => l.event === name);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${name}" event within ${timeoutMs} ms; log: ${JSON.stringify(this.lines).slice(0, 2000)}`)), timeoutMs);
      this.waiters.push({
        match: (l) => l.event === name,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void this.exited.then(({ code }) => reject(new Error(`runtime exited (${code}) before "${name}"; log: ${JSON.stringify(this.lines).slice(0, 2000)}`)));
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

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }
}
