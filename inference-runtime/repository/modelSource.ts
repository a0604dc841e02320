import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPackageDir } from './npmPackage.js';
import { ModelFetchError } from './fetchError.js';

/** Where a file of a model comes from: a local path or an http(s) URL. */
export type FileLocation = { kind: 'local'; path: string } | { kind: 'remote'; url: URL };

/**
 * A parsed `source.uri`. Local sources (`npm:`, `file://`) are cheap to re-read and are read on every start;
 * remote ones are fetched once and then served from the cache.
 */
export interface ResolvedSource {
  uri: string;
  entry: FileLocation;
  /** Resolves a companion file (a tfjs weight shard) named relative to the entry file. */
  sibling(relative: string): FileLocation;
}

const NPM_URI = /^npm:((?:@[^/]+\/)?[^/@]+)\/(.+)$/;

export function resolveSource(uri: string, npmBase?: string): ResolvedSource {
  if (uri.startsWith('npm:')) {
    const m = NPM_URI.exec(uri);
    if (!m) throw new ModelFetchError(`invalid npm source ${uri}: expected npm:<package>/<path>`);
    const [, pkg, subpath] = m;
    const pkgDir = findPackageDir(pkg, npmBase);
    if (!pkgDir) throw new ModelFetchError(`npm package ${pkg} is not installed (source ${uri})`);
    return localSource(uri, pkgDir, safeJoin(pkgDir, subpath, uri));
  }
  if (uri.startsWith('file://')) {
    let file: string;
    try {
      file = fileURLToPath(uri);
    } catch (err) {
      throw new ModelFetchError(`invalid file source ${uri}: ${(err as Error).message}`);
    }
    return localSource(uri, path.dirname(file), file);
  }
  if (uri.startsWith('http://') || uri.startsWith('https://')) {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new ModelFetchError(`invalid URL ${uri}`);
    }
    return {
      uri,
      entry: { kind: 'remote', url },
      sibling: (relative) => {
        checkRelative(relative, uri);
        return { kind: 'remote', url: new URL(relative, url) };
      },
    };
  }
  throw new ModelFetchError(`unsupported source ${uri}: use https://, http://, file:// or npm:<package>/<path>`);
}

function localSource(uri: string, root: string, entry: string): ResolvedSource {
  const dir = path.dirname(entry);
  return {
    uri,
    entry: { kind: 'local', path: entry },
    sibling: (relative) => {
      checkRelative(relative, uri);
      return { kind: 'local', path: safeJoin(root, path.relative(root, path.join(dir, relative)), uri) };
    },
  };
}

/** Joins without letting `..` or an absolute path escape `root`. */
function safeJoin(root: string, relative: string, uri: string): string {
  const joined = path.resolve(root, relative);
  if (joined !== root && !joined.startsWith(root + path.sep)) {
    throw new ModelFetchError(`path ${relative} of ${uri} leaves ${root}`);
  }
  return joined;
}

/** Weight shard paths come from model.json, which may be remote: allow plain relative paths only. */
function checkRelative(relative: string, uri: string): void {
  if (
    relative.length === 0 ||
    relative.startsWith('/') ||
    relative.includes('\\') ||
    /^[a-z][a-z0-9+.-]*:/i.test(relative) ||
    relative.split('/').some((seg) => seg === '..')
  ) {
    throw new ModelFetchError(`weight file path ${JSON.stringify(relative)} in ${uri} must be a plain relative path`);
  }
}

export function describeLocation(loc: FileLocation): string {
  return loc.kind === 'local' ? loc.path : loc.url.href;
}
