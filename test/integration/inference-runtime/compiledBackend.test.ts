import { readdir, readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';
import sharp from 'sharp';
import { COMPILED_BACKEND_NAME } from '../../../inference-runtime/backends/compiledArtifact.js';
import { FACIAL_EXPRESSION, visionPool } from '../../../inference-runtime/config/defaultPool.js';
import type { PoolConfig, PoolModel, Preprocessing } from '../../../inference-runtime/config/types.js';
import { exampleInputs } from '../../../inference-runtime/core/exampleInputs.js';
import { createModelRegistry, type PoolModelRegistry } from '../../../inference-runtime/dataplane/modelRegistry.js';
import type { HostTensor, NamedTensors } from '../../../inference-runtime/core/tensor.js';
import { findPackageDir } from '../../../inference-runtime/core/npmPackage.js';

const faceApiDemo = path.join(findPackageDir('@vladmandic/face-api')!, 'demo');
const cumsumModel = fileURLToPath(new URL('../../fixtures/models/cumsum/model.json', import.meta.url));

/** The verification rule of the compiler, applied to whole outputs: |a - b| <= absolute + relative * max|b|. */
const TOLERANCE = { absolute: 1e-4, relative: 1e-3 };

function expectClose(what: string, got: HostTensor, want: HostTensor): void {
  expect(got.shape, `${what} shape`).to.deep.equal(want.shape);
  const a = got.data as Float32Array;
  const b = want.data as Float32Array;
  let maxDiff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  expect(maxDiff, `${what}: max |compiled - tfjs| (output range ${scale})`).to.be.at.most(TOLERANCE.absolute + TOLERANCE.relative * scale);
}

/**
 * CenterNet's detections are its top 100 of a ranking; rows whose scores tie may trade places between engines,
 * so confident rows are compared as a set: each tfjs row scoring >= 0.2 has a compiled row of the same class
 * with the same box and score within tolerance.
 */
function expectSameDetections(what: string, got: HostTensor, want: HostTensor): void {
  const rows = (t: HostTensor) => Array.from({ length: t.shape[1] }, (_, i) => Array.from((t.data as Float32Array).subarray(i * 6, i * 6 + 6)));
  const confident = (t: HostTensor) => rows(t).filter((r) => r[4] >= 0.2);
  const ours = confident(got);
  const theirs = confident(want);
  expect(ours.length, `${what}: confident detections`).to.equal(theirs.length);
  const eps = TOLERANCE.absolute + TOLERANCE.relative * 512;
  for (const r of theirs) {
    const match = ours.find((o) => o[5] === r[5] && o.every((v, k) => Math.abs(v - r[k]) <= eps));
    expect(match, `${what}: tfjs detection [${r.map((v) => v.toFixed(3)).join(', ')}] found compiled`).to.not.equal(undefined);
  }
}

/** A photo as a model's preprocessing describes it (resized to fill, colour, value range). */
async function photoInput(file: string, pre: Preprocessing): Promise<Float32Array> {
  const { data } = await sharp(file).resize(pre.width, pre.height, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const [lo, hi] = pre.range ?? [0, 255];
  const map = (v: number) => lo + (v / 255) * (hi - lo);
  const pixels = pre.width * pre.height;
  if (pre.colour === 'grayscale') {
    const [wr, wg, wb] = pre.grayscaleWeights ?? [0.299, 0.587, 0.114];
    return Float32Array.from({ length: pixels }, (_, i) => map(wr * data[i * 3] + wg * data[i * 3 + 1] + wb * data[i * 3 + 2]));
  }
  return Float32Array.from({ length: pixels * 3 }, (_, i) => map(data[i]));
}

const photos = [1, 2, 3, 4, 5, 6].map((n) => path.join(faceApiDemo, `sample${n}.jpg`));

async function inputsFor(model: PoolModel, inputName: string): Promise<NamedTensors[]> {
  const pre = model.preprocessing!;
  const channels = pre.colour === 'grayscale' ? 1 : 3;
  const fromPhotos = await Promise.all(
    photos.map(async (file) => ({ [inputName]: { dtype: 'float32', shape: [1, pre.height, pre.width, channels], data: await photoInput(file, pre) } }) as NamedTensors),
  );
  const seeded = [3, 4].map((seed) => exampleInputs([{ name: inputName, dtype: 'float32', shape: [1, pre.height, pre.width, channels] }], 1, pre, seed));
  return [...fromPhotos, ...seeded];
}

const tensorsHeld = async (registry: PoolModelRegistry): Promise<number[]> =>
  (await registry.engineStats()).map((s) => Object.values(s.memory).reduce((n, m) => n + m.numTensors, 0));


describe('model registry: tfjs graph models compiled to ONNX', function () {
  this.timeout(600_000);
  let dir: string;
  const registries: PoolModelRegistry[] = [];

  function start(pool: PoolConfig, options: Parameters<typeof createModelRegistry>[1] = {}): PoolModelRegistry {
    const registry = createModelRegistry(pool, {
      benchmark: false,
      repository: { cacheDir: path.join(dir, 'cache') },
      logger: { info: () => undefined, warn: () => undefined },
      ...options,
    });
    registries.push(registry);
    return registry;
  }

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'compiled-registry-'));
  });
  afterEach(async () => {
    await Promise.all(registries.splice(0).map((r) => r.close()));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves every default-pool model compiled (auto) with the outputs tfjs gives (forced tfjs), on photos and seeded inputs', async () => {
    const compiled = start(visionPool(), { workers: 1 });
    const tfjs = start(visionPool(), { workers: 0, backend: 'tfjs' });
    await Promise.all([compiled.whenSettled(), tfjs.whenSettled()]);

    for (const s of compiled.list()) {
      expect(s, s.reason).to.include({ state: 'AVAILABLE', backend: COMPILED_BACKEND_NAME });
      expect(s.compilation?.tolerance).to.deep.equal(TOLERANCE);
    }
    for (const s of tfjs.list()) {
      expect(s).to.include({ state: 'AVAILABLE', backend: 'tfjs-wasm' });
      expect(s.compilation).to.equal(undefined);
    }
    // centernet keeps batch 1 and says why; the others take any batch.
    const detector = compiled.resolve('object-detector');
    expect(detector.signature().inputs[0].shape).to.deep.equal([1, 512, 512, 3]);
    expect(detector.status().backendNote).to.match(/^batch fixed at 1: Reshape tower_0\/BatchGather/);
    expect(detector.status().compilation?.dynamicBatch).to.equal(false);
    expect(compiled.resolve('face-detector').signature().inputs[0].shape).to.deep.equal([-1, 256, 256, 3]);
    expect(compiled.resolve('facial-expression').signature().inputs[0].shape).to.deep.equal([-1, 64, 64, 1]);

    const held = await tensorsHeld(compiled);
    for (const model of visionPool().models) {
      const a = compiled.resolve(model.name);
      const b = tfjs.resolve(model.name);
      expect(a.signature().outputs.map((o) => o.name)).to.deep.equal(b.signature().outputs.map((o) => o.name));
      const inputs = await inputsFor(model, a.signature().inputs[0].name);
      for (const [i, input] of inputs.entries()) {
        const [got, want] = await Promise.all([a.infer(input), b.infer(input)]);
        for (const [name, t] of Object.entries(want)) {
          const what = `${model.name} input ${i} output ${name}`;
          if (name === 'tower_0/detections') expectSameDetections(what, got[name], t);
          else expectClose(what, got[name], t);
        }
      }
    }
    expect(await tensorsHeld(compiled)).to.deep.equal(held);
  });

  it('micro-batches compiled models with a dynamic batch and never batches the one fixed at 1', async () => {
    const pool: PoolConfig = { ...visionPool(), batching: { maxBatchSize: 4, maxDelayMs: 50 } };
    const registry = start(pool, { workers: 1 });
    const reference = start(visionPool(), { workers: 0 });
    await Promise.all([registry.whenSettled(), reference.whenSettled()]);
    for (const name of ['face-detector', 'object-detector']) {
      const model = pool.models.find((m) => m.name === name)!;
      const inputs = (await inputsFor(model, registry.resolve(name).signature().inputs[0].name)).slice(0, 4);
      // Sent together: the face detector runs them as one batch; the object detector (batch 1) one by one.
      const together = await Promise.all(inputs.map((x) => registry.resolve(name).infer(x)));
      for (const [i, input] of inputs.entries()) {
        const alone = await reference.resolve(name).infer(input);
        for (const [out, t] of Object.entries(alone)) {
          expect(together[i][out].shape[0], `${name} ${out}`).to.equal(1);
          if (out === 'tower_0/detections') expectSameDetections(`${name} ${i} ${out}`, together[i][out], t);
          else expectClose(`${name} ${i} ${out}`, together[i][out], t);
        }
      }
    }
  });

  it('falls back to tfjs-wasm for a graph with an op the compiler lacks, and refuses it when onnx is forced', async () => {
    const base: PoolModel = { name: 'cumsum', task: 'test/cumsum', framework: 'tfjs-graph', version: '1', source: { uri: pathToFileURL(cumsumModel).href } };
    const registry = start({ models: [base, { ...base, name: 'cumsum-onnx', backend: 'onnx' }] }, { workers: 1 });
    await registry.whenSettled();

    const fallback = registry.resolve('cumsum').status();
    expect(fallback).to.include({ state: 'AVAILABLE', backend: 'tfjs-wasm', backendNote: `${COMPILED_BACKEND_NAME} not used: unsupported op Cumsum in model` });
    const forced = registry.resolve('cumsum-onnx').status();
    expect(forced).to.include({ state: 'UNAVAILABLE', reason: 'backend onnx: no verified compiled model: unsupported op Cumsum in model' });

    // y = cumsum(x W) along the row: with x = [1, 0, 0, 0] the row of W, summed up.
    const weights = new Float32Array((await readFile(path.join(path.dirname(cumsumModel), 'weights.bin'))).buffer.slice(0, 48));
    const out = await registry.resolve('cumsum').infer({ x: { dtype: 'float32', shape: [1, 4], data: new Float32Array([1, 0, 0, 0]) } });
    const w = Array.from(weights.subarray(0, 3));
    expect(Array.from(out.y.data as Float32Array).map((v) => Number(v.toFixed(5)))).to.deep.equal(
      [w[0], w[0] + w[1], w[0] + w[1] + w[2]].map((v) => Number(v.toFixed(5))),
    );
  });

  it('detects a damaged compiled model in the cache and compiles it again', async () => {
    const repository = { cacheDir: path.join(dir, 'damage-cache') };
    const first = start({ models: [FACIAL_EXPRESSION] }, { workers: 0, repository });
    await first.whenSettled();
    expect(first.resolve('facial-expression').status().compilation).to.include({ fromCache: false });
    const expected = await first.resolve('facial-expression').infer(exampleInputs([{ name: 'input_1', dtype: 'float32', shape: [1, 64, 64, 1] }], 1, undefined, 5));
    await first.close();

    const derived = path.join(repository.cacheDir, 'derived');
    const [digest] = await readdir(derived);
    const onnxFile = (await readdir(path.join(derived, digest))).find((f) => f.endsWith('.onnx'))!;
    const bytes = await readFile(path.join(derived, digest, onnxFile));
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(path.join(derived, digest, onnxFile), bytes);

    const second = start({ models: [FACIAL_EXPRESSION] }, { workers: 1, repository });
    await second.whenSettled();
    const status = second.resolve('facial-expression').status();
    expect(status).to.include({ state: 'AVAILABLE', backend: COMPILED_BACKEND_NAME });
    expect(status.compilation).to.include({ fromCache: false, rebuiltBecause: 'the cached compiled model did not match its recorded sha256' });
    const again = await second.resolve('facial-expression').infer(exampleInputs([{ name: 'input_1', dtype: 'float32', shape: [1, 64, 64, 1] }], 1, undefined, 5));
    expectClose('rebuilt model', again.Identity, expected.Identity);
    await second.close();

    const third = start({ models: [FACIAL_EXPRESSION] }, { workers: 0, repository });
    await third.whenSettled();
    expect(third.resolve('facial-expression').status().compilation).to.include({ fromCache: true });
  });

  it('uses tfjs for every tfjs model when MLOFFLOAD_BACKEND=tfjs, whatever the pool asks', async () => {
    const previous = process.env.MLOFFLOAD_BACKEND;
    process.env.MLOFFLOAD_BACKEND = 'tfjs';
    try {
      const registry = start({ models: [{ ...FACIAL_EXPRESSION, backend: 'onnx' }] }, { workers: 0 });
      await registry.whenSettled();
      expect(registry.resolve('facial-expression').status()).to.include({ state: 'AVAILABLE', backend: 'tfjs-wasm' });
    } finally {
      if (previous === undefined) delete process.env.MLOFFLOAD_BACKEND;
      else process.env.MLOFFLOAD_BACKEND = previous;
    }
  });
});
