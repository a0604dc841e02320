import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { findPackageDir } from './npmPackage.js';

/**
 * Starts a worker thread on a module next to the caller, in a form the current process can run: compiled
 * JavaScript in production, or the TypeScript source under tsx (tests, `tsx` runs), whose loader hooks a
 * worker does not inherit and so has to register itself. `entry` is the module's URL without extension,
 * resolved against the caller's `import.meta.url`.
 */
export function startModuleWorker(callerUrl: string, entry: string, options: { workerData?: unknown; name?: string } = {}): Worker {
  const fromTs = callerUrl.endsWith('.ts');
  const url = new URL(`${entry}${fromTs ? '.ts' : '.js'}`, callerUrl);
  if (!fromTs) return new Worker(url, options);
  const tsxApi = resolveImport('tsx', './esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, Object.assign({}, options, { eval: true }));
}

/**
 * Starts a Node process on a module next to the caller, in a form it can run (as `startModuleWorker`), with
 * an IPC channel (`advanced` serialization: typed arrays cross as such) and no stdin or stdout: whatever a
 * library prints there must not mix with the runtime's JSON log lines. Its stderr is the caller's to read.
 * Flags of this process (an inspector port, say) are not passed on.
 */
export function startModuleProcess(callerUrl: string, entry: string): ChildProcess {
  const fromTs = callerUrl.endsWith('.ts');
  const url = new URL(`${entry}${fromTs ? '.ts' : '.js'}`, callerUrl);
  return fork(url, [], {
    execArgv: fromTs ? ['--import', resolveImport('tsx', '.')] : [],
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
}

/**
 * The ESM entry of a package subpath. `import.meta.resolve` does this, but is missing when tsx runs this file
 * as CommonJS (as mocha loads it); `require.resolve` would pick the CommonJS entry, whose relative imports
 * break when loaded from a worker's eval context. So read the `import` condition of the exports map.
 */
function resolveImport(pkg: string, subpath: string): string {
  if (typeof import.meta.resolve === 'function') return import.meta.resolve(subpath === '.' ? pkg : `${pkg}/${subpath.replace(/^\.\//, '')}`);
  const dir = findPackageDir(pkg);
  if (!dir) throw new Error(`${pkg} is not installed`);
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { exports?: Record<string, unknown> };
  let target: unknown = manifest.exports?.[subpath];
  while (target && typeof target === 'object') {
    const conditions = target as Record<string, unknown>;
    target = conditions.import ?? conditions.node ?? conditions.default;
  }
  if (typeof target !== 'string') throw new Error(`${pkg} has no ESM entry for ${subpath}`);
  return pathToFileURL(path.join(dir, target)).href;
}
