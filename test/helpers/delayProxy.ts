// A TCP proxy on loopback that adds network delay: every chunk waits half the round-trip time in each
// direction, and one response in `slowEvery` waits `slowExtraMs` more (a congested link, a GC pause on the
// path). It stands between a client and a real runtime process, so the delay is real network delay as
// the client's sockets see it. Bounded: a connection cap, and close() destroys every socket.
import net from 'node:net';

export interface DelayProxyOptions {
  /** Where connections go. */
  target: { host: string; port: number };
  /** Round-trip time added (half on the way in, half on the way out). */
  rttMs: number;
  /** Delay every n-th response (counted over the proxy's life) by `slowExtraMs`; 0 never. */
  slowEvery?: number;
  slowExtraMs?: number;
  /** Connections served at once (default 256); more are refused. */
  maxConnections?: number;
}

export interface DelayProxy {
  readonly url: string;
  readonly port: number;
  /** Responses that got the extra delay so far. */
  slowed(): number;
  /** Sends new connections to another target (a rolling update behind a stable address). */
  retarget(target: { host: string; port: number }): void;
  close(): Promise<void>;
}

/** Writes chunks to `to` after `delayMs`, in order (constant delay keeps setTimeout's FIFO order). */
function delayedPipe(from: net.Socket, to: net.Socket, delayFor: () => number, onChunk?: () => void): void {
  let releaseAt = 0;
  from.on('data', (chunk: Buffer) => {
    onChunk?.();
    // Never release a chunk before the one ahead of it, whatever delay each gets.
    releaseAt = Math.max(releaseAt, Date.now() + delayFor());
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, releaseAt - Date.now());
  });
  from.on('end', () => {
    setTimeout(() => to.end(), Math.max(0, releaseAt - Date.now()));
  });
}

export async function startDelayProxy(options: DelayProxyOptions): Promise<DelayProxy> {
  const sockets = new Set<net.Socket>();
  let target = options.target;
  let responses = 0;
  let slowed = 0;
  const server = net.createServer({ noDelay: true }, (client) => {
    if (sockets.size >= (options.maxConnections ?? 256) * 2) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ ...target, noDelay: true });
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', () => {
      // Let data already in flight arrive before the client sees the close.
      setTimeout(drop, options.rttMs / 2 + (options.slowExtraMs ?? 0));
    });
    // A response starts with the first upstream chunk after a request chunk.
    let awaitingResponse = false;
    let extra = 0;
    delayedPipe(client, upstream, () => options.rttMs / 2, () => {
      awaitingResponse = true;
    });
    delayedPipe(upstream, client, () => options.rttMs / 2 + extra, () => {
      if (!awaitingResponse) return;
      awaitingResponse = false;
      responses++;
      const slow = !!options.slowEvery && responses % options.slowEvery === 0;
      extra = slow ? (options.slowExtraMs ?? 0) : 0;
      if (slow) slowed++;
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    slowed: () => slowed,
    retarget: (next) => {
      target = next;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
