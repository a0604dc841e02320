import type { Middleware } from 'koa';

/**
 * Cross-origin access for browser apps that call several edge nodes from one page. Keys travel in the
 * Authorization or X-API-Key header, never in cookies, so no credentials are allowed and `*` grants a page
 * nothing it does not hold itself. Preflights are answered here, before the API key check (browsers send
 * them without the key).
 */
export function cors(origins: readonly string[]): Middleware {
  const any = origins.includes('*');
  const applies = corsApplies(origins);
  return async (ctx, next) => {
    const origin = ctx.get('Origin');
    if (!applies(origin)) {
      await next();
      return;
    }
    ctx.set('Access-Control-Allow-Origin', any ? '*' : origin);
    if (!any) ctx.vary('Origin');
    if (ctx.method === 'OPTIONS' && ctx.get('Access-Control-Request-Method')) {
      ctx.set('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      ctx.set('Access-Control-Allow-Headers', 'Authorization, X-API-Key, Content-Type, If-None-Match, Inference-Header-Content-Length');
      ctx.set('Access-Control-Max-Age', '600');
      ctx.status = 204;
      return;
    }
    // Inference-Header-Content-Length frames V2 binary tensors, both ways.
    ctx.set('Access-Control-Expose-Headers', 'ETag, Retry-After, Inference-Header-Content-Length');
    await next();
  };
}

/** Whether a request from `origin` (empty when it sends none) gets CORS headers under `origins`. */
export function corsApplies(origins: readonly string[]): (origin: string) => boolean {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  return (origin) => origin !== '' && origins.length > 0 && (any || allowed.has(origin));
}
