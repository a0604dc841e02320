import { Router } from '@koa/router';
import { expect } from 'chai';
import fc from 'fast-check';
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import { errorResponse } from '../../../../inference-runtime/http/errorResponse.js';
import { silentLogger } from '../../../../inference-runtime/http/logger.js';
import type { RequestState } from '../../../../inference-runtime/http/requestState.js';
import { dispatchRoutes } from '../../../../inference-runtime/http/routeDispatch.js';

/** Routers shaped like the runtime's: literal probes, parameters, an escaped colon verb, a nested router. */
function routers(): Router<RequestState>[] {
  const answer = (label: string) => (ctx: Koa.ParameterizedContext<RequestState>) => {
    ctx.body = { label, params: (ctx as unknown as { params: Record<string, string> }).params, route: (ctx as { _matchedRoute?: unknown })._matchedRoute };
  };
  const probes = new Router<RequestState>();
  probes.get('/healthz', answer('healthz'));
  probes.get('/readyz', answer('readyz'));
  const pool = new Router<RequestState>();
  pool.get('/v1/models', answer('pool'));
  const tf = new Router<RequestState>();
  for (const path of ['/v1/models/:name', '/v1/models/:name/versions/:version']) {
    tf.get(path, answer('status'));
    tf.post(`${path}\\:predict`, answer('predict'));
  }
  const v2 = new Router<RequestState>();
  v2.get('/v2', answer('server'));
  for (const path of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    v2.get(path, answer('metadata'));
    v2.post(`${path}/infer`, answer('infer'));
  }
  const vision = new Router<RequestState>();
  vision.post('/v1/vision/faces', answer('faces'));
  const demo = new Router<RequestState>();
  demo.get('/demo/:file', answer('demo'));
  const nested = new Router<RequestState>();
  nested.use(vision.routes());
  nested.use(demo.routes());
  return [probes, pool, tf, v2, nested];
}

/** The app the way routers were mounted before: every router's routes() and allowedMethods() in a row. */
function rowApp(): Koa<RequestState> {
  const app = new Koa<RequestState>();
  app.silent = true;
  app.use(errorResponse(silentLogger));
  for (const router of routers()) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}

function dispatchedApp(): Koa<RequestState> {
  const app = new Koa<RequestState>();
  app.silent = true;
  app.use(errorResponse(silentLogger));
  app.use(dispatchRoutes(routers()));
  return app;
}

async function listen(app: Koa<RequestState>): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function call(port: number, method: string, path: string, agent: http.Agent): Promise<{ status: number; allow?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, method, path, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => resolve({ status: response.statusCode!, allow: response.headers.allow, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

describe('route dispatch by path prefix', () => {
  let row: { server: http.Server; port: number };
  let dispatched: { server: http.Server; port: number };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  before(async () => {
    row = await listen(rowApp());
    dispatched = await listen(dispatchedApp());
  });
  after(async () => {
    agent.destroy();
    await Promise.all([row, dispatched].map(({ server }) => new Promise((resolve) => server.close(resolve))));
  });

  it('answers every method and path exactly as every router in a row did (status, Allow, body, matched route)', async () => {
    const segment = fc.constantFrom('v1', 'v2', 'V2', 'models', 'Models', 'm', 'versions', '3', 'infer', 'ready', 'healthz', 'readyz', 'vision', 'faces', 'demo', 'x.js', 'm:predict', 'm%3Apredict', '', 'sdk');
    const path = fc.array(segment, { minLength: 0, maxLength: 6 }).map((parts) => `/${parts.join('/')}`);
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'HEAD', 'PROPFIND', 'TRACE');
    await fc.assert(
      fc.asyncProperty(method, path, async (m, p) => {
        const [expected, actual] = await Promise.all([call(row.port, m, p, agent), call(dispatched.port, m, p, agent)]);
        expect(actual, `${m} ${p}`).to.deep.equal(expected);
      }),
      { numRuns: 400 },
    );
  });

  it('reaches the routes of every router, nested ones included', async () => {
    const cases: Array<[string, string, string]> = [
      ['GET', '/healthz', 'healthz'],
      ['GET', '/v1/models', 'pool'],
      ['GET', '/v1/models/m/versions/3', 'status'],
      ['POST', '/V1/MODELS/m:predict', 'predict'],
      ['POST', '/v2/models/m/infer', 'infer'],
      ['POST', '/v1/vision/faces', 'faces'],
      ['GET', '/demo/app.js', 'demo'],
    ];
    for (const [method, path, label] of cases) {
      const answer = await call(dispatched.port, method, path, agent);
      expect(answer.status, `${method} ${path}`).to.equal(200);
      expect(JSON.parse(answer.body).label).to.equal(label);
    }
  });
});
