import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { InFlight } from './core/inFlight.js';
import { answerClientErrors, capConnections, checkConnectionLimits, closeAfterEarlyResponse, DEFAULT_CONNECTION_LIMITS, refuseTunnels, refuseUpgradeWithBody, serverTimeoutOptions, type ConnectionLimits } from './http/connectionLimits.js';

export interface TlsFiles {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface ServerOptions {
  port: number;
  host?: string;
  /** Serve HTTPS with this certificate and key; HTTP without. */
  tls?: TlsFiles;
  /** How long `close()` lets in-flight requests finish before cutting their connections. */
  shutdownTimeoutMs?: number;
  /** Timeouts and connection cap that bound what a client can hold (DEFAULT_CONNECTION_LIMITS by default). */
  limits?: Partial<ConnectionLimits>;
}

export interface RunningServer {
  readonly server: http.Server | https.Server;
  readonly url: string;
  readonly port: number;
  /**
   * Graceful stop: refuse new connections, let in-flight requests finish (their responses carry
   * `Connection: close`), close idle keep-alive sockets as they become idle, and destroy whatever is left
   * after `shutdownTimeoutMs`. Resolves once every connection is gone; `forced` tells whether the bound hit.
   */
  close(): Promise<{ forced: boolean }>;
}

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

export async function startServer(handler: http.RequestListener, options: ServerOptions): Promise<RunningServer> {
  // Not a Set: one entry in and out per request (core/inFlight.ts).
  const active = new InFlight<http.ServerResponse>();
  let draining = false;
  const tracked: http.RequestListener = (req, res) => {
    const entry = active.add(res);
    // Requests that still arrive on open keep-alive connections while draining are served, then closed.
    if (draining) res.setHeader('Connection', 'close');
    res.once('close', () => {
      active.delete(entry);
      // The socket of a finished keep-alive response is idle now: close it rather than wait for its timeout.
      if (draining) setImmediate(() => server.closeIdleConnections());
    });
    if (refuseUpgradeWithBody(req, res)) return;
    closeAfterEarlyResponse(req, res);
    handler(req, res);
  };
  const limits = checkConnectionLimits({ ...DEFAULT_CONNECTION_LIMITS, ...options.limits });
  const timeouts = serverTimeoutOptions(limits);
  const server = options.tls
    ? https.createServer({ ...timeouts, cert: options.tls.cert, key: options.tls.key }, tracked)
    : http.createServer(timeouts, tracked);
  capConnections(server, limits.maxConnections, options.tls !== undefined);
  refuseTunnels(server);
  answerClientErrors(server);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${options.tls ? 'https' : 'http'}://${host}:${address.port}`;

  let closing: Promise<{ forced: boolean }> | undefined;
  const close = (): Promise<{ forced: boolean }> => {
    closing ??= new Promise((resolve) => {
      draining = true;
      for (const res of active.values()) if (!res.headersSent) res.setHeader('Connection', 'close');
      let forced = false;
      const timer = setTimeout(() => {
        forced = true;
        server.closeAllConnections();
      }, options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS);
      server.close(() => {
        clearTimeout(timer);
        resolve({ forced });
      });
      server.closeIdleConnections();
    });
    return closing;
  };

  return { server, url, port: address.port, close };
}
