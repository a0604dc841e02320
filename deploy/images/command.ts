import { spawn } from 'node:child_process';
import { chmodSync } from 'node:fs';

export interface CommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Passed to the child's stdin. */
  input?: string;
  /** Echo the child's stderr as it runs (long steps show progress). */
  echo?: boolean;
}

export class CommandError extends Error {
  override name = 'CommandError';
  constructor(
    readonly command: string,
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${command} failed (exit ${code}): ${stderr.trim().split('\n').slice(-15).join('\n')}`);
  }
}

/** Runs a program with argv (no shell) and resolves with its stdout; rejects with its stderr on failure. */
export function command(file: string, args: readonly string[], options: CommandOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => {
      err.push(c);
      if (options.echo) process.stderr.write(c);
    });
    child.on('error', (e) => reject(new CommandError(`${file} ${args.join(' ')}`, null, e.message)));
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new CommandError(`${file} ${args.slice(0, 4).join(' ')}${args.length > 4 ? ' ...' : ''}`, code, Buffer.concat(err).toString('utf8')));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  });
}

/** Writes `dir` as a tar whose bytes depend only on the files: sorted names, fixed times, numeric owners. */
export async function deterministicTar(dir: string, tarFile: string, epoch: number): Promise<void> {
  // The folder becomes the image's `/`: a mkdtemp folder's 0700 would lock the non-root user out.
  chmodSync(dir, 0o755);
  await command('tar', [
    '--create',
    `--file=${tarFile}`,
    `--directory=${dir}`,
    '--sort=name',
    `--mtime=@${epoch}`,
    '--numeric-owner',
    '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    '.',
  ]);
}
