/**
 * Hands the model cache directory to the runtime user before the runtime starts:
 *
 *   node dist/inference-runtime/prepareCache.js <dir> <uid> <gid>
 *
 * The kubelet creates a missing DirectoryOrCreate hostPath as root:root 0755, which the runtime (uid 1000)
 * cannot write. The operator runs this in an init container as root with CAP_CHOWN only. It changes the
 * owner of <dir> itself, only while it is empty (never its contents: a cache the runtime wrote is already
 * its own), and refuses a symlink, so a link planted on the node cannot redirect the chown elsewhere.
 */
import { lchownSync, lstatSync, readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export type PrepareOutcome = 'unchanged' | 'chowned';

export class PrepareCacheError extends Error {}

function id(v: string | undefined, what: string): number {
  if (v === undefined || !/^\d{1,10}$/.test(v) || Number(v) > 0xfffffffe) throw new PrepareCacheError(`${what}: not a numeric id: ${JSON.stringify(v)}`);
  return Number(v);
}

/**
 * Makes `dir` owned by uid:gid when it is another user's and empty, as the kubelet leaves a directory it
 * just created. A directory with content is never taken over: the kubelet follows symlinks on the node, so
 * a host path could resolve to a system directory, and its files must stay their owners'. lchown never
 * follows a link, and a link is refused anyway.
 */
export function prepareCacheDir(dir: string, uid: number, gid: number): PrepareOutcome {
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) throw new PrepareCacheError(`${dir} is a symbolic link; refusing to change its owner`);
  if (!st.isDirectory()) throw new PrepareCacheError(`${dir} is not a directory`);
  if (st.uid === uid) return 'unchanged';
  if (readdirSync(dir).length > 0) {
    throw new PrepareCacheError(`${dir} belongs to uid ${st.uid} and is not empty; refusing to take it over (give it to uid ${uid} on the node)`);
  }
  lchownSync(dir, uid, gid);
  return 'chowned';
}

export function main(argv: readonly string[]): number {
  const [dir, uid, gid] = argv;
  try {
    if (!dir || argv.length !== 3) throw new PrepareCacheError('usage: prepareCache <dir> <uid> <gid>');
    const outcome = prepareCacheDir(dir, id(uid, 'uid'), id(gid, 'gid'));
    process.stdout.write(`${JSON.stringify({ msg: 'model cache prepared', dir, outcome, uid: Number(uid), gid: Number(gid) })}\n`);
    return 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${JSON.stringify({ msg: 'model cache not prepared', dir, error: message })}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
