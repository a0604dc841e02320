import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Compiles the client SDK to `clients/typescript/dist/` (what the runtime serves to browsers under /demo/sdk/). */
export async function buildSdk(): Promise<void> {
  await promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'clients', 'typescript', 'tsconfig.json')], { cwd: ROOT });
}
