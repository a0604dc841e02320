import { expect } from 'chai';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { FACIAL_EXPRESSION } from '../../../../inference-runtime/config/defaultPool.js';
import { createModelRegistry, type PoolModelRegistry } from '../../../../inference-runtime/dataplane/modelRegistry.js';
import { runtimeVersion } from '../../../../inference-runtime/core/runtimeInfo.js';
import { createApp, type AppDeps } from '../../../../inference-runtime/http/app.js';
import type { DiscoveryDocument } from '../../../../inference-runtime/http/discovery.js';
import { startServer, type RunningServer } from '../../../../inference-runtime/server.js';

const CACHE_DIR = path.join(tmpdir(), 'mloffload-http-test-cache');
const KEY = 'discovery-test-key';

describe('runtime: discovery document, model listing ETag and CORS', function () {
  this.timeout(180_000);
  let registry: PoolModelRegistry;
  const servers: RunningServer[] = [];
  let base: string;
  const savedNode = process.env.NODE_NAME;

  async function serve(overrides: Partial<AppDeps> = {}): Promise<string> {
    const app = createApp({ registry, metrics: new Registry(), options: { apiKeys: [KEY] }, ...overrides });
    const running = await startServer(app.callback(), { port: 0, host: '127.0.0.1' });
    servers.push(running);
    return running.url;
  }

  before(async () => {
    process.env.NODE_NAME = 'edge-7';
    registry = createModelRegistry({ models: [FACIAL_EXPRESSION] }, { repository: { cacheDir: CACHE_DIR }, workers: 1, benchmark: { iterations: 5, budgetMs: 1000 } });
    await registry.whenSettled();
    base = await serve();
  });
  after(async () => {
    if (savedNode === undefined) delete process.env.NODE_NAME;
    else process.env.NODE_NAME = savedNode;
    await Promise.all(servers.map((s) => s.close()));
    await registry?.close();
  });

  it('serves GET /v1/discovery without a key: node, tasks, models and their measured latency', async () => {
    const res = await fetch(`${base}/v1/discovery`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-cache');
    const doc = (await res.json()) as DiscoveryDocument;
    expect(doc).to.include({ kind: 'Discovery', node: 'edge-7', runtimeVersion: runtimeVersion(), ready: true });
    expect(doc.tasks).to.deep.equal(['vision/facial-expression']);
    expect(doc.models).to.have.length(1);
    const [model] = doc.models;
    expect(model).to.include({ name: FACIAL_EXPRESSION.name, version: FACIAL_EXPRESSION.version, task: 'vision/facial-expression', state: 'AVAILABLE' });
    expect(model!.benchmark?.node).to.equal('edge-7');
    expect(model!.benchmark?.latencyMs.p50).to.be.greaterThan(0);
    expect(model!.benchmark?.latencyMs.p95).to.be.at.least(model!.benchmark!.latencyMs.p50);
    // No card, labels or other listing detail: that needs the key.
    expect(model).to.not.have.property('card');
  });

  it('tags GET /v1/models with an ETag and answers 304 with no body when If-None-Match names it', async () => {
    const auth = { Authorization: `Bearer ${KEY}` };
    expect((await fetch(`${base}/v1/models`)).status).to.equal(401);
    const first = await fetch(`${base}/v1/models`, { headers: auth });
    expect(first.status).to.equal(200);
    const etag = first.headers.get('etag');
    expect(etag).to.match(/^"[A-Za-z0-9_-]{22}"$/);
    expect(first.headers.get('cache-control')).to.equal('private, no-cache');
    const listing = (await first.json()) as { models: { name: string; benchmark?: unknown }[] };
    expect(listing.models[0]!.benchmark).to.be.an('object');

    for (const header of [etag!, `W/${etag}`, `"other", ${etag}`, '*']) {
      const again = await fetch(`${base}/v1/models`, { headers: { ...auth, 'If-None-Match': header } });
      expect(again.status, header).to.equal(304);
      expect(await again.text()).to.equal('');
      expect(again.headers.get('etag')).to.equal(etag);
    }
    const stale = await fetch(`${base}/v1/models`, { headers: { ...auth, 'If-None-Match': '"stale"' } });
    expect(stale.status).to.equal(200);
    // Another replica with the same pool state gives the same tag.
    const other = await serve();
    expect((await fetch(`${other}/v1/models`, { headers: auth })).headers.get('etag')).to.equal(etag);
  });

  it('answers CORS preflights without a key and exposes the ETag to pages of other origins', async () => {
    const preflight = await fetch(`${base}/v1/vision/facial-expressions`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' },
    });
    expect(preflight.status).to.equal(204);
    expect(preflight.headers.get('access-control-allow-origin')).to.equal('*');
    expect(preflight.headers.get('access-control-allow-headers')).to.include('Authorization');
    const listed = await fetch(`${base}/v1/models`, { headers: { Origin: 'https://app.example', Authorization: `Bearer ${KEY}` } });
    expect(listed.headers.get('access-control-allow-origin')).to.equal('*');
    expect(listed.headers.get('access-control-expose-headers')).to.include('ETag');

    const restricted = await serve({ options: { apiKeys: [KEY], corsOrigins: ['https://app.example'] } });
    const allowed = await fetch(`${restricted}/v1/discovery`, { headers: { Origin: 'https://app.example' } });
    expect(allowed.headers.get('access-control-allow-origin')).to.equal('https://app.example');
    const refused = await fetch(`${restricted}/v1/discovery`, { headers: { Origin: 'https://elsewhere.example' } });
    expect(refused.headers.get('access-control-allow-origin')).to.equal(null);
    // A preflight from an origin not allowed falls through to the key check.
    const refusedPreflight = await fetch(`${restricted}/v1/models`, { method: 'OPTIONS', headers: { Origin: 'https://elsewhere.example', 'Access-Control-Request-Method': 'GET' } });
    expect(refusedPreflight.status).to.equal(401);
  });
});
