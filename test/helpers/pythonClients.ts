import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './runtimeProcess.js';

const run = promisify(execFile);

/** The Python clients the protocol tests drive (tritonclient, kserve), pinned in one requirements file. */
export const PYTHON_DIR = path.join(ROOT, 'test', 'python');
const REQUIREMENTS = path.join(PYTHON_DIR, 'requirements.txt');
const MARKER = '.installed';

/**
 * A virtualenv with the pinned clients, at ~/.cache/mloffload/venv-<hash of the requirements file>: built once
 * per machine (python3 -m venv, pip install -r) and reused while the file is unchanged. It is built under a
 * temporary name and renamed when complete, so an interrupted install or a concurrent test run never
 * sees half a venv. Returns the venv's python.
 */
export async function pythonClientsVenv(): Promise<string> {
  const hash = createHash('sha256')
    .update(await readFile(REQUIREMENTS))
    .digest('hex')
    .slice(0, 16);
  const cache = path.join(homedir(), '.cache', 'mloffload');
  const venv = path.join(cache, `venv-${hash}`);
  const python = path.join(venv, 'bin', 'python');
  if (existsSync(path.join(venv, MARKER))) return python;

  await mkdir(cache, { recursive: true });
  const building = `${venv}.building-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  try {
    await run('python3', ['-m', 'venv', building], { timeout: 120_000 });
    // pip through the interpreter (not bin/pip): the venv is renamed after, and console scripts pin their path.
    await run(path.join(building, 'bin', 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', '-r', REQUIREMENTS], {
      timeout: 20 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    await writeFile(path.join(building, MARKER), `${new Date().toISOString()}\n`);
    try {
      await rename(building, venv);
    } catch (error) {
      // Another run finished first: its venv serves as well.
      if (!existsSync(path.join(venv, MARKER))) throw error;
    }
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return python;
}

/** Runs one of the client scripts in test/python with the venv's python; rejects on a non-zero exit, with its stderr. */
export async function runPythonClient(python: string, script: string, args: readonly string[], timeoutMs = 120_000): Promise<unknown> {
  try {
    const { stdout } = await run(python, [path.join(PYTHON_DIR, script), ...args], { cwd: PYTHON_DIR, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return JSON.parse(stdout) as unknown;
  } catch (error) {
    const e = error as Error & { stderr?: string };
    throw new Error(`${script} failed: ${e.message}\n${(e.stderr ?? '').slice(-4000)}`);
  }
}
