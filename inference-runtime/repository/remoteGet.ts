import { ModelFetchError } from './fetchError.js';
import { redactUrl } from './redact.js';

/** Where a model download may be sent by redirects. */
export interface RedirectPolicy {
  /**
   * Hosts besides the source's own origin a redirect may lead to: `host` (any port) or `host:port`,
   * e.g. the object store a CDN hands downloads over to. Empty: same origin only.
   */
  allowedRedirectHosts?: readonly string[];
  /** Redirects followed per file before giving up (default 5). */
  maxRedirects?: number;
}

export const DEFAULT_MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * GET with redirects followed by hand (fetch's own `follow` goes anywhere): each hop is checked against
 * the source's origin and the allowed hosts, https never turns into http, and the number of hops is capped.
 * User-info in the source URL is sent as Basic authorization (fetch refuses URLs that carry it), and only
 * to the source's own origin: a redirect to another host never receives the credentials.
 * Resolves with the first response that is not a redirect; its body is the caller's to consume.
 */
export async function remoteGet(url: URL, signal: AbortSignal, policy: RedirectPolicy = {}): Promise<Response> {
  const origin = url.origin;
  const authorization = basicAuthorization(url);
  const maxRedirects = policy.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const allowed = new Set((policy.allowedRedirectHosts ?? []).map((h) => h.toLowerCase()));
  let current = withoutUserInfo(url);
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = {};
    if (authorization && current.origin === origin) headers.authorization = authorization;
    const res = await fetch(current, { signal, redirect: 'manual', headers });
    if (!REDIRECTS.has(res.status)) return res;
    await res.body?.cancel().catch(() => undefined);
    const location = res.headers.get('location');
    const at = `GET ${redactUrl(url)}`;
    if (location === null) throw new ModelFetchError(`${at}: HTTP ${res.status} redirect without a Location`);
    if (hop >= maxRedirects) throw new ModelFetchError(`${at}: more than ${maxRedirects} redirects`);
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      throw new ModelFetchError(`${at}: redirect to an invalid URL`);
    }
    refuseUnlessAllowed(next, url, allowed, at);
    current = withoutUserInfo(next);
  }
}

function refuseUnlessAllowed(next: URL, source: URL, allowed: ReadonlySet<string>, at: string): void {
  const to = redactUrl(next);
  if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new ModelFetchError(`${at}: redirect to ${to} refused: not http(s)`);
  if (source.protocol === 'https:' && next.protocol !== 'https:') throw new ModelFetchError(`${at}: redirect to ${to} refused: https must not turn into http`);
  if (next.origin === source.origin) return;
  const hostname = next.hostname.toLowerCase();
  // `host:443` in the list names https://host/ too (URL.host leaves a scheme's default port out).
  const port = next.port || (next.protocol === 'https:' ? '443' : '80');
  if (allowed.has(hostname) || allowed.has(`${hostname}:${port}`)) return;
  throw new ModelFetchError(`${at}: redirect to ${to} refused: another origin (list its host in source.allowedRedirectHosts to allow it)`);
}

function withoutUserInfo(url: URL): URL {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy;
}

function basicAuthorization(url: URL): string | undefined {
  if (url.username === '' && url.password === '') return undefined;
  const pair = `${decoded(url.username)}:${decoded(url.password)}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}

function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
