import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * How a benchmark starts a server script of bench/ (predictServer.ts, visionServer.ts, v2Floor.ts) or the
 * runtime's main: as the runtime ships, compiled by tsc (tsconfig.bench.json, into `dist/`) and run by plain
 * `node`, with the native addons `npm run build` makes.
 *
 * Not through tsx: tsx compiles with esbuild's `keepNames`, which wraps every named closure in a call that
 * redefines its `name`, and V8 then gives each closure made per request a hidden class of its own, kept in
 * the old generation until a full collection. That is a cost of tsx, not of the runtime, and it was in the
 * figures of every benchmark that ran the runtime's sources.
 *
 * A checkout without tsconfig.bench.json (a baseline from before it) still runs its sources through tsx.
 */
export function nodeScript(root: string, script: string): string[] {
  if (!existsSync(path.join(root, 'tsconfig.bench.json'))) return ['--import', 'tsx', script];
  buildOnce(root);
  return [distOf(root, script)];
}

/** Where a build puts the compiled `script` (a path under the checkout, `.ts`) of checkout `root`. */
export function distOf(root: string, script: string): string {
  return path.join(root, 'dist', script.replace(/\.ts$/, '.js'));
}

const built = new Set<string>();

/** tsc over tsconfig.bench.json and the native addons, once per checkout and process. */
function buildOnce(root: string): void {
  const key = path.resolve(root);
  if (built.has(key)) return;
  execFileSync(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.bench.json'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  execFileSync(process.execPath, ['--import', 'tsx', 'deploy/nativeAddons.ts'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  built.add(key);
}
