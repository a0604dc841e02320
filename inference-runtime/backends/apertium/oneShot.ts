import { spawn } from 'node:child_process';
import { apertiumEnvironment } from './toolEnvironment.js';

export interface OneShotLimits {
  /** Killed (SIGKILL) when it has not finished by then. */
  timeoutMs: number;
  /** Killed when it writes more than this. */
  maxOutputBytes: number;
}

/** Why a short-lived tool failed: the message names the program, never the input. */
export class ToolFailure extends Error {}

/**
 * Runs a program on `input` (stdin) and returns its stdout; argv only, no shell. Apertium's text deformatter
 * and reformatter read to end of file, so they run once per text as apertium-apy runs them, around the
 * long-lived null-flush pipeline.
 */
export function runOnce(program: string, args: readonly string[], input: Buffer, limits: OneShotLimits): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'], env: apertiumEnvironment() });
    const out: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let failure: string | undefined;
    const fail = (why: string): void => {
      failure ??= why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => fail(`did not finish within ${limits.timeoutMs} ms`), limits.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxOutputBytes) fail(`wrote more than ${limits.maxOutputBytes} bytes`);
      else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 2048) stderr += chunk.toString('utf8');
    });
    // EPIPE when the tool exits before reading everything: its exit status tells what happened.
    child.stdin.on('error', () => undefined);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new ToolFailure(`${program} could not start: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (failure) reject(new ToolFailure(`${program} ${failure}`));
      else if (code !== 0) reject(new ToolFailure(`${program} exited with ${code ?? signal}${stderr ? `: ${stderr.trim().slice(0, 300)}` : ''}`));
      else resolve(Buffer.concat(out, size));
    });
    child.stdin.end(input);
  });
}
