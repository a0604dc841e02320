import { expect } from 'chai';
import fc from 'fast-check';
import Koa from 'koa';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { DomainError, Overloaded } from '../../../../inference-runtime/core/errors.js';
import { ApiKeyCheck } from '../../../../inference-runtime/http/apiKeys.js';
import { DirectRoutes } from '../../../../inference-runtime/http/directRoutes.js';
import { errorAnswer, rawErrorAnswer } from '../../../../inference-runtime/http/errorAnswer.js';
import { errorResponse } from '../../../../inference-runtime/http/errorResponse.js';
import { HttpMetrics } from '../../../../inference-runtime/http/httpMetrics.js';
import { silentLogger } from '../../../../inference-runtime/http/logger.js';
import { startServer, type RunningServer } from '../../../../inference-runtime/server.js';
import { rawExchange, WatchedSocket, type RawAnswer } from './rawHttp.js';

/** Headers an error answer is made of, whichever path wrote it. */
const ERROR_HEADERS = ['content-type', 'content-length', 'retry-after', 'www-authenticate'];

interface Seen {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** One POST read by Node's own HTTP parser, as a client library would read it. */
function post(port: number, path: string): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { 'Content-Length': '2' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: Object.fromEntries(ERROR_HEADERS.map((h) => [h, res.headers[h] as string | undefined])), body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end('{}');
  });
}

/** What a client must see in any error answer: the JSON body `{"error": "<text>"}` and headers that agree with it. */
function expectErrorShape(answer: RawAnswer, contentType: string, label: string): string {
  expect(answer.headers['content-type'], label).to.equal(contentType);
  expect(Number(answer.headers['content-length']), label).to.equal(Buffer.byteLength(answer.body));
  const body = JSON.parse(answer.body) as Record<string, unknown>;
  expect(Object.keys(body), label).to.deep.equal(['error']);
  expect(body.error, label).to.be.a('string').and.not.equal('');
  return body.error as string;
}

describe('error answers: one shape on every path', function () {
  this.timeout(60_000);
  const closers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });

  it('koa, the routes served without koa and a raw socket answer the same error with the same status, headers and body', async () => {
    let thrown: Error = new Error('unset');
    const koa = new Koa();
    koa.silent = true;
    koa.use(errorResponse(silentLogger));
    koa.use(() => {
      throw thrown;
    });
    const direct = new DirectRoutes();
    direct.add({
      path: '/direct',
      handle: () => Promise.reject(thrown),
    });
    const policies = { requestTimeoutMs: 10_000, corsOrigins: [], keys: new ApiKeyCheck([]), open: new Set<string>(), metrics: new HttpMetrics(new Registry()), log: silentLogger };
    const koaServer = http.createServer(koa.callback());
    const directServer = http.createServer(direct.listener(policies, () => Promise.reject(new Error('the direct route was not taken'))));
    let raw = '';
    const rawServer = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => socket.end(raw));
    });
    const ports = await Promise.all([koaServer, directServer, rawServer].map(listen));
    closers.push(...[koaServer, directServer, rawServer].map((s) => () => new Promise((resolve) => s.close(resolve))));

    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 400, max: 599 }),
        fc.string({ unit: 'binary', maxLength: 60 }),
        fc.option(fc.integer({ min: 1, max: 3600 }), { nil: undefined }),
        async (status, message, retryAfterSeconds) => {
          thrown = retryAfterSeconds === undefined || status !== 503 ? new DomainError(message, status) : new Overloaded(message, retryAfterSeconds);
          raw = rawErrorAnswer(errorAnswer(status, message, { retryAfterSeconds: thrown instanceof Overloaded ? retryAfterSeconds : undefined }));
          const [viaKoa, viaDirect, viaRaw] = await Promise.all([post(ports[0]!, '/koa'), post(ports[1]!, '/direct'), post(ports[2]!, '/raw')]);
          expect(viaKoa.status).to.equal(status);
          expect(JSON.parse(viaKoa.body)).to.deep.equal({ error: message });
          expect(viaDirect).to.deep.equal(viaKoa);
          expect(viaRaw).to.deep.equal(viaKoa);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('every answer written before koa (refused requests, Node parser errors, the connection cap) has the shape and type of the API errors', async () => {
    const koa = new Koa();
    koa.silent = true;
    koa.use(errorResponse(silentLogger));
    // A route that reads its body, so that a body that never comes is refused by the body timeout.
    koa.use(async (ctx, next) => {
      if (ctx.path !== '/upload') return next();
      for await (const chunk of ctx.req) void chunk;
      ctx.status = 204;
    });
    const limits = { headersTimeoutMs: 300, bodyTimeoutMs: 600, maxConnections: 2 };
    const running: RunningServer = await startServer(koa.callback(), { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 1_000, limits });
    closers.push(() => running.close());
    const exchange = (request: string): Promise<RawAnswer> => rawExchange(running.port, Buffer.from(request, 'latin1'), { timeoutMs: 10_000 });

    // The API's own error answer (no such route), the reference.
    const reference = await exchange('GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(reference.status).to.equal(404);
    const contentType = reference.headers['content-type']!;
    expectErrorShape(reference, contentType, 'koa 404');

    const cases: Array<[string, string, number]> = [
      ['CONNECT', 'CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n', 405],
      ['an upgrade with a body', 'POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 5\r\n\r\nhello', 400],
      ['a request line that is not HTTP', '\u0001\u0002 / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 400],
      ['a header section over the limit', `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(http.maxHeaderSize + 1)}\r\n\r\n`, 431],
      ['headers that never end', 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n', 408],
      ['a body that never comes', 'POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\nabc', 408],
    ];
    for (const [label, request, status] of cases) {
      const answer = await exchange(request);
      expect(answer.status, label).to.equal(status);
      expectErrorShape(answer, contentType, label);
      expect(answer.headers.connection, label).to.equal('close');
    }

    const held = [new WatchedSocket(running.port), new WatchedSocket(running.port)];
    closers.push(async () => held.forEach((s) => s.destroy()));
    await Promise.all(held.map((s) => s.connected));
    const refused = await exchange('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(refused.status).to.equal(503);
    expect(expectErrorShape(refused, contentType, 'connection cap')).to.match(/2 connections open/);
    expect(refused.headers['retry-after']).to.equal('1');
    expect(refused.headers.connection).to.equal('close');
  });
});
