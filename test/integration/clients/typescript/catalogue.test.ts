// Catalogue sync, API keys, errors and a private CA, against the runtime's app over HTTPS (in-process,
// real registry), behind a proxy whose target moves to a runtime with a new pool (a rolling update).
import { expect } from 'chai';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { ApiError, MLOffloadClient, type CatalogueChange } from '../../../../clients/typescript/src/index.js';
import { httpsFetch } from '../../../../clients/typescript/src/node.js';
import type { FetchLike } from '../../../../clients/typescript/src/transport.js';
import { FACIAL_EXPRESSION } from '../../../../inference-runtime/config/defaultPool.js';
import { createModelRegistry, type PoolModelRegistry } from '../../../../inference-runtime/dataplane/modelRegistry.js';
import { createApp } from '../../../../inference-runtime/http/app.js';
import { startServer, type RunningServer } from '../../../../inference-runtime/server.js';
import { visionRouter } from '../../../../inference-runtime/tasks/vision/visionRouter.js';
import { startDelayProxy, type DelayProxy } from '../../../helpers/delayProxy.js';
import { faceCrop } from '../../../helpers/edgeLab.js';
import { eventually } from '../../../helpers/eventually.js';
import { selfSignedCert, type TestCert } from '../../inference-runtime/http/selfSignedCert.js';

const CACHE_DIR = path.join(tmpdir(), 'mloffload-http-test-cache');
const KEY = 'catalogue-test-key';

describe('client SDK: catalogue sync with ETags, API keys and a private CA', function () {
  this.timeout(240_000);
  let cert: TestCert;
  const registries: PoolModelRegistry[] = [];
  const servers: RunningServer[] = [];
  let proxy: DelayProxy;
  let v1: RunningServer;
  let client: MLOffloadClient | undefined;

  async function runtime(version: string): Promise<RunningServer> {
    const registry = createModelRegistry({ models: [{ ...FACIAL_EXPRESSION, version }] }, { repository: { cacheDir: CACHE_DIR }, workers: 0, benchmark: { iterations: 3, budgetMs: 500 } });
    registries.push(registry);
    await registry.whenSettled();
    const app = createApp({ registry, metrics: new Registry(), options: { apiKeys: [KEY] }, routers: [visionRouter({ registry })] });
    const server = await startServer(app.callback(), { port: 0, host: '127.0.0.1', tls: { cert: cert.cert, key: cert.key } });
    servers.push(server);
    return server;
  }

  before(async () => {
    cert = await selfSignedCert();
    v1 = await runtime('1');
    proxy = await startDelayProxy({ target: { host: '127.0.0.1', port: v1.port }, rttMs: 2 });
  });
  after(async () => {
    client?.close();
    await proxy?.close();
    await Promise.all(servers.map((s) => s.close()));
    await Promise.all(registries.map((r) => r.close()));
    await cert?.remove();
  });

  it('refuses a server its CA does not vouch for, and trusts one signed by the CA it is given', async () => {
    const url = `https://localhost:${proxy.port}`;
    const untrusting = new MLOffloadClient({ endpoints: [url], apiKey: KEY, fetch: httpsFetch(), probeIntervalMs: 0, catalogueIntervalMs: 0 });
    const refused = await untrusting.catalogue().catch((e: unknown) => e);
    expect((refused as Error).name).to.equal('NoEndpointError');
    expect((refused as Error).message).to.match(/self-signed|certificate/i);
    const trusting = new MLOffloadClient({ endpoints: [url], apiKey: KEY, fetch: httpsFetch({ ca: cert.cert }), probeIntervalMs: 0, catalogueIntervalMs: 0 });
    expect((await trusting.catalogue()).models.map((m) => m.name)).to.deep.equal(['facial-expression']);
  });

  it('keeps the listing with its ETag, pays a 304 per check, and emits `catalogue` when a new pool is rolled out', async () => {
    const statuses: number[] = [];
    const base = httpsFetch({ ca: cert.cert });
    const counting: FetchLike = async (url, init) => {
      const response = await base(url, init);
      if (url.endsWith('/v1/models')) statuses.push(response.status);
      return response;
    };
    const changes: CatalogueChange[] = [];
    client = new MLOffloadClient({ endpoints: [`https://localhost:${proxy.port}`], apiKey: KEY, fetch: counting, probeIntervalMs: 0, catalogueIntervalMs: 150 });
    client.on('catalogue', (c) => changes.push(c));

    const first = await client.catalogue();
    expect(first.etag).to.match(/^"/);
    expect(first.node).to.be.a('string');
    expect(first.models[0]).to.include({ name: 'facial-expression', version: '1', state: 'AVAILABLE' });
    expect(first.models[0]!.benchmark?.latencyMs.p50).to.be.greaterThan(0);
    expect(changes.map((c) => c.added)).to.deep.equal([['facial-expression@1']]);

    // The background sync revalidates: 304s, no event.
    await eventually(() => expect(statuses.filter((s) => s === 304).length).to.be.at.least(2), { timeout: 10_000, interval: 50 });
    expect(changes).to.have.length(1);

    // Rolling update: new connections reach a runtime serving version 2; the old one goes away.
    const v2 = await runtime('2');
    proxy.retarget({ host: '127.0.0.1', port: v2.port });
    await v1.close();
    await eventually(() => expect(changes).to.have.length(2), { timeout: 20_000, interval: 100 });
    expect(changes[1]).to.deep.include({ added: ['facial-expression@2'], removed: ['facial-expression@1'] });
    expect(changes[1]!.catalogue.etag).to.not.equal(first.etag);

    // An app sees the new version in its calls without an update.
    const answer = await client.vision.facialExpressions(await faceCrop(), { crop: false });
    expect(answer.models.map((m) => `${m.name}@${m.version}`)).to.deep.equal(['facial-expression@2']);
  });

  it('gives the request its 4xx as an ApiError without trying elsewhere; a wrong key is 401', async () => {
    const fetch = httpsFetch({ ca: cert.cert });
    const wrongKey = new MLOffloadClient({ endpoints: [`https://localhost:${proxy.port}`], apiKey: 'nope', fetch, probeIntervalMs: 0, catalogueIntervalMs: 0 });
    const unauthorised = await wrongKey.vision.facialExpressions(await faceCrop(), { crop: false }).catch((e: unknown) => e);
    expect(unauthorised).to.be.instanceOf(ApiError);
    expect(unauthorised).to.include({ status: 401 });
    const c = client!;
    const bad = await c.vision.facialExpressions(new TextEncoder().encode('not an image'), { crop: false }).catch((e: unknown) => e);
    expect(bad).to.be.instanceOf(ApiError);
    expect((bad as ApiError).status).to.be.within(400, 499);
    expect(c.endpoints()[0]).to.include({ up: true, failures: 0 });
  });
});
