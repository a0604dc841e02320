import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { FACIAL_EXPRESSION } from '../../../../inference-runtime/config/defaultPool.js';
import { createModelRegistry, type PoolModelRegistry } from '../../../../inference-runtime/dataplane/modelRegistry.js';
import type { HostTensor } from '../../../../inference-runtime/core/tensor.js';
import { ApiKeyCheck } from '../../../../inference-runtime/http/apiKeys.js';
import { createApp, type AppDeps } from '../../../../inference-runtime/http/app.js';
import { startServer, type RunningServer } from '../../../../inference-runtime/server.js';
import { demoPagePaths, visionRouter } from '../../../../inference-runtime/tasks/vision/visionRouter.js';

const MODEL = FACIAL_EXPRESSION.name;
const CACHE_DIR = path.join(tmpdir(), 'mloffload-http-test-cache');

/** A deterministic 64x64 grey "image" in the model's [-1, 1] input range. */
function grayImage(seed: number): number[][][] {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.fround((state / 2 ** 32) * 2 - 1);
  };
  return Array.from({ length: 64 }, () => Array.from({ length: 64 }, () => [next()]));
}

function toTensor(rows: number[][][][]): HostTensor {
  return { dtype: 'float32', shape: [rows.length, 64, 64, 1], data: Float32Array.from(rows.flat(3)) };
}

interface Reply {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}

async function call(base: string, route: string, init: RequestInit & { json?: unknown } = {}): Promise<Reply> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  let body = rest.body;
  if (json !== undefined) {
    body = JSON.stringify(json);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  const res = await fetch(`${base}${route}`, { ...rest, headers, body, method: rest.method ?? (body === undefined ? 'GET' : 'POST') });
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: res.status, headers: res.headers, json: parsed };
}

const predictPath = `/v1/models/${MODEL}:predict`;

describe('runtime HTTP API over the real registry (facial-expression)', function () {
  this.timeout(180_000);
  let registry: PoolModelRegistry;
  let inputName: string;
  const servers: RunningServer[] = [];

  async function serve(overrides: Partial<AppDeps> = {}): Promise<string> {
    const app = createApp({ registry, metrics: new Registry(), ...overrides });
    const running = await startServer(app.callback(), { port: 0, host: '127.0.0.1' });
    servers.push(running);
    return running.url;
  }

  let base: string;
  before(async () => {
    registry = createModelRegistry({ models: [FACIAL_EXPRESSION] }, { repository: { cacheDir: CACHE_DIR }, workers: 1, benchmark: { iterations: 5, budgetMs: 1000 } });
    await registry.whenSettled();
    expect(registry.list().map((m) => [m.name, m.state, m.reason])).to.deep.equal([[MODEL, 'AVAILABLE', undefined]]);
    inputName = registry.resolve(MODEL).signature().inputs[0]!.name;
    base = await serve();
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await registry?.close();
  });

  describe('TF Serving REST', () => {
    it('reports the model status like TF Serving', async () => {
      const reply = await call(base, `/v1/models/${MODEL}`);
      expect(reply.status).to.equal(200);
      expect(reply.json).to.deep.equal({
        model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }],
      });
      expect((await call(base, `/v1/models/${MODEL}/versions/1`)).json).to.deep.equal(reply.json);
    });

    it('publishes the signature as metadata', async () => {
      const reply = await call(base, `/v1/models/${MODEL}/versions/1/metadata`);
      expect(reply.status).to.equal(200);
      const { model_spec, metadata } = reply.json as {
        model_spec: unknown;
        metadata: { signature_def: { signature_def: { serving_default: { inputs: Record<string, { dtype: string; tensor_shape: { dim: Array<{ size: string }> } }>; method_name: string } } } };
      };
      expect(model_spec).to.deep.equal({ name: MODEL, signature_name: '', version: '1' });
      const def = metadata.signature_def.signature_def.serving_default;
      expect(def.method_name).to.equal('tensorflow/serving/predict');
      expect(def.inputs[inputName]!.dtype).to.equal('DT_FLOAT');
      expect(def.inputs[inputName]!.tensor_shape.dim.map((d) => d.size)).to.deep.equal(['-1', '64', '64', '1']);
    });

    it('predicts exactly what an in-process registry.infer gives for the same input', async () => {
      const image = grayImage(7);
      const reply = await call(base, predictPath, { json: { instances: [image] } });
      expect(reply.status).to.equal(200);
      const predictions = reply.json.predictions as number[][];
      const direct = await registry.resolve(MODEL).infer({ [inputName]: toTensor([image]) });
      const output = Object.values(direct)[0]!;
      expect(output.shape).to.deep.equal([1, 7]);
      expect(predictions).to.have.length(1);
      expect(predictions[0]!.map((v) => Math.fround(v))).to.deep.equal(Array.from(output.data as Float32Array));
      // A softmax over the seven FER2013 expressions.
      expect(predictions[0]!.reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-3);
    });

    it('gives the same result in row and columnar format, per row of a batch, with and without a version', async () => {
      const images = [grayImage(1), grayImage(2), grayImage(3)];
      const row = await call(base, predictPath, { json: { instances: images } });
      const columnar = await call(base, `/v1/models/${MODEL}/versions/1:predict`, { json: { signature_name: 'serving_default', inputs: { [inputName]: images } } });
      const single = await call(base, predictPath, { json: { inputs: [images[1]] } });
      expect([row.status, columnar.status, single.status]).to.deep.equal([200, 200, 200]);
      expect(row.json.predictions).to.have.length(3);
      expect(columnar.json.outputs).to.deep.equal(row.json.predictions);
      expect((single.json.outputs as number[][])[0]).to.deep.equal((row.json.predictions as number[][])[1]);
    });

    it('takes the body the way TF Serving documents it: curl -d, gzip', async function () {
      const body = JSON.stringify({ instances: [grayImage(5)] });
      const expected = (await call(base, predictPath, { body, headers: { 'content-type': 'application/json' } })).json;
      const gz = await call(base, predictPath, { body: gzipSync(body), headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
      expect(gz.json).to.deep.equal(expected);
      const file = path.join(tmpdir(), `mloffload-predict-${process.pid}.json`);
      await writeFile(file, body);
      let stdout: string;
      try {
        ({ stdout } = await promisify(execFile)('curl', ['-s', '-d', `@${file}`, '-X', 'POST', `${base}${predictPath}`]));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') this.skip();
        throw error;
      }
      expect(JSON.parse(stdout)).to.deep.equal(expected);
    });
  });

  describe('pool, probes and metrics', () => {
    it('lists the pool with task, state, backend, card, labels and benchmark', async () => {
      const reply = await call(base, '/v1/models');
      expect(reply.status).to.equal(200);
      const [model] = reply.json.models as Array<Record<string, unknown>>;
      expect(model).to.include({ name: MODEL, version: '1', task: 'vision/facial-expression', framework: 'tfjs-graph', state: 'AVAILABLE' });
      expect(model!.backend).to.be.a('string');
      expect(model!.labels).to.deep.equal(['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']);
      expect((model!.card as { license: string }).license).to.equal('MIT');
      expect((model!.benchmark as { latencyMs: { p50: number } }).latencyMs.p50).to.be.greaterThan(0);
    });

    it('is live, and ready with each model state', async () => {
      expect((await call(base, '/healthz')).status).to.equal(200);
      const ready = await call(base, '/readyz');
      expect(ready.status).to.equal(200);
      expect(ready.json).to.deep.equal({ ready: true, models: [{ name: MODEL, version: '1', state: 'AVAILABLE' }] });
    });

    it('is not ready while draining', async () => {
      const draining = new AbortController();
      const url = await serve({ draining: draining.signal });
      expect((await call(url, '/readyz')).status).to.equal(200);
      draining.abort();
      const reply = await call(url, '/readyz');
      expect(reply.status).to.equal(503);
      expect(reply.json).to.include({ ready: false, draining: true });
    });

    it('exports request counts, latency, inference time, in-flight and process metrics', async () => {
      const metrics = new Registry();
      const url = await serve({ metrics, queueDepth: () => registry.queueDepth() });
      await call(url, predictPath, { json: { instances: [grayImage(9)] } });
      await call(url, '/v1/models/nope:predict', { json: { instances: [1] } });
      const text = (await (await fetch(`${url}/metrics`)).text()).replace(/\\:/g, ':');
      const route = '/v1/models/:name\\\\:predict';
      expect(text).to.match(new RegExp(`mloffload_http_requests_total\\{method="POST",route="${route}",model="${MODEL}",code="200"\\} 1`));
      expect(text).to.match(new RegExp(`mloffload_http_requests_total\\{method="POST",route="${route}",model="",code="404"\\} 1`));
      expect(text).to.match(new RegExp(`mloffload_http_request_duration_seconds_count\\{method="POST",route="${route}",model="${MODEL}"\\} 1`));
      expect(text).to.contain(`mloffload_inference_duration_seconds_count{model="${MODEL}",version="1"} 1`);
      expect(text).to.contain('mloffload_http_requests_in_flight 1');
      expect(text).to.contain('mloffload_inference_queue_depth 0');
      expect(text).to.contain('process_resident_memory_bytes');
    });
  });

  describe('limits and bad input', () => {
    it('413 when the body is over the cap, declared or streamed, and after decompression', async () => {
      const url = await serve({ options: { maxBodyBytes: 10_000 } });
      const body = JSON.stringify({ instances: [grayImage(1)] });
      expect(body.length).to.be.greaterThan(10_000);
      const declared = await call(url, predictPath, { body, headers: { 'content-type': 'application/json' } });
      expect(declared.status).to.equal(413);
      expect(declared.json.error).to.contain('10000 bytes');
      const chunks = new Blob([body]).stream();
      const streamed = await call(url, predictPath, { body: chunks, headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit);
      expect(streamed.status).to.equal(413);
      const bomb = gzipSync(Buffer.alloc(5_000_000, 0x20));
      const inflated = await call(url, predictPath, { body: bomb, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
      expect(inflated.status).to.equal(413);
      // The server keeps serving requests under the cap.
      expect((await call(url, '/v1/models')).status).to.equal(200);
    });

    it('400 for JSON that does not parse', async () => {
      const reply = await call(base, predictPath, { body: '{"instances": [1, 2', headers: { 'content-type': 'application/json' } });
      expect(reply.status).to.equal(400);
      expect(reply.json.error).to.match(/^JSON Parse error: /);
    });

    it('400 naming the input and the expected shape for a wrong shape', async () => {
      const small = Array.from({ length: 32 }, () => Array.from({ length: 32 }, () => [0]));
      const reply = await call(base, predictPath, { json: { instances: [small] } });
      expect(reply.status).to.equal(400);
      const error = reply.json.error as string;
      expect(error).to.contain(inputName);
      expect(error).to.match(/64, ?64, ?1/);
    });

    it('400 for wrong dtypes and ragged lists, naming the input', async () => {
      const strings = await call(base, predictPath, { json: { instances: [grayImage(1).map((r) => r.map(() => ['x']))] } });
      expect(strings.status).to.equal(400);
      expect(strings.json.error).to.contain(inputName).and.to.contain('DT_FLOAT');
      const ragged = grayImage(1);
      ragged[10] = ragged[10]!.slice(0, 40);
      const reply = await call(base, predictPath, { json: { instances: [ragged] } });
      expect(reply.status).to.equal(400);
      expect(reply.json.error).to.contain(inputName).and.to.contain('ragged');
    });

    it('404 for an unknown model and an unknown version, on every route', async () => {
      for (const route of ['/v1/models/nope', '/v1/models/nope/metadata', `/v1/models/${MODEL}/versions/9`, `/v1/models/${MODEL}/versions/9/metadata`]) {
        const reply = await call(base, route);
        expect(reply.status, route).to.equal(404);
        expect(reply.json.error, route).to.be.a('string').with.length.greaterThan(0);
      }
      const model = await call(base, '/v1/models/nope:predict', { json: { instances: [1] } });
      expect(model.status).to.equal(404);
      // TF Serving's own wording, which its clients match on.
      expect(model.json.error).to.equal('Servable not found for request: Latest(nope)');
      const version = await call(base, `/v1/models/${MODEL}/versions/9:predict`, { json: { instances: [grayImage(1)] } });
      expect(version.status).to.equal(404);
      expect(version.json.error).to.equal(`Servable not found for request: Specific(${MODEL}, 9)`);
    });

    it('415 for a body of another media type', async () => {
      const reply = await call(base, predictPath, { body: Buffer.from([0xff, 0xd8, 0xff]), headers: { 'content-type': 'image/jpeg' } });
      expect(reply.status).to.equal(415);
      expect(reply.json.error).to.contain('image/jpeg');
    });

    it('504 when the request outlives its timeout', async () => {
      const url = await serve({ options: { requestTimeoutMs: 1 } });
      const batch = Array.from({ length: 32 }, (_, i) => grayImage(i + 1));
      const reply = await call(url, predictPath, { json: { instances: batch } });
      expect(reply.status).to.equal(504);
      expect(reply.json.error).to.contain('timeout');
    });

    it('answers malformed requests with 4xx and keeps serving', async () => {
      const bodies: Array<[string, string | Uint8Array<ArrayBuffer>]> = [
        ['application/json', ''],
        ['application/json', 'null'],
        ['application/json', '[]'],
        ['application/json', '"instances"'],
        ['application/json', '{"instances": {}}'],
        ['application/json', '{"instances": [null]}'],
        ['application/json', '{"inputs": {"__proto__": {"x": 1}}}'],
        ['application/json', `{"inputs": ${'['.repeat(5000)}1${']'.repeat(5000)}}`],
        ['application/json', '{"instances": [[[[1e40]]]]}'],
        ['application/json', new Uint8Array([0xc3, 0x28, 0xa0, 0xa1])],
        ['application/json; charset=utf-8', '{"instances": [[[["NaN"]]]]}'],
      ];
      for (const [type, body] of bodies) {
        const reply = await call(base, predictPath, { body, headers: { 'content-type': type } });
        expect(reply.status, String(body).slice(0, 40)).to.be.within(400, 499);
        expect(reply.json.error, String(body).slice(0, 40)).to.be.a('string');
      }
      expect((await call(base, '/v1/models/%E0%A4%A:predict', { json: { instances: [1] } })).status).to.be.within(400, 404);
      expect((await call(base, predictPath, { method: 'PUT', json: {} })).status).to.equal(405);
      expect((await call(base, predictPath, { json: { instances: [grayImage(2)] } })).status).to.equal(200);
    });
  });

  describe('API keys', () => {
    let url: string;
    before(async () => {
      url = await serve({ options: { apiKeys: ['first-key', 'second-key'] } });
    });

    it('401 without a key or with a wrong one, 200 with a valid key in either header', async () => {
      const body = { instances: [grayImage(3)] };
      const none = await call(url, predictPath, { json: body });
      expect(none.status).to.equal(401);
      expect(none.headers.get('www-authenticate')).to.equal('Bearer');
      expect((await call(url, predictPath, { json: body, headers: { authorization: 'Bearer nope' } })).status).to.equal(401);
      expect((await call(url, '/v1/models', { headers: { 'x-api-key': 'first-key ' + 'x' } })).status).to.equal(401);
      expect((await call(url, predictPath, { json: body, headers: { authorization: 'Bearer second-key' } })).status).to.equal(200);
      expect((await call(url, '/v1/models', { headers: { 'x-api-key': 'first-key' } })).status).to.equal(200);
    });

    it('keeps probes open, and metrics open unless protected', async () => {
      expect((await call(url, '/healthz')).status).to.equal(200);
      expect((await call(url, '/readyz')).status).to.equal(200);
      expect((await call(url, '/metrics')).status).to.equal(200);
      const guarded = await serve({ options: { apiKeys: ['k'], protectMetrics: true } });
      expect((await call(guarded, '/metrics')).status).to.equal(401);
      expect((await call(guarded, '/metrics', { headers: { authorization: 'Bearer k' } })).status).to.equal(200);
      expect((await call(guarded, '/readyz')).status).to.equal(200);
    });

    it('tells an anonymous /readyz only ready or not; a key holder gets the models and reasons', async () => {
      const anonymous = await call(url, '/readyz');
      expect(anonymous.status).to.equal(200);
      expect(anonymous.json).to.deep.equal({ ready: true });
      const wrongKey = await call(url, '/readyz', { headers: { authorization: 'Bearer nope' } });
      expect(wrongKey.json).to.deep.equal({ ready: true });
      const holder = await call(url, '/readyz', { headers: { 'x-api-key': 'second-key' } });
      expect(holder.json).to.deep.include({ ready: true });
      expect((holder.json.models as Array<{ name: string }>).map((m) => m.name)).to.deep.equal([MODEL]);
      // An open API (no keys) shows the same details to everyone, as its /v1/models does.
      expect((await call(base, '/readyz')).json).to.have.property('models');
    });

    it('takes a replaced key set on the next request, and refuses an empty one', async () => {
      const keys = new ApiKeyCheck(['old-key']);
      const live = await serve({ apiKeys: keys });
      expect((await call(live, '/v1/models', { headers: { authorization: 'Bearer old-key' } })).status).to.equal(200);
      keys.replace(['new-key']);
      expect((await call(live, '/v1/models', { headers: { authorization: 'Bearer old-key' } })).status).to.equal(401);
      expect((await call(live, '/v1/models', { headers: { authorization: 'Bearer new-key' } })).status).to.equal(200);
      expect(() => keys.replace([])).to.throw(RangeError);
      expect((await call(live, '/v1/models')).status).to.equal(401);
    });

    it('serves the public paths it is given without a key, and nothing else', async () => {
      const withPage = await serve({ options: { apiKeys: ['k'] }, routers: [visionRouter({ registry })], publicPaths: demoPagePaths() });
      const page = await call(withPage, '/demo');
      expect(page.status).to.equal(200);
      expect(page.headers.get('content-type')).to.match(/^text\/html/);
      expect((await call(withPage, '/v1/vision/facial-expressions', { json: { image: { b64: '' } } })).status).to.equal(401);
      expect((await call(withPage, '/v1/models')).status).to.equal(401);
    });
  });

  it('leaks no engine tensors over 1,000 HTTP requests', async () => {
    const body = JSON.stringify({ instances: [grayImage(11)] });
    const send = async (n: number): Promise<void> => {
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next++ < n) {
          const res = await fetch(`${base}${predictPath}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
          expect(res.status).to.equal(200);
          await res.arrayBuffer();
        }
      };
      await Promise.all([lane(), lane(), lane(), lane()]);
    };
    const tensors = async (): Promise<number> => {
      const stats = await registry.engineStats();
      return stats.reduce((sum, thread) => sum + Object.values(thread.memory).reduce((s, m) => s + m.numTensors, 0), 0);
    };
    await send(20);
    const warm = await tensors();
    expect(warm).to.be.greaterThan(0); // the model's weights
    await send(1_000);
    expect(await tensors()).to.equal(warm);
  });
});
