import type { ChildProcess } from 'node:child_process';

/**
 * Stops a child process the way a kubelet stops a container: SIGTERM, then SIGKILL once `timeoutMs` has
 * passed. `exited` is the promise of its exit code. Returns that code (null when it died by a signal).
 */
export async function terminate(child: ChildProcess, exited: Promise<number | null>, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}
