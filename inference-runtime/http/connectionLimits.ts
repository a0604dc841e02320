import { maxHeaderSize, type IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Server, Socket } from 'node:net';
import { errorAnswer, rawErrorAnswer, reasonPhrase, type ErrorAnswer } from './errorAnswer.js';

/**
 * What one client connection may hold of the server: time to send its headers, time to send its whole
 * request, idle time between keep-alive requests, and the number of connections open at once. Without
 * these a client that sends a byte a second, or opens sockets and says nothing, keeps them forever.
 */
export interface ConnectionLimits {
  /** Time from the connection (or the end of the previous request) to the end of the request headers; 408 beyond. */
  headersTimeoutMs: number;
  /** Time to receive a whole request, headers and body; 408 beyond, or the connection is closed if answered. */
  bodyTimeoutMs: number;
  /** How long an idle keep-alive connection stays open after a response. */
  keepAliveTimeoutMs: number;
  /** Connections open at once; further ones are answered 503 (HTTP) or closed (HTTPS, before the handshake). */
  maxConnections: number;
}

export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = Object.freeze({
  // Real clients send their headers in one packet; 10 s leaves room for a congested cellular uplink.
  headersTimeoutMs: 10_000,
  // Above the default request timeout (30 s), which answers 504 first for requests the API reads.
  bodyTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  // Well under the usual 1024 open-file limit left after models, caches and worker threads.
  maxConnections: 512,
});

/**
 * How long a connection is still read (and the data dropped) after the server has had its say on it
 * without a request in hand: a refusal at the connection cap, or a response that went out keep-alive
 * before its request was complete. A client that writes before it reads needs to get past its write to
 * see the answer, and closing a socket with unread input sends a reset that can destroy the answer in
 * flight; but nothing more is waited for. (A response that says `Connection: close`, as every error
 * answered before the body is in does, is closed by Node as soon as it is flushed.)
 */
export const EARLY_RESPONSE_LINGER_MS = 2_000;

/** Checks a set of limits; throws RangeError naming the first bad one. */
export function checkConnectionLimits(limits: ConnectionLimits): ConnectionLimits {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  if (limits.headersTimeoutMs > limits.bodyTimeoutMs) {
    throw new RangeError(`the headers timeout (${limits.headersTimeoutMs} ms) must not exceed the body timeout (${limits.bodyTimeoutMs} ms)`);
  }
  return limits;
}

/** The `http.createServer` / `https.createServer` options that enforce the timeouts. */
export function serverTimeoutOptions(limits: ConnectionLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.bodyTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks the two request timeouts on this period (30 s by default), which would let a 10 s bound
    // run to 40 s. A check walks the open connections only: cheap at a few hundred.
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(Math.min(limits.headersTimeoutMs, limits.bodyTimeoutMs) / 4))),
  };
}

/**
 * Admits at most `max` open connections. The server's own connection handling (HTTP parser, or TLS
 * handshake then parser) only sees admitted sockets, so a refused one costs no parser and runs no request.
 * A refused plain-HTTP connection is answered 503 with Retry-After without parsing its request; a TLS one
 * is closed, as nothing can be said to it before a handshake (and so is any refusal beyond `max` already
 * being answered).
 */
export function capConnections(server: Server, max: number, tls: boolean): void {
  const admit = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  let open = 0;
  // Refused sockets linger too, to deliver their 503; a flood of them must not pile up open files instead.
  let refusing = 0;
  server.on('connection', (socket: Socket) => {
    if (open >= max) {
      if (tls || refusing >= max) {
        socket.on('error', () => {});
        socket.destroy();
        return;
      }
      refusing++;
      socket.once('close', () => refusing--);
      refuse(socket, max);
      return;
    }
    open++;
    socket.once('close', () => open--);
    for (const listener of admit) listener.call(server, socket);
  });
}

function refuse(socket: Socket, max: number): void {
  answerAndClose(socket, errorAnswer(503, `the server has ${max} connections open, its limit; retry later`, { retryAfterSeconds: 1 }));
}

/**
 * CONNECT asks for a tunnel, which this server does not offer. Node hands such a request to 'connect'
 * listeners and, without one, drops the connection without a word; answer it like any unserved method.
 */
export function refuseTunnels(server: Server): void {
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    answerAndClose(socket, errorAnswer(405, `${reasonPhrase(405)}: ${req.method ?? 'CONNECT'}`));
  });
}

/**
 * Node answers a request its parser refuses (malformed, headers or body past their timeouts, a header section
 * over the limit, chunk extensions too long) with a bare status line; the same statuses here carry the
 * runtime's error body, so every refusal reads the same to a client. As Node's own answer: nothing is written
 * once a response has started on the connection, and the socket is destroyed right after.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (error.code !== 'ECONNRESET' && socket.writable && inFlight?.headersSent !== true) socket.write(rawErrorAnswer(clientErrorAnswer(error.code)));
    socket.destroy();
  });
}

/** Node's status for each parser refusal (the codes its default clientError answer tells apart). */
function clientErrorAnswer(code: string | undefined): ErrorAnswer {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return errorAnswer(408, `${reasonPhrase(408)}: the request was not received within the server's time limit`);
    case 'HPE_HEADER_OVERFLOW':
      return errorAnswer(431, `${reasonPhrase(431)}: the header section is larger than ${maxHeaderSize} bytes`);
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return errorAnswer(413, `${reasonPhrase(413)}: the chunk extensions are too large`);
    default: {
      // The parser's own code (HPE_INVALID_METHOD, ...) says what is wrong; anything else is not shown.
      const detail = code !== undefined && /^HPE_[A-Z_]+$/.test(code) ? ` (${code})` : '';
      return errorAnswer(400, `${reasonPhrase(400)}: the request is not valid HTTP/1.1${detail}`);
    }
  }
}

/**
 * A request that asks to switch protocols (`Connection: upgrade` with an `Upgrade` header) and declares a body:
 * Node's parser stops reading at its headers (what follows would belong to the new protocol), so without an
 * `upgrade` listener the body never reaches the app, which would wait for it until the body timeout. No other
 * protocol is offered here, so such a request gets 400 and its connection is closed. Upgrade requests without
 * a body are served as plain HTTP/1.1, which RFC 9110 allows a server to do. True when it answered.
 */
export function refuseUpgradeWithBody(req: IncomingMessage, res: ServerResponse): boolean {
  const connection = req.headers.connection;
  if (req.headers.upgrade === undefined || typeof connection !== 'string' || !/(^|,)\s*upgrade\s*(,|$)/i.test(connection)) return false;
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] === undefined && (length === undefined || Number(length) === 0)) return false;
  const answer = errorAnswer(400, `${reasonPhrase(400)}: a request asking to upgrade the connection cannot carry a body`, { close: true });
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body, () => lingerThenDestroy(req.socket));
  return true;
}

/** Writes a whole response on a socket no HTTP response object owns, then closes it (after a bounded linger). */
function answerAndClose(socket: Duplex, answer: ErrorAnswer): void {
  // No parser owns this socket: without a listener, a reset from the client would end the process.
  socket.on('error', () => {});
  socket.end(rawErrorAnswer(answer));
  lingerThenDestroy(socket);
}

/**
 * Keeps reading (and dropping) what the client still sends for at most EARLY_RESPONSE_LINGER_MS, then
 * destroys the socket whatever remains.
 */
function lingerThenDestroy(socket: Duplex): void {
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), EARLY_RESPONSE_LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/**
 * A response that finished before its request was fully received closes its connection, even when the
 * handler did not say `Connection: close` (errorResponse.ts does for the API): the rest of the body, stalled
 * or endless, is not waited for, and the connection cannot be reused past it.
 */
export function closeAfterEarlyResponse(req: IncomingMessage, res: ServerResponse): void {
  // A response that says `Connection: close` is ended by Node with destroySoon() once flushed; with the
  // client still writing its body (an upload answered 401 or 413), closing a socket with unread input sends
  // a reset that can reach the client before the answer does (EPIPE). Such a socket lingers instead.
  const socket = req.socket as IncomingMessage['socket'] & { destroySoon?: () => void };
  const destroySoon = socket.destroySoon;
  if (typeof destroySoon === 'function') {
    socket.destroySoon = function lingeringDestroySoon(this: typeof socket): void {
      socket.destroySoon = destroySoon;
      if (req.complete) {
        destroySoon.call(this);
        return;
      }
      socket.end();
      lingerThenDestroy(socket);
    };
    res.once('close', () => {
      socket.destroySoon = destroySoon;
    });
  }
  res.once('finish', () => {
    if (req.complete) return;
    const socket = req.socket;
    socket.end();
    lingerThenDestroy(socket);
  });
}
