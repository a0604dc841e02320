/**
 * Container image references as the kubelet resolves them, so an allow-list compares what will actually be
 * pulled: `nginx` and `docker.io/library/nginx:latest` are the same repository; `reg.io/a/b-evil` is not
 * `reg.io/a/b`.
 */

export interface ImageReference {
  /** Fully qualified repository: registry host (with port) and path, e.g. docker.io/mloffload/inference-runtime. */
  repository: string;
  tag?: string;
  digest?: string;
}

// The distribution reference grammar (github.com/distribution/reference): lower-case path components
// separated by `.`, `_`, `__` or dashes; a registry host of DNS labels or an IPv6 literal, with a port.
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const HOST = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?';
const REFERENCE = new RegExp(
  `^(?:(${HOST})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@([a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}))?$`,
);
const DEFAULT_REGISTRY = 'docker.io';
const MAX_REFERENCE = 512;

/** Whether the first component of a name is a registry host rather than part of the path (Docker's rule). */
function isRegistryHost(first: string): boolean {
  return first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[');
}

/** Parses and normalises an image reference; undefined when it is not one. */
export function parseImageReference(ref: string): ImageReference | undefined {
  if (ref.length === 0 || ref.length > MAX_REFERENCE) return undefined;
  const slash = ref.indexOf('/');
  const hasHost = slash > 0 && isRegistryHost(ref.slice(0, slash));
  const m = REFERENCE.exec(hasHost ? ref : `${DEFAULT_REGISTRY}/${ref}`);
  if (!m) return undefined;
  const host = m[1];
  let path = m[2]!;
  if (host === undefined) return undefined;
  // `docker.io/nginx` and `nginx` both mean the library namespace.
  const registry = host === 'index.docker.io' ? DEFAULT_REGISTRY : host.toLowerCase();
  if (registry === DEFAULT_REGISTRY && !path.includes('/')) path = `library/${path}`;
  const out: ImageReference = { repository: `${registry}/${path}` };
  if (m[3] !== undefined) out.tag = m[3];
  if (m[4] !== undefined) out.digest = m[4];
  return out;
}

/** The fully qualified repository of a reference, or undefined when it does not parse. */
export function repositoryOf(ref: string): string | undefined {
  return parseImageReference(ref)?.repository;
}

/**
 * Normalises an allow-list entry: `*` (any image), a repository (`mloffload/inference-runtime`, any tag or
 * digest of it), or a repository prefix ending in `/*` (`registry.example.com/mloffload/*`).
 */
export function normaliseImagePattern(pattern: string): string | undefined {
  const p = pattern.trim();
  if (p === '*') return p;
  if (!p.endsWith('/*')) return repositoryOf(p);
  const parts = p.slice(0, -2).split('/');
  const host = isRegistryHost(parts[0]!) ? parts.shift()!.toLowerCase() : DEFAULT_REGISTRY;
  if (!new RegExp(`^${HOST}$`).test(host)) return undefined;
  const component = new RegExp(`^${PATH_COMPONENT}$`);
  if (!parts.every((c) => component.test(c))) return undefined;
  return [host === 'index.docker.io' ? DEFAULT_REGISTRY : host, ...parts, '*'].join('/');
}

/** Whether `ref` names an image the (normalised) allow-list permits. */
export function imageAllowed(ref: string, allowList: readonly string[]): boolean {
  const repo = repositoryOf(ref);
  if (!repo) return false;
  return allowList.some((entry) => entry === '*' || entry === repo || (entry.endsWith('/*') && repo.startsWith(entry.slice(0, -1))));
}
