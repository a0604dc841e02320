import { expect } from 'chai';
import fc from 'fast-check';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { MemoryBudget } from '../../../../inference-runtime/core/memoryBudget.js';
import { createModelRegistry, type PoolModelRegistry } from '../../../../inference-runtime/dataplane/modelRegistry.js';
import { createApp, type AppDeps } from '../../../../inference-runtime/http/app.js';
import { startServer, type RunningServer } from '../../../../inference-runtime/server.js';
import { CACHE_DIR } from '../../../helpers/runtimeProcess.js';
import { rawExchange } from './rawHttp.js';
import { identityModelName, writeDatatypeModels } from '../../../fixtures/models/datatypeModels.js';

const FP32 = identityModelName('FP32');
const BROKEN = 'broken';
const KEY = 'direct-test-key';
/** Headers whose values must be the same whichever path answered. */
const COMPARED = ['content-type', 'content-length', 'inference-header-content-length', 'retry-after', 'www-authenticate', 'connection', 'access-control-allow-origin', 'vary'];

interface Sent {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

/** One POST on a fresh connection, so `Connection` is the server's own choice. */
function post(base: string, sent: Sent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${sent.path}`, { method: 'POST', headers: { ...sent.headers, 'Content-Length': String(sent.body.length) }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers = Object.fromEntries(COMPARED.map((h) => [h, res.headers[h] as string | undefined]));
        resolve({ status: res.statusCode!, headers, body: Buffer.concat(chunks).toString('base64') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(sent.body);
  });
}

function v2Binary(rows: number, headerShift: number): { body: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify({ id: 'r', inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, 3], parameters: { binary_data_size: rows * 12 } }], parameters: { binary_data_output: true } }));
  const data = Buffer.from(new Float32Array(Array.from({ length: rows * 3 }, (_, i) => i / 7 - 1)).buffer);
  return { body: Buffer.concat([json, data]), headers: { 'Inference-Header-Content-Length': String(json.length + headerShift), 'Content-Type': 'application/octet-stream' } };
}

const bodies = fc.oneof(
  fc.record({ rows: fc.integer({ min: 0, max: 3 }), shift: fc.constantFrom(0, 0, 0, -1, 3, 100_000) }).map(({ rows, shift }) => v2Binary(rows, shift)),
  fc.integer({ min: 1, max: 3 }).map((rows) => ({
    body: Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, 3], data: Array.from({ length: rows * 3 }, (_, i) => i) }] })),
    headers: { 'Content-Type': 'application/json' },
  })),
  fc.integer({ min: 1, max: 3 }).map((rows) => ({ body: Buffer.from(JSON.stringify({ instances: Array.from({ length: rows }, () => [1, 2, 3]) })), headers: {} })),
  // Large enough for the memory budget to refuse its inference (503 + Retry-After).
  fc.constant({ body: Buffer.from(JSON.stringify({ instances: Array.from({ length: 400 }, () => [1, 2, 3]) })), headers: { 'Content-Type': 'application/json' } }),
  fc.constant({ body: gzipSync(v2Binary(2, 0).body), headers: { ...v2Binary(2, 0).headers, 'Content-Encoding': 'gzip' } }),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ body: Buffer.from(bytes), headers: {} })),
  fc.string({ maxLength: 40 }).map((text) => ({ body: Buffer.from(text), headers: { 'Content-Type': 'text/html' } })),
);

const paths = fc
  .record({
    model: fc.constantFrom(FP32, FP32, FP32, BROKEN, 'nope', 'a%20b'),
    version: fc.constantFrom(undefined, '1', '2'),
    protocol: fc.constantFrom('v2', 'tfserving'),
    spelling: fc.constantFrom('exact', 'exact', 'exact', 'query', 'upper', 'slash'),
  })
  .map(({ model, version, protocol, spelling }) => {
    const at = version === undefined ? model : `${model}/versions/${version}`;
    const route = protocol === 'v2' ? `/v2/models/${at}/infer` : `/v1/models/${at}:predict`;
    if (spelling === 'query') return `${route}?x=1`;
    if (spelling === 'upper') return route.toUpperCase().replace(model.toUpperCase(), model);
    return spelling === 'slash' ? `${route}/` : route;
  });

const requests = fc.record({
  path: paths,
  body: bodies,
  key: fc.constantFrom<string | undefined>(undefined, KEY, KEY, KEY, 'wrong'),
  origin: fc.constantFrom<string | undefined>(undefined, 'https://app.example', 'https://other.example'),
});

/** The request counters of a metrics page, which both paths must move alike. */
async function requestCounts(base: string): Promise<string[]> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return text.split('\n').filter((line) => /^mloffload_(http_requests_total|model_inferences_total)\{/.test(line)).sort();
}

describe('inference routes served without koa answer as koa does', function () {
  this.timeout(180_000);
  let registry: PoolModelRegistry;
  let dir: string;
  const servers: RunningServer[] = [];

  /** The same app twice, over the same models: one serving through `callback()`, one through koa alone. */
  async function pair(deps: Omit<AppDeps, 'registry' | 'metrics'>): Promise<{ direct: string; koa: string }> {
    const held = 100 * 1024 * 1024;
    const budget = (): MemoryBudget => new MemoryBudget({ limitBytes: held + 256 * 1024, rss: () => held });
    const direct = createApp({ registry, metrics: new Registry(), memoryBudget: budget(), ...deps });
    const koa = createApp({ registry, metrics: new Registry(), memoryBudget: budget(), ...deps });
    const a = await startServer(direct.callback(), { port: 0, host: '127.0.0.1' });
    const b = await startServer(koa.koaCallback(), { port: 0, host: '127.0.0.1' });
    servers.push(a, b);
    return { direct: a.url, koa: b.url };
  }

  const portOf = (url: string): number => Number(new URL(url).port);

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mloffload-direct-'));
    const identity = writeDatatypeModels(dir).find((m) => m.name === FP32)!;
    const broken = { ...identity, name: BROKEN, source: { uri: pathToFileURL(path.join(dir, 'missing.onnx')).href } };
    registry = createModelRegistry({ models: [identity, broken] }, { repository: { cacheDir: CACHE_DIR }, workers: 1, benchmark: { iterations: 2, budgetMs: 200 } });
    await registry.whenSettled();
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await registry?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, options] of [
    ['an open API (any origin)', { corsOrigins: ['*'] }],
    ['API keys and one allowed origin', { apiKeys: [KEY], corsOrigins: ['https://app.example'] }],
  ] as const) {
    it(`gives the same status, headers, body and metrics for generated inference requests: ${name}`, async () => {
      const { direct, koa } = await pair({ options });
      let served = 0;
      await fc.assert(
        fc.asyncProperty(requests, async ({ path: at, body, key, origin }) => {
          const headers: Record<string, string> = { ...body.headers };
          if (key) headers['X-API-Key'] = key;
          if (origin) headers.Origin = origin;
          const sent = { path: at, headers, body: body.body };
          const [mine, theirs] = [await post(direct, sent), await post(koa, sent)];
          expect(mine, `${at} ${JSON.stringify(headers)}`).to.deep.equal(theirs);
          if (mine.status === 200) served++;
        }),
        { numRuns: 200 },
      );
      // The generated requests reach real inferences, not only refusals.
      expect(served).to.be.greaterThan(0);
      expect(await requestCounts(direct)).to.deep.equal(await requestCounts(koa));
    });
  }

  it('answers a request refused before its body arrived with Connection: close on both paths', async () => {
    const { direct, koa } = await pair({ options: { maxBodyBytes: 1024 } });
    for (const [route, length] of [
      [`/v2/models/nope/infer`, 100],
      [`/v1/models/${FP32}:predict`, 100_000],
    ] as const) {
      // Headers and the start of a body that never completes: the answer comes while the upload is unfinished.
      const request = Buffer.from(`POST ${route} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n{"instances"`);
      const [mine, theirs] = [await rawExchange(portOf(direct), request, { timeoutMs: 10_000 }), await rawExchange(portOf(koa), request, { timeoutMs: 10_000 })];
      expect(mine.status, route).to.equal(length === 100 ? 404 : 413);
      expect(mine.headers.connection).to.equal('close');
      expect({ status: mine.status, headers: mine.headers, body: mine.body }).to.deep.equal({ status: theirs.status, headers: theirs.headers, body: theirs.body });
    }
  });
});
