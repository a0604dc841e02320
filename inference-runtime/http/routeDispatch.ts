import type { Router } from '@koa/router';
import type { Middleware } from 'koa';
import type { RequestState } from './requestState.js';

/** Characters where a route pattern stops being literal text (parameters, groups, wildcards, escapes). */
const PATTERN_START = /[:(*{\\?+[]/;

interface Entry {
  /** Whether the router has a route whose literal start the path begins with; undefined: any path may match. */
  mayMatch?: RegExp;
  run: Middleware<RequestState>;
}

/**
 * The app's routers behind one middleware that runs only those that can match the request's path: each
 * router is skipped when the path begins with none of its routes' literal starts (`/v2/models/`,
 * `/v1/models/`, `/healthz` ...). Mounting every router's `routes()` and `allowedMethods()` in a row made
 * every request run every router's matching and two promise hops per router.
 *
 * The answers stay the router's own: the routers that can match still run in mount order, so the matched
 * routes they collect (and with them 404, 405 and the Allow list) are the same; a path that no router can
 * match still goes through the first router, which records that nothing matched exactly as the whole row
 * did. Matching is case-insensitive, as the router's is.
 */
export function dispatchRoutes(routers: ReadonlyArray<Router<RequestState>>): Middleware<RequestState> {
  const entries: Entry[] = routers.map((router) => {
    const routes = router.routes() as Middleware<RequestState>;
    const allowedMethods = router.allowedMethods() as Middleware<RequestState>;
    return { mayMatch: literalStarts(router), run: (ctx, next) => routes(ctx, () => allowedMethods(ctx, next)) };
  });
  if (entries.length === 0) return (_ctx, next) => next();
  return (ctx, next) => {
    const path = ctx.path;
    let ran = false;
    const from = (index: number): Promise<unknown> => {
      for (let i = index; i < entries.length; i++) {
        const entry = entries[i]!;
        if (entry.mayMatch === undefined || entry.mayMatch.test(path)) {
          ran = true;
          return entry.run(ctx, () => from(i + 1)) as Promise<unknown>;
        }
      }
      return ran ? next() : (entries[0]!.run(ctx, next) as Promise<unknown>);
    };
    return from(0);
  };
}

/** A test for the literal starts of a router's routes, or undefined when one of them has none (it may match any path). */
function literalStarts(router: Router<RequestState>): RegExp | undefined {
  const starts = new Set<string>();
  for (const layer of router.stack) {
    const pattern: unknown = layer.path;
    if (typeof pattern !== 'string') return undefined;
    const literal = pattern.split(PATTERN_START, 1)[0]!;
    if (literal === '' || literal === '/') return undefined;
    starts.add(literal);
  }
  if (starts.size === 0) return undefined;
  const alternatives = [...starts].map((s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  return new RegExp(`^(?:${alternatives.join('|')})`, 'i');
}
