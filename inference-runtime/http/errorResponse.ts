import { STATUS_CODES } from 'node:http';
import type { Context, Middleware } from 'koa';
import { DomainError, Overloaded } from '../core/errors.js';
import type { Logger } from './logger.js';

/**
 * Maps errors to TF Serving's error body `{"error": "..."}`: a DomainError keeps its status and message,
 * a client error raised by koa or the router (405, malformed URL) keeps its status, and anything else is a
 * 500 whose body says nothing about internals (the details go to the log).
 */
export function errorResponse(log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status >= 400 && ctx.body == null) {
        // Statuses set without a body (no route: 404; the router's 405/501) get the same JSON error shape.
        // The router answers a method it does not know (TRACE, made-up ones) on a served path with 501; to a
        // client that is a 405 with the same Allow list, and a 5xx would count its mistake as our failure.
        const status = ctx.status === 501 ? 405 : ctx.status;
        errorBody(ctx, status === 404 ? `Not found: ${ctx.method} ${ctx.path}` : `${statuses(status)}: ${ctx.method} ${ctx.path}`);
        ctx.status = status;
      }
    } catch (error) {
      const reply = errorReply(error, log, ctx.method, ctx.path);
      ctx.status = reply.status;
      ctx.set(reply.headers);
      ctx.body = reply.body;
    }
    if (!ctx.req.complete) ctx.set(CONNECTION_CLOSE);
  };
}

/**
 * Answered before the whole request arrived (413, 504, a route that does not read the body): the rest is not
 * worth reading, so the connection is not kept alive for a next request (the server closes it). Set on every
 * answer to an incomplete request, whichever path served it.
 */
export const CONNECTION_CLOSE: Readonly<Record<string, string>> = Object.freeze({ Connection: 'close' });

/** An error's answer: its status, the `{"error": "..."}` body and the headers that go with it. */
export interface ErrorReply {
  status: number;
  body: string;
  headers: Record<string, string>;
}

/**
 * The answer to a failed request, for the middleware above and for routes served outside koa
 * (directRoutes.ts). A 5xx that is not a DomainError is logged with the details its body leaves out.
 */
export function errorReply(error: unknown, log: Logger, method: string, path: string): ErrorReply {
  const { status, message } = describe(error);
  if (status >= 500 && !(error instanceof DomainError)) {
    log.error('request_failed', { method, path, error });
  }
  const headers: Record<string, string> = { 'Content-Type': ERROR_TYPE };
  if (status === 401) headers['WWW-Authenticate'] = 'Bearer';
  if (error instanceof Overloaded) headers['Retry-After'] = String(error.retryAfterSeconds);
  return { status, body: JSON.stringify({ error: message }), headers };
}

/**
 * Written as plain `application/json`, the type TF Serving and Triton send: KServe's Python client shows the
 * server's message only when the type is exactly that (koa's default adds `; charset=utf-8`).
 */
const ERROR_TYPE = 'application/json';

function errorBody(ctx: Context, message: string): void {
  // Set as is: koa's `ctx.type` would add the charset again.
  ctx.set('Content-Type', ERROR_TYPE);
  ctx.body = JSON.stringify({ error: message });
}

function describe(error: unknown): { status: number; message: string } {
  if (error instanceof DomainError) return { status: error.status, message: error.message };
  if (error instanceof URIError) return { status: 400, message: `Malformed request: ${error.message}` };
  const http = error as { status?: unknown; expose?: unknown; message?: unknown } | null;
  if (http && typeof http.status === 'number' && http.status >= 400 && http.status < 500 && http.expose === true) {
    return { status: http.status, message: String(http.message) };
  }
  return { status: 500, message: 'Internal server error' };
}

function statuses(status: number): string {
  return STATUS_CODES[status] ?? `HTTP ${status}`;
}
