import { Router } from '@koa/router';
import type { Context } from 'koa';
import { demoAssets } from './demoAssets.js';
import type { RequestState } from './requestState.js';

/** The demo page (`/demo`): static files that call the task APIs from a browser. */
export function demoRouter(): Router<RequestState> {
  const router = new Router<RequestState>();
  const assets = demoAssets();
  // The page refers to its files by absolute paths, so /demo and /demo/ both work.
  const serve = (ctx: Context, file: string): void => {
    const asset = assets.get(file);
    if (!asset) return;
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = asset.body;
  };
  router.get('/demo', (ctx) => serve(ctx, 'index.html'));
  router.get('/demo/', (ctx) => serve(ctx, 'index.html'));
  router.get('/demo/:file', (ctx) => serve(ctx, ctx.params.file ?? ''));
  router.get('/demo/sdk/:file', (ctx) => serve(ctx, `sdk/${ctx.params.file ?? ''}`));
  return router;
}

/**
 * The demo page's URLs. They hold no data and run no model, so a runtime with API keys can leave them open:
 * the page asks its user for a key and sends it with its API calls.
 */
export function demoPagePaths(): string[] {
  return ['/demo', '/demo/', ...[...demoAssets().keys()].map((file) => `/demo/${file}`)];
}
