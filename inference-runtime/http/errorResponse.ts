import type { Context, Middleware } from 'koa';
import { DomainError, Overloaded } from '../core/errors.js';
import { CONNECTION_CLOSE, errorAnswer, reasonPhrase, type ErrorAnswer } from './errorAnswer.js';
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
        answer(ctx, errorAnswer(status, `${status === 404 ? 'Not found' : reasonPhrase(status)}: ${ctx.method} ${ctx.path}`));
      }
    } catch (error) {
      answer(ctx, errorReply(error, log, ctx.method, ctx.path));
    }
    if (!ctx.req.complete) ctx.set(CONNECTION_CLOSE);
  };
}

/**
 * The answer to a failed request, for the middleware above and for routes served outside koa
 * (directRoutes.ts). A 5xx that is not a DomainError is logged with the details its body leaves out.
 */
export function errorReply(error: unknown, log: Logger, method: string, path: string): ErrorAnswer {
  const { status, message } = describe(error);
  if (status >= 500 && !(error instanceof DomainError)) {
    log.error('request_failed', { method, path, error });
  }
  return errorAnswer(status, message, { retryAfterSeconds: error instanceof Overloaded ? error.retryAfterSeconds : undefined });
}

function answer(ctx: Context, reply: ErrorAnswer): void {
  ctx.status = reply.status;
  // Set as is: koa's `ctx.type` would add a charset to the content type.
  ctx.set(reply.headers);
  ctx.body = reply.body;
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
