import { createHash } from 'node:crypto';
import type { Context } from 'koa';

/** A strong ETag of a JSON document: the same content always gets the same tag, on any replica. */
export function jsonEtag(body: unknown): string {
  return `"${createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 22)}"`;
}

/** Whether an `If-None-Match` header value matches `etag` (weak comparison, as RFC 9110 asks for GET). */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
}

/**
 * Answers a GET with a JSON document, its ETag and Cache-Control, or with 304 and no body when the
 * client's `If-None-Match` already names this content.
 */
export function sendCacheable(ctx: Context, body: unknown, cacheControl: string): void {
  const etag = jsonEtag(body);
  ctx.set('ETag', etag);
  ctx.set('Cache-Control', cacheControl);
  if (noneMatch(ctx.get('If-None-Match') || undefined, etag)) {
    ctx.status = 304;
    return;
  }
  ctx.body = body;
}
