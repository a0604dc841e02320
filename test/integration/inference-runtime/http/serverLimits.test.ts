import { expect } from 'chai';
import type http from 'node:http';
import tls from 'node:tls';
import { startServer, type RunningServer } from '../../../../inference-runtime/server.js';
import { eventually } from '../../../helpers/eventually.js';
import { rawExchange, WatchedSocket } from './rawHttp.js';
import { selfSignedCert } from './selfSignedCert.js';

/**
 * The connection rules of `startServer` with plain handlers (what an embedder gets without the API's error
 * middleware): an early answer closes its connection, CONNECT is answered, the cap holds for HTTPS too,
 * and inconsistent limits are refused.
 */
describe('runtime server connection limits', function () {
  this.timeout(30_000);
  let running: RunningServer | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it('closes a keep-alive connection whose response went out before the request body was complete', async () => {
    // Answers at once, never reads the body, and does not say Connection: close.
    const handler: http.RequestListener = (_req, res) => res.end('early');
    running = await startServer(handler, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 1_000 });
    const socket = new WatchedSocket(running.port);
    await socket.connected;
    socket.write('POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n');
    socket.write(Buffer.alloc(100));
    // The rest of the body never comes; without the rule the socket waits for it until the body timeout (60 s).
    await eventually(() => expect(socket.response()?.status).to.equal(200), { timeout: 5_000, interval: 20 });
    const closedAfter = await eventually(
      async () => {
        expect(socket.isClosed).to.equal(true);
        return socket.closed;
      },
      { timeout: 6_000, interval: 50 },
    );
    expect(closedAfter).to.be.lessThan(4_000);
  });

  it('answers CONNECT with 405 instead of dropping the connection', async () => {
    running = await startServer((_req, res) => res.end('ok'), { port: 0, host: '127.0.0.1' });
    const answer = await rawExchange(running.port, Buffer.from('CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n'), { timeoutMs: 5_000 });
    expect(answer.status).to.equal(405);
    expect(JSON.parse(answer.body)).to.deep.equal({ error: 'Method Not Allowed: CONNECT' });
  });

  it('answers a request that asks to upgrade and carries a body with 400 and closes it, and serves one without a body', async () => {
    running = await startServer((_req, res) => res.end('ok'), { port: 0, host: '127.0.0.1' });
    const upgrade = 'Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n';
    // Node's parser stops at the headers of an upgrade: without the rule the body never arrives and nothing answers.
    for (const framing of ['Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 'Content-Length: 5\r\n\r\nhello']) {
      const answer = await rawExchange(running.port, Buffer.from(`POST /v1/vision/faces HTTP/1.1\r\nHost: 127.0.0.1\r\n${upgrade}${framing}`), { timeoutMs: 5_000 });
      expect(answer.status, framing).to.equal(400);
      expect(JSON.parse(answer.body).error).to.match(/upgrade/);
    }
    const plain = await rawExchange(running.port, Buffer.from(`GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n${upgrade}\r\n`), { timeoutMs: 5_000 });
    expect([plain.status, plain.body]).to.deep.equal([200, 'ok']);
  });

  it('closes HTTPS connections beyond the cap before the handshake, and serves again once one closes', async () => {
    const cert = await selfSignedCert();
    try {
      running = await startServer((_req, res) => res.end('ok'), { port: 0, host: '127.0.0.1', tls: { cert: cert.cert, key: cert.key }, limits: { maxConnections: 1 } });
      const port = running.port;
      const handshake = (): Promise<tls.TLSSocket | string> =>
        new Promise((resolve) => {
          const socket = tls.connect({ port, host: '127.0.0.1', ca: cert.cert, servername: 'localhost' }, () => resolve(socket));
          socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
        });
      const first = await handshake();
      expect(first).to.be.instanceOf(tls.TLSSocket);
      expect(await handshake()).to.be.oneOf(['ECONNRESET', 'EPIPE', 'ERR_SSL_WRONG_VERSION_NUMBER', 'Client network socket disconnected before secure TLS connection was established']);
      (first as tls.TLSSocket).destroy();
      await eventually(
        async () => {
          const again = await handshake();
          expect(again).to.be.instanceOf(tls.TLSSocket);
          (again as tls.TLSSocket).destroy();
        },
        { timeout: 5_000 },
      );
    } finally {
      await cert.remove();
    }
  });

  it('refuses limits where the headers timeout exceeds the body timeout, or a cap below 1', async () => {
    const start = (limits: Parameters<typeof startServer>[1]['limits']) => startServer((_req, res) => res.end(), { port: 0, host: '127.0.0.1', limits });
    let error = await start({ headersTimeoutMs: 5_000, bodyTimeoutMs: 1_000 }).then(
      (r) => r.close().then(() => undefined),
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(RangeError).with.property('message').that.matches(/headers timeout \(5000 ms\) must not exceed the body timeout/);
    error = await start({ maxConnections: 0 }).then(
      (r) => r.close().then(() => undefined),
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(RangeError).with.property('message').that.matches(/maxConnections must be a positive integer/);
  });
});
