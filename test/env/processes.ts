// Starting and stopping the control-plane processes by pid. A pid recorded in a state file is only
// signalled while /proc shows it still runs the same binary, so a recycled pid is never killed.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface ProcessSpec {
  readonly binary: string;
  readonly args: readonly string[];
  readonly log: string;
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Starts a process with stdout and stderr appended to its log file. A detached process gets its own
 * process group and outlives this one (for `cluster:up`); otherwise it dies with the terminal's Ctrl-C
 * like any child, and the caller stops it on exit.
 */
export function startProcess(spec: ProcessSpec, detached: boolean): number {
  const out = openSync(spec.log, 'a');
  try {
    const child = spawn(spec.binary, [...spec.args], {
      detached,
      stdio: ['ignore', out, out],
      env: { ...process.env, ...spec.env },
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.binary}`);
    child.on('error', () => {
      // Reported through the pid check and the log file; keeps an early exit from crashing the caller.
    });
    if (detached) child.unref();
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/** True while `pid` is alive (not a zombie) and runs `binary`. */
export function isRunning(pid: number, binary: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
    return argv0 === binary;
  } catch {
    return false;
  }
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Signals the process and waits for it to end; escalates to SIGKILL after `graceMs`. */
export async function stopProcess(pid: number, binary: string, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
  if (!isRunning(pid, binary)) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isRunning(pid, binary)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        return;
      }
      const killDeadline = Date.now() + 5_000;
      while (isRunning(pid, binary) && Date.now() < killDeadline) await delay(20);
      if (isRunning(pid, binary)) throw new Error(`process ${pid} (${binary}) did not exit after SIGKILL`);
      return;
    }
    await delay(20);
  }
}

/** Synchronous best-effort kill, for process 'exit' handlers where nothing can be awaited. */
export function killNow(pid: number, binary: string): void {
  if (!isRunning(pid, binary)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('no port'));
        return;
      }
      server.close(() => resolvePort(address.port));
    });
  });
}

/** The last lines of a log file, for error messages. */
export function logTail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
