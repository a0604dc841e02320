import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPackageDir } from '../core/npmPackage.js';
import { ModelFetchError } from './fetchError.js';
import { redactUrl } from './redact.js';

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
      sibling: (relative) => ({ kind: 'remote', url: shardUrl(relative, url, uri) }),
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

/**
 * The URL of a weight shard named in a (possibly remote, possibly hostile) model.json. The name must be a
 * plain relative path, and what the WHATWG URL parser makes of it (which drops surrounding spaces and tabs,
 * turns `\\` into `/`, decodes `%2e%2e` into `..`) must still be a file of the entry's own folder on the
 * entry's own origin. Both checks, because either alone has been bypassed by someone somewhere.
 */
export function shardUrl(relative: string, entry: URL, uri: string): URL {
  checkRelative(relative, uri);
  let resolved: URL;
  try {
    resolved = new URL(relative, entry);
  } catch {
    throw notPlain(relative, uri);
  }
  const folder = entry.pathname.slice(0, entry.pathname.lastIndexOf('/') + 1);
  if (
    resolved.origin !== entry.origin ||
    resolved.username !== entry.username ||
    resolved.password !== entry.password ||
    !resolved.pathname.startsWith(folder) ||
    resolved.pathname.length === folder.length ||
    resolved.search !== '' ||
    resolved.hash !== ''
  ) {
    throw new ModelFetchError(`weight file path ${JSON.stringify(relative)} in ${uri} resolves outside the model's folder ${new URL(folder, entry).href}`);
  }
  return resolved;
}

/**
 * Percent-encoded dots, slashes, backslashes, percent signs and control characters: a server that decodes
 * them (once or twice) would see a path the URL parser did not.
 */
const ENCODED_SPECIAL = /%(2e|2f|5c|25|[01][0-9a-f]|7f)/i;

/** Weight shard paths come from model.json, which may be remote: allow plain relative paths only. */
function checkRelative(relative: string, uri: string): void {
  if (
    relative.length === 0 ||
    relative.length > 1024 ||
    // Printable ASCII only: whitespace and control characters are silently dropped or rewritten by URL
    // parsers, and look-alikes (fullwidth dots and slashes) are folded into `.` and `/` by some servers.
    /[^\x21-\x7e]/.test(relative) ||
    /[\\?#:]/.test(relative) ||
    relative.startsWith('/') ||
    ENCODED_SPECIAL.test(relative) ||
    relative.split('/').some((seg) => seg === '' || seg === '.' || seg === '..')
  ) {
    throw notPlain(relative, uri);
  }
}

function notPlain(relative: string, uri: string): ModelFetchError {
  return new ModelFetchError(`weight file path ${JSON.stringify(relative)} in ${uri} must be a plain relative path`);
}

/** A location as text for a message: a remote URL without its user-info or query (tokens). */
export function describeLocation(loc: FileLocation): string {
  return loc.kind === 'local' ? loc.path : redactUrl(loc.url);
}
