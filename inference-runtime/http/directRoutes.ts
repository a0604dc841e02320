import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiKeyCheck } from './apiKeys.js';
import { keyAdmits } from './apiKeys.js';
import { corsApplies } from './cors.js';
import { CONNECTION_CLOSE } from './errorAnswer.js';
import { errorReply } from './errorResponse.js';
import type { HttpMetrics } from './httpMetrics.js';
import type { Logger } from './logger.js';
import { requestDeadline } from './requestDeadline.js';
import type { RequestState } from './requestState.js';

/**
 * A successful JSON answer's type: `ctx.type = 'application/json'` in koa's words, so both paths send the same
 * header. Error answers have their own (errorAnswer.ts).
 */
export const JSON_TYPE = 'application/json; charset=utf-8';
export const OCTET_STREAM_TYPE = 'application/octet-stream';

/** A successful answer of an inference route. */
export interface DirectAnswer {
  contentType: string;
  headers?: Readonly<Record<string, string>>;
  body: Buffer | string;
}

/** Route parameters by name, as the router hands them to a route (`:name`, `:version`). */
export type RouteParams = Readonly<Record<string, string | undefined>>;

/**
 * One inference route (V2 `/infer`, TF Serving `:predict`): the whole work of a request from its body to its
 * answer, written once and served two ways (see DirectRoutes). It records the model and inference time on
 * `state` and throws the DomainError tree for failures.
 */
export type DirectHandler = (req: IncomingMessage, params: RouteParams, state: RequestState) => Promise<DirectAnswer>;

export interface DirectRoute {
  /** The route pattern as the router has it (`/v2/models/:name/infer`): the `route` label of the metrics. */
  path: string;
  handle: DirectHandler;
}

/** A handler as a koa route: the router's parameters and the request's state in, the answer on `ctx`. */
export function koaRoute(handle: DirectHandler): (ctx: {
  req: IncomingMessage;
  params: RouteParams;
  state: RequestState;
  set(field: Record<string, string>): void;
  body: unknown;
}) => Promise<void> {
  return async (ctx) => {
    const answer = await handle(ctx.req, ctx.params, ctx.state);
    ctx.set({ 'Content-Type': answer.contentType, ...answer.headers });
    ctx.body = answer.body;
  };
}

interface CompiledRoute {
  pattern: RegExp;
  names: string[];
  route: DirectRoute;
}

/** What a direct request must pass before its route runs: the app's own rules, through their own functions. */
export interface DirectPolicies {
  requestTimeoutMs: number;
  corsOrigins: readonly string[];
  keys: ApiKeyCheck;
  /** Paths that need no key (probes, discovery). */
  open: ReadonlySet<string>;
  metrics: HttpMetrics;
  log: Logger;
}

type Listener = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * The inference routes (POST to V2 `/infer` and TF Serving `:predict`), served without koa's per-request
 * objects: no context, no middleware chain, no router matching, no promise hop per layer. On the edge those
 * are a fixed cost of every inference of a small model, about as large as the model's own run is short
 * (docs/benchmarks.md). Each route is registered on its protocol's router too (koaRoute), so both paths run
 * the same handler.
 *
 * A request takes this path only when it needs nothing but the inference: a POST whose path is exactly one of
 * the routes (no query, no percent-escape, no other spelling the router would also accept), with no CORS
 * headers to add (no allowed `Origin`) and a valid API key when keys are configured. Anything else goes
 * through koa as before (a refused key is answered 401 there). What such a request gets is what koa's
 * middleware gives it, through the same functions: the request deadline (requestDeadline), the error answers
 * (errorReply, with Retry-After and `Connection: close` for an incomplete upload) and the request metrics
 * (HttpMetrics.observe under the route's pattern).
 */
export class DirectRoutes {
  private readonly routes: CompiledRoute[] = [];

  add(route: DirectRoute): void {
    const names: string[] = [];
    // The router patterns used here are literal text, `:param` and `\\:` (a literal colon); a parameter stops
    // at a slash and is matched lazily, as the router's is.
    const source = route.path.replace(/\\:|:([A-Za-z_][A-Za-z0-9_]*)|[^:\\]+|[:\\]/g, (token, name: string | undefined) => {
      if (name !== undefined) {
        names.push(name);
        return '([^/%]+?)';
      }
      if (token === '\\:') return ':';
      if (token === ':' || token === '\\') throw new Error(`direct route ${route.path}: unsupported pattern`);
      return token.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    });
    this.routes.push({ pattern: new RegExp(`^${source}$`), names, route });
  }

  get size(): number {
    return this.routes.length;
  }

  /** The route a POST to `url` addresses, with its parameters; undefined when it is not exactly one of them. */
  match(url: string): { route: DirectRoute; params: Record<string, string> } | undefined {
    for (const { pattern, names, route } of this.routes) {
      const found = pattern.exec(url);
      if (!found) continue;
      const params: Record<string, string> = {};
      names.forEach((name, i) => {
        params[name] = found[i + 1]!;
      });
      return { route, params };
    }
    return undefined;
  }

  /** `fallback` (koa's listener) for every request but the inference requests this table serves itself. */
  listener(policies: DirectPolicies, fallback: Listener): Listener {
    if (this.routes.length === 0) return fallback;
    const cors = corsApplies(policies.corsOrigins);
    return (req, res) => {
      const hit = req.method === 'POST' ? this.match(req.url ?? '') : undefined;
      if (!hit) return fallback(req, res);
      const origin = req.headers.origin;
      if (cors(typeof origin === 'string' ? origin : '') || !keyAdmits(policies.keys, policies.open, req.url!, req.headers)) return fallback(req, res);
      return serve(hit.route, hit.params, req, res, policies).catch((error: unknown) => {
        // Only writing the answer can fail here; the socket is in an unknown state, so it goes.
        policies.log.error('request_failed', { method: req.method, path: req.url, error });
        res.destroy();
      });
    };
  }
}

async function serve(route: DirectRoute, params: RouteParams, req: IncomingMessage, res: ServerResponse, policies: DirectPolicies): Promise<void> {
  const start = process.hrtime.bigint();
  policies.metrics.inFlight.inc();
  const state: RequestState = { deadline: requestDeadline(res, policies.requestTimeoutMs) };
  let status = 200;
  let headers: Record<string, string | number>;
  let body: Buffer | string;
  try {
    const answer = await route.handle(req, params, state);
    headers = { 'Content-Type': answer.contentType, ...answer.headers };
    body = answer.body;
  } catch (error) {
    const reply = errorReply(error, policies.log, 'POST', req.url!);
    status = reply.status;
    headers = reply.headers;
    body = reply.body;
  } finally {
    policies.metrics.inFlight.dec();
  }
  policies.metrics.observe('POST', route.path, status, start, state);
  if (!req.complete) Object.assign(headers, CONNECTION_CLOSE);
  // As koa's respond: nothing to write to a response already ended or a socket already gone (client left).
  if (res.writableEnded || (res.socket !== null && !res.socket.writable)) return;
  headers['Content-Length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  res.writeHead(status, headers);
  res.end(body);
}
