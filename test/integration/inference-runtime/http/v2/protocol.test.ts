import { expect } from 'chai';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { FACIAL_EXPRESSION } from '../../../../../inference-runtime/config/defaultPool.js';
import { MemoryBudget } from '../../../../../inference-runtime/core/memoryBudget.js';
import { createModelRegistry, type PoolModelRegistry } from '../../../../../inference-runtime/dataplane/modelRegistry.js';
import { createApp, type AppDeps } from '../../../../../inference-runtime/http/app.js';
import { startServer, type RunningServer } from '../../../../../inference-runtime/server.js';
import { CACHE_DIR } from '../../../../helpers/runtimeProcess.js';
import { identityModelName, writeDatatypeModels } from '../../../../fixtures/models/datatypeModels.js';

const FP32 = identityModelName('FP32');
const BYTES = identityModelName('BYTES');
const BROKEN = 'broken';

interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  json: Record<string, unknown>;
}

async function send(url: string, init: { body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Reply> {
  const sent = typeof init.body === 'string' || init.body === undefined ? init.body : new Uint8Array(init.body);
  const res = await fetch(url, { body: sent, headers: init.headers, method: sent === undefined ? 'GET' : 'POST' });
  const body = Buffer.from(await res.arrayBuffer());
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(body.subarray(0, Number(res.headers.get('inference-header-content-length') ?? body.length)).toString()) as Record<string, unknown>;
  } catch {
    // a binary or empty body
  }
  return { status: res.status, headers: res.headers, body, json };
}

function framed(header: object, ...binary: Uint8Array[]): { body: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...binary]), headers: { 'Inference-Header-Content-Length': String(json.length) } };
}

function expectV2Error(reply: Reply, status: number, message?: string): void {
  expect(reply.status, reply.body.toString()).to.equal(status);
  expect(reply.headers.get('content-type')).to.equal('application/json');
  expect(Object.keys(reply.json)).to.deep.equal(['error']);
  expect(reply.json.error).to.be.a('string');
  if (message) expect(reply.json.error).to.contain(message);
}

describe('V2 REST over the real registry: framing, errors and limits', function () {
  this.timeout(180_000);
  let registry: PoolModelRegistry;
  let dir: string;
  let base: string;
  const servers: RunningServer[] = [];

  async function serve(overrides: Partial<AppDeps> = {}): Promise<string> {
    const running = await startServer(createApp({ registry, ...overrides }).callback(), { port: 0, host: '127.0.0.1' });
    servers.push(running);
    return running.url;
  }

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mloffload-v2-'));
    const identities = writeDatatypeModels(dir).filter((m) => m.name === FP32 || m.name === BYTES);
    const broken = { ...identities[0]!, name: BROKEN, source: { uri: pathToFileURL(path.join(dir, 'missing.onnx')).href } };
    registry = createModelRegistry(
      { models: [FACIAL_EXPRESSION, ...identities, broken] },
      { repository: { cacheDir: CACHE_DIR }, workers: 1, benchmark: { iterations: 2, budgetMs: 200 } },
    );
    await registry.whenSettled();
    base = await serve();
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await registry?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 for a model that is not available, and the server is not ready while it is not', async () => {
    expectV2Error(await send(`${base}/v2/models/${BROKEN}/ready`), 503, 'UNAVAILABLE');
    expectV2Error(await send(`${base}/v2/models/${BROKEN}`), 503);
    expectV2Error(await send(`${base}/v2/models/${BROKEN}/infer`, { body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] }) }), 503);
    expectV2Error(await send(`${base}/v2/health/ready`), 503);
    expect((await send(`${base}/v2/health/live`)).json).to.deep.equal({ live: true });
    expect((await send(`${base}/v2/models/${FP32}/ready`)).json).to.deep.equal({ name: FP32, ready: true });
  });

  it('is not ready while the server drains', async () => {
    const draining = new AbortController();
    draining.abort();
    expectV2Error(await send(`${await serve({ draining: draining.signal })}/v2/health/ready`), 503, 'shutting down');
  });

  it('answers 404 in the V2 error shape for unknown models and versions on every route', async () => {
    for (const route of ['/v2/models/nope', '/v2/models/nope/ready', `/v2/models/${FP32}/versions/7`, `/v2/models/${FP32}/versions/7/ready`]) {
      expectV2Error(await send(`${base}${route}`), 404, 'Request for unknown model');
    }
    expectV2Error(await send(`${base}/v2/models/nope/infer`, { body: '{}' }), 404, "'nope' is not found");
    expectV2Error(await send(`${base}/v2/models/${FP32}/versions/7/infer`, { body: '{}' }), 404, `'${FP32}' version 7 is not found`);
  });

  it('answers 400 for a wrong shape, naming the input and the shape the model takes', async () => {
    const reply = await send(`${base}/v2/models/${FP32}/infer`, { body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [3], data: [1, 2, 3] }] }) });
    expectV2Error(reply, 400, 'expected shape [-1, 3]');
  });

  it('answers 400 for malformed binary framing: header longer than the body, negative, non-numeric, sizes not adding up, BYTES overrun', async () => {
    const good = framed({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], parameters: { binary_data_size: 12 } }] }, new Uint8Array(new Float32Array([1, 2, 3]).buffer));
    const url = `${base}/v2/models/${FP32}/infer`;
    const length = Number(good.headers['Inference-Header-Content-Length']);
    expect((await send(url, good)).status).to.equal(200);
    for (const value of [String(good.body.length + 1), '-1', 'twelve', '1.5']) {
      expectV2Error(await send(url, { body: good.body, headers: { 'Inference-Header-Content-Length': value } }), 400, 'Inference-Header-Content-Length');
    }
    expectV2Error(await send(url, { body: good.body.subarray(0, good.body.length - 4), headers: good.headers }), 400, 'runs past the end of the body');
    expectV2Error(await send(url, { body: Buffer.concat([good.body, Buffer.alloc(3)]), headers: good.headers }), 400, 'add up to 12');
    expectV2Error(await send(url, { body: good.body, headers: { 'Inference-Header-Content-Length': String(length - 1) } }), 400, 'is not valid JSON');
    const overrun = Buffer.alloc(12);
    overrun.writeUInt32LE(2 ** 31, 0);
    const bytes = framed({ inputs: [{ name: 'x', datatype: 'BYTES', shape: [1, 3], parameters: { binary_data_size: 12 } }] }, overrun);
    expectV2Error(await send(`${base}/v2/models/${BYTES}/infer`, bytes), 400, 'claims 2147483648 bytes');
  });

  it('echoes the id and returns binary outputs with the header and application/octet-stream; gzip bodies too', async () => {
    const request = framed(
      { id: 'abc', inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 3], parameters: { binary_data_size: 24 } }], outputs: [{ name: 'y', parameters: { binary_data: true } }] },
      new Uint8Array(new Float32Array([1, 2, 3, 4, 5, -0]).buffer),
    );
    for (const reply of [
      await send(`${base}/v2/models/${FP32}/versions/1/infer`, request),
      await send(`${base}/v2/models/${FP32}/infer`, { body: gzipSync(request.body), headers: { ...request.headers, 'Content-Encoding': 'gzip' } }),
    ]) {
      expect(reply.status).to.equal(200);
      expect(reply.headers.get('content-type')).to.equal('application/octet-stream');
      const headerLength = Number(reply.headers.get('inference-header-content-length'));
      expect(reply.json).to.deep.equal({
        model_name: FP32,
        model_version: '1',
        id: 'abc',
        outputs: [{ name: 'y', datatype: 'FP32', shape: [2, 3], parameters: { binary_data_size: 24 } }],
      });
      const values = new Float32Array(reply.body.buffer.slice(reply.body.byteOffset + headerLength, reply.body.byteOffset + reply.body.length));
      expect(Array.from(values)).to.deep.equal([1, 2, 3, 4, 5, -0]);
    }
  });

  it('lets a browser page send and read the binary framing header cross-origin', async () => {
    const preflight = await fetch(`${base}/v2/models/${FP32}/infer`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'inference-header-content-length' },
    });
    expect(preflight.status).to.equal(204);
    expect(preflight.headers.get('access-control-allow-headers')).to.contain('Inference-Header-Content-Length');
    const request = framed({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], parameters: { binary_data_size: 12 } }], parameters: { binary_data_output: true } }, new Uint8Array(12));
    const reply = await send(`${base}/v2/models/${FP32}/infer`, { body: request.body, headers: { ...request.headers, Origin: 'https://app.example' } });
    expect(reply.status).to.equal(200);
    expect(reply.headers.get('access-control-expose-headers')).to.contain('Inference-Header-Content-Length');
  });

  it('applies the runtime bounds: body size 413, rows per request 413, memory budget 503 + Retry-After, deadline 504', async () => {
    const rows = (n: number) => JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [n, 3], data: new Array<number>(n * 3).fill(1) }] });
    const url = (b: string) => `${b}/v2/models/${FP32}/infer`;
    expectV2Error(await send(url(await serve({ options: { maxBodyBytes: 64 } })), { body: rows(10) }), 413);
    expectV2Error(await send(url(await serve({ options: { maxRowsPerRequest: 4 } })), { body: rows(5) }), 413, 'at most 4 rows');
    const held = 100 * 2 ** 20;
    const budget = new MemoryBudget({ limitBytes: held + 1024, rss: () => held });
    const refused = await send(url(await serve({ memoryBudget: budget })), { body: rows(2) });
    expectV2Error(refused, 503, 'not enough memory');
    expect(refused.headers.get('retry-after')).to.equal('1');
    // The body arrives in two parts 50 ms apart, so the 1 ms deadline passes while the request is still in
    // flight whatever the speed of the machine.
    const body = Buffer.from(rows(2));
    const slow = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new Uint8Array(body.subarray(0, 10)));
        await new Promise((resolve) => setTimeout(resolve, 50));
        controller.enqueue(new Uint8Array(body.subarray(10)));
        controller.close();
      },
    });
    const late = await fetch(url(await serve({ options: { requestTimeoutMs: 1 } })), { method: 'POST', body: slow, duplex: 'half' } as RequestInit);
    expect(late.status).to.equal(504);
    expect(((await late.json()) as { error?: string }).error).to.be.a('string');
  });

  it('counts V2 inferences, binary and JSON, in the per-model metrics beside TF Serving :predict', async () => {
    const metrics = new Registry();
    const url = await serve({ metrics });
    const count = async (): Promise<number> => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`mloffload_model_inferences_total{model="${FP32}",version="1",outcome="ok"}`));
      return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    const before = await count();
    const binary = framed({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], parameters: { binary_data_size: 12 } }] }, new Uint8Array(new Float32Array([1, 2, 3]).buffer));
    expect((await send(`${url}/v2/models/${FP32}/infer`, binary)).status).to.equal(200);
    expect((await send(`${url}/v2/models/${FP32}/infer`, { body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] }) })).status).to.equal(200);
    expect((await send(`${url}/v1/models/${FP32}:predict`, { body: JSON.stringify({ instances: [[1, 2, 3]] }) })).status).to.equal(200);
    expect((await count()) - before).to.equal(3);
  });

  it('never answers a random framing with a 5xx, and keeps serving', async () => {
    const url = `${base}/v2/models/${BYTES}/infer`;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          header: fc.oneof(
            fc.constant({ inputs: [{ name: 'x', datatype: 'BYTES', shape: [1, 3], parameters: { binary_data_size: 12 } }] }),
            fc.record({ inputs: fc.array(fc.record({ name: fc.constantFrom('x', 'y'), datatype: fc.constantFrom('BYTES', 'FP32'), shape: fc.array(fc.nat(5), { maxLength: 3 }), parameters: fc.record({ binary_data_size: fc.integer({ min: -1, max: 40 }) }) }), { maxLength: 2 }) }),
          ),
          binary: fc.uint8Array({ maxLength: 48 }),
          headerLength: fc.oneof(fc.constant(undefined), fc.integer({ min: -3, max: 300 }).map(String), fc.string({ maxLength: 6 })),
        }),
        async ({ header, binary, headerLength }) => {
          const json = Buffer.from(JSON.stringify(header));
          const length = headerLength ?? String(json.length);
          const reply = await send(url, { body: Buffer.concat([json, binary]), headers: { 'Inference-Header-Content-Length': length } });
          expect(reply.status, reply.body.toString()).to.be.oneOf([200, 400, 413]);
          if (reply.status !== 200) expectV2Error(reply, reply.status);
        },
      ),
      { numRuns: 150 },
    );
    expect((await send(`${base}/v2/health/live`)).status).to.equal(200);
  });
});
