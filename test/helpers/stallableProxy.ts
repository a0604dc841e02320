// A loopback TCP proxy in front of a real server that a test can stall: while stalled, connections stay
// open but every byte in either direction is dropped (a network partition whose packets are lost), and
// new connections are accepted and held. Only the client behind the proxy sees the outage; others talking
// to the server directly do not.
//
//   const proxy = await StallableProxy.start({ host: '127.0.0.1', port: apiPort });
//   proxy.stall(); ...; proxy.resume(); await proxy.close();
import net from 'node:net';

export class StallableProxy {
  private stalled = false;
  private readonly sockets = new Set<net.Socket>();
  /** Bytes dropped while stalled, from the client side (requests that never reached the server). */
  droppedFromClient = 0;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<StallableProxy> {
    const ready: { proxy?: StallableProxy } = {};
    const server = net.createServer((client) => (ready.proxy ? ready.proxy.accept(client, target) : client.destroy()));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    ready.proxy = new StallableProxy(server, (server.address() as net.AddressInfo).port);
    return ready.proxy;
  }

  get isStalled(): boolean {
    return this.stalled;
  }

  stall(): void {
    this.stalled = true;
  }

  resume(): void {
    this.stalled = false;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
  }

  private accept(client: net.Socket, target: { host: string; port: number }): void {
    this.track(client);
    const upstream = net.connect(target.port, target.host);
    this.track(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => {
      if (this.stalled) this.droppedFromClient += chunk.length;
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!this.stalled) client.write(chunk);
    });
  }
}
