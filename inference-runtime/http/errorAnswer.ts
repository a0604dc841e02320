import { STATUS_CODES } from 'node:http';

/**
 * The runtime's error answer on the wire, whichever path writes it (koa's middleware, the inference routes
 * served without koa, the refusals written before any request object exists): TF Serving's and the Open
 * Inference Protocol's body `{"error": "<message>"}`, its content type and the headers that go with it.
 * Which failure gets which status and message is decided elsewhere (errorResponse.ts, connectionLimits.ts).
 */
export interface ErrorAnswer {
  status: number;
  body: string;
  headers: Record<string, string>;
}

export interface ErrorAnswerOptions {
  /** Sent as `Retry-After`: the refusal is transient (a 503 for overload), so say when to come back. */
  retryAfterSeconds?: number;
  /** The connection closes after this answer (`Connection: close`). */
  close?: boolean;
}

/**
 * Plain `application/json`, the type TF Serving and Triton send: KServe's Python client shows the server's
 * message only when the type is exactly that (koa's default for JSON adds `; charset=utf-8`).
 */
export const ERROR_CONTENT_TYPE = 'application/json';

/**
 * Said on an answer to a request that was not received whole (413, 504, a route that does not read the
 * body) and on every answer written before a request exists: the rest is not worth reading, so the
 * connection is not kept alive for a next request (the server closes it).
 */
export const CONNECTION_CLOSE: Readonly<Record<string, string>> = Object.freeze({ Connection: 'close' });

export function errorAnswer(status: number, message: string, options: ErrorAnswerOptions = {}): ErrorAnswer {
  const body = JSON.stringify({ error: message });
  const headers: Record<string, string> = { 'Content-Type': ERROR_CONTENT_TYPE, 'Content-Length': String(Buffer.byteLength(body)) };
  // RFC 9110: a 401 names the scheme the client should use.
  if (status === 401) headers['WWW-Authenticate'] = 'Bearer';
  if (options.retryAfterSeconds !== undefined) headers['Retry-After'] = String(options.retryAfterSeconds);
  if (options.close === true) Object.assign(headers, CONNECTION_CLOSE);
  return { status, body, headers };
}

/** The status's reason phrase (`Method Not Allowed`), which starts the messages of protocol-level refusals. */
export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? `HTTP ${status}`;
}

/** A whole HTTP/1.1 response, for a socket that no ServerResponse owns; it always closes the connection. */
export function rawErrorAnswer(answer: ErrorAnswer): string {
  const headers = Object.entries({ ...answer.headers, ...CONNECTION_CLOSE })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return `HTTP/1.1 ${answer.status} ${reasonPhrase(answer.status)}\r\n${headers}\r\n${answer.body}`;
}
