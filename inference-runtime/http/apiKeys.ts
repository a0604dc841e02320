import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import { Unauthorized } from '../core/errors.js';

/**
 * Checks presented API keys against the configured ones in constant time: both sides are hashed to
 * fixed-length digests (so lengths leak nothing) and every configured key is compared on every request.
 * The key set can be replaced while serving (a rotated Secret); a check runs synchronously against one set.
 */
export class ApiKeyCheck {
  private digests: readonly Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  /** Swaps in a new key set. An empty one is refused: it would turn a protected API into an open one. */
  replace(keys: readonly string[]): void {
    if (keys.length === 0) throw new RangeError('refusing an empty API key set: it would open the API');
    this.digests = keys.map(digest);
  }

  /** Whether the request presents a valid key (false when none is configured, as nothing can match). */
  authorizes(headers: Record<string, string | string[] | undefined>): boolean {
    const key = presentedKey(headers);
    return key !== undefined && this.matches(key);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  matches(candidate: string): boolean {
    const presented = digest(candidate);
    let found = false;
    for (const known of this.digests) {
      // Evaluate the comparison first so no key is skipped once one matched.
      found = timingSafeEqual(known, presented) || found;
    }
    return found;
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** The key a request presents: `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match) return match[1]!.trim();
  }
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim() !== '') return apiKey.trim();
  return undefined;
}

/** 401 unless a valid key is presented; paths in `open` (probes) never need one. */
export function requireApiKey(check: ApiKeyCheck, open: ReadonlySet<string>): Middleware {
  return async (ctx, next) => {
    if (!keyAdmits(check, open, ctx.path, ctx.headers)) throw new Unauthorized();
    await next();
  };
}

/** Whether a request for `path` may go on: no keys configured, an open path, or a valid key presented. */
export function keyAdmits(check: ApiKeyCheck, open: ReadonlySet<string>, path: string, headers: Record<string, string | string[] | undefined>): boolean {
  return !check.enabled || open.has(path) || check.authorizes(headers);
}

/**
 * Keys separated by newlines or commas, as in the MLOFFLOAD_API_KEYS variable. A `#` line is a comment as a
 * whole: it is dropped before splitting on commas, so `# rotated, see ticket` yields no key named `see ticket`.
 */
export function parseApiKeys(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter((line) => !line.trim().startsWith('#'))
    .flatMap((line) => line.split(','))
    .map((key) => key.trim())
    .filter((key) => key !== '');
}
