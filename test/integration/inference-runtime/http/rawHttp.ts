import net from 'node:net';

/** What came back on a raw connection: the first final response, if any, and how the connection ended. */
export interface RawAnswer {
  status?: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection (before or after answering). */
  closed: boolean;
  /** Neither an answer nor a close within the wait. */
  hung: boolean;
  ms: number;
}

export interface ExchangeOptions {
  /** Ends the client's side after writing (the request is incomplete: the server must not wait for more). */
  halfClose?: boolean;
  /** How long to wait for the answer or the close. */
  timeoutMs: number;
}

/**
 * Sends bytes as they are (no client library to fix them up) and reads one response. Informational (1xx)
 * responses are skipped. Resolves once the response is complete, the server closes, or the wait runs out.
 */
export function rawExchange(port: number, request: Buffer, options: ExchangeOptions): Promise<RawAnswer> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean, hung = false): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parseResponse(received), closed, hung, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false, true), options.timeoutMs);
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (parseResponse(received).complete) finish(false);
    });
    socket.on('connect', () => {
      socket.write(request, () => {
        if (options.halfClose) socket.end();
      });
    });
  });
}

function parseResponse(bytes: Buffer): Omit<RawAnswer, 'closed' | 'hung' | 'ms'> & { complete: boolean } {
  let rest = bytes;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return { headers: {}, body: '', complete: false };
    const [statusLine = '', ...headerLines] = rest.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    rest = rest.subarray(end + 4);
    if (status >= 100 && status < 200) continue;
    const length = Number(headers['content-length'] ?? 0);
    const body = rest.subarray(0, length).toString('utf8');
    return { status: Number.isNaN(status) ? undefined : status, headers, body, complete: rest.length >= length };
  }
}

/**
 * A client connection watched from the outside: what arrived, and when the server closed it. With
 * `allowHalfOpen` it keeps writing after the server's FIN, as a hostile client would.
 */
export class WatchedSocket {
  readonly socket: net.Socket;
  private received = Buffer.alloc(0);
  readonly opened = Date.now();
  /** Resolves with the time (ms after opening) at which the connection was closed or reset. */
  readonly closed: Promise<number>;
  readonly connected: Promise<void>;

  constructor(port: number, options: { allowHalfOpen?: boolean } = {}) {
    this.socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: options.allowHalfOpen ?? false });
    this.socket.on('data', (chunk: Buffer) => (this.received = Buffer.concat([this.received, chunk])));
    this.socket.on('error', () => {});
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve(Date.now() - this.opened)));
    this.connected = new Promise((resolve) => this.socket.once('connect', () => resolve()));
  }

  /** Writes unless the connection is gone; false once it is. */
  write(bytes: string | Buffer): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    this.socket.write(bytes);
    return true;
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  /** The first response received so far, if its head is complete. */
  response(): RawAnswer | undefined {
    const parsed = parseResponse(this.received);
    return parsed.status === undefined ? undefined : { ...parsed, closed: this.isClosed, hung: false, ms: Date.now() - this.opened };
  }

  destroy(): void {
    this.socket.destroy();
  }
}
