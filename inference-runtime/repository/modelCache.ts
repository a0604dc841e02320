import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, mkdtemp, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { redactUrl } from './redact.js';

/** One file of a cached model. */
export interface CachedFile {
  /** The name the model uses for it: `model.json` for the entry, `weightsManifest` paths for shards. */
  path: string;
  sha256: string;
  size: number;
}

/** What a source URI resolved to the last time it was fetched. */
export interface CacheManifest {
  uri: string;
  entry: CachedFile;
  files: CachedFile[];
  fetchedAt: string;
}

export function defaultCacheDir(): string {
  return process.env.MLOFFLOAD_MODEL_CACHE || path.join(os.homedir(), '.cache', 'mloffload', 'models');
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * A content-addressed store on disk:
 *
 *   blobs/sha256/<hex>           file contents, named by their digest
 *   manifests/<sha256(uri)>.json which blobs a source URI resolved to (entry + weight shards)
 *   models/<model digest>/       the entry file and its shards under their own names (hard links to blobs),
 *                                for loaders that look for shards next to model.json
 *   derived/<model digest>/      what engines derive from a model (e.g. compiled ONNX), kept across restarts
 *   tmp/                         downloads in progress
 *
 * Every write is a temp file plus rename, so readers (another runtime sharing a hostPath cache included) see
 * either nothing or a whole file.
 */
export class ModelCache {
  readonly dir: string;

  constructor(dir: string = defaultCacheDir()) {
    this.dir = path.resolve(dir);
  }

  get tmpDir(): string {
    return path.join(this.dir, 'tmp');
  }

  async init(): Promise<void> {
    await Promise.all(
      [this.tmpDir, path.join(this.dir, 'blobs', 'sha256'), path.join(this.dir, 'manifests')].map((d) => mkdir(d, { recursive: true })),
    );
  }

  blobPath(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256 digest: ${sha256}`);
    return path.join(this.dir, 'blobs', 'sha256', sha256);
  }

  manifestPath(uri: string): string {
    return path.join(this.dir, 'manifests', `${createHash('sha256').update(uri).digest('hex')}.json`);
  }

  /** One digest for a model's whole file set: the entry and every shard, with their names. */
  static modelDigest(manifest: CacheManifest): string {
    const h = createHash('sha256');
    for (const f of [manifest.entry, ...[...manifest.files].sort((a, b) => a.path.localeCompare(b.path))]) h.update(`${f.path}\u0000${f.sha256}\n`);
    return h.digest('hex');
  }

  derivedDir(manifest: CacheManifest): string {
    return path.join(this.dir, 'derived', ModelCache.modelDigest(manifest));
  }

  /**
   * Lays the files of a verified manifest out under their own names in `models/<model digest>/` and returns
   * that folder. An intact folder (hard links to the verified blobs, or copies with the right digests) is
   * reused, so models sharing files, and runtimes sharing the cache, never pull it from under each other.
   * A new folder is built in tmp/ and renamed into place, so readers see a complete one. Hard links cost
   * nothing; a filesystem without them gets copies.
   */
  async materialize(manifest: CacheManifest): Promise<string> {
    const target = path.join(this.dir, 'models', ModelCache.modelDigest(manifest));
    if (await this.intact(target, manifest)) return target;
    await mkdir(path.dirname(target), { recursive: true });
    const staging = await mkdtemp(path.join(this.tmpDir, 'model-'));
    try {
      for (const f of [manifest.entry, ...manifest.files]) {
        const dest = path.join(staging, f.path);
        await mkdir(path.dirname(dest), { recursive: true });
        await link(this.blobPath(f.sha256), dest).catch(() => copyFile(this.blobPath(f.sha256), dest));
      }
      try {
        await rename(staging, target);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        // Someone else just built it, or a damaged folder is in the way: move the latter aside.
        if (!(await this.intact(target, manifest))) {
          const aside = path.join(this.tmpDir, `stale-${process.pid}-${randomBytes(6).toString('hex')}`);
          await rename(target, aside);
          await rename(staging, target);
          await rm(aside, { recursive: true, force: true });
        }
      }
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    return target;
  }

  /** Every file present with its digest's content: the blob itself (same inode), or a copy that hashes right. */
  private async intact(dir: string, manifest: CacheManifest): Promise<boolean> {
    for (const f of [manifest.entry, ...manifest.files]) {
      try {
        const [laid, blob] = await Promise.all([stat(path.join(dir, f.path)), stat(this.blobPath(f.sha256))]);
        if (laid.ino === blob.ino && laid.dev === blob.dev) continue;
        if (laid.size !== f.size || (await sha256File(path.join(dir, f.path))) !== f.sha256) return false;
      } catch {
        return false;
      }
    }
    return true;
  }

  /** Moves a fully written temp file to its digest's place. */
  async commitBlob(tempPath: string, sha256: string): Promise<string> {
    const target = this.blobPath(sha256);
    await rename(tempPath, target);
    return target;
  }

  async readManifest(uri: string): Promise<CacheManifest | undefined> {
    let text: string;
    try {
      text = await readFile(this.manifestPath(uri), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const m = JSON.parse(text) as CacheManifest;
      if (m.uri !== redactUrl(uri) || !m.entry || !Array.isArray(m.files)) return undefined;
      return { ...m, uri };
    } catch {
      return undefined;
    }
  }

  async writeManifest(manifest: CacheManifest): Promise<void> {
    const target = this.manifestPath(manifest.uri);
    const temp = path.join(this.tmpDir, `${process.pid}-${randomBytes(8).toString('hex')}.manifest`);
    try {
      // The file is named by the URI's hash; its text keeps no token (a hostPath cache outlives the pod).
      await writeFile(temp, JSON.stringify({ ...manifest, uri: redactUrl(manifest.uri) }, null, 2));
      await rename(temp, target);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Re-hashes every file of a manifest. Returns the files whose blob is missing or whose content no longer
   * matches its digest (disk corruption, a partial copy from outside); those blobs are deleted so a refetch
   * writes them anew.
   */
  async verify(manifest: CacheManifest): Promise<{ file: CachedFile; problem: string }[]> {
    const bad: { file: CachedFile; problem: string }[] = [];
    for (const file of [manifest.entry, ...manifest.files]) {
      const blob = this.blobPath(file.sha256);
      let actual: string;
      try {
        actual = await sha256File(blob);
      } catch {
        bad.push({ file, problem: 'missing' });
        continue;
      }
      if (actual !== file.sha256) {
        bad.push({ file, problem: `corrupted (sha256 ${actual}, expected ${file.sha256})` });
        await rm(blob, { force: true });
      }
    }
    return bad;
  }
}
