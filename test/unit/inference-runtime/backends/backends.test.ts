import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import type { Backend, LoadedModel, ModelFiles } from '../../../../inference-runtime/core/backend.js';
import { backendCandidates, BackendSet, engines } from '../../../../inference-runtime/backends/backendSelection.js';
import { effectivePreference, planEngine } from '../../../../inference-runtime/backends/enginePlan.js';
import { intraOpThreads } from '../../../../inference-runtime/core/intraOpThreads.js';
import { OnnxBackend, onnxSessionOptions } from '../../../../inference-runtime/backends/onnxBackend.js';
import { TfjsBackend } from '../../../../inference-runtime/backends/tfjsBackend.js';
import { FACIAL_EXPRESSION } from '../../../../inference-runtime/config/defaultPool.js';
import type { PoolModel } from '../../../../inference-runtime/config/types.js';
import { exampleInputs } from '../../../../inference-runtime/core/exampleInputs.js';
import { ModelRepository } from '../../../../inference-runtime/repository/modelRepository.js';

const affineOnnx = fileURLToPath(new URL('../../../fixtures/models/affine.onnx', import.meta.url));

function onnxModel(): PoolModel {
  return { name: 'affine', task: 'test/affine', framework: 'onnx', version: '1', source: { uri: pathToFileURL(affineOnnx).href } };
}

describe('backends', function () {
  this.timeout(120_000);
  let dir: string;
  let repo: ModelRepository;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'backends-'));
    repo = new ModelRepository({ cacheDir: path.join(dir, 'cache') });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('tfjs', () => {
    let backend: TfjsBackend;
    let emotion: LoadedModel;

    before(async () => {
      backend = await TfjsBackend.create();
      emotion = await backend.load(FACIAL_EXPRESSION, await repo.fetch(FACIAL_EXPRESSION));
    });
    after(async () => {
      await emotion?.dispose();
    });

    it('runs on WASM, never on the pure-JS cpu backend', () => {
      expect(backend.name).to.equal('tfjs-wasm');
      expect(tf.getBackend()).to.equal('wasm');
    });

    it('publishes the graph signature, output shapes included, with -1 for the batch dimension', () => {
      expect(emotion.signature).to.deep.equal({
        inputs: [{ name: 'input_1', dtype: 'float32', shape: [-1, 64, 64, 1] }],
        outputs: [{ name: 'Identity', dtype: 'float32', shape: [-1, 7] }],
      });
    });

    it('returns probabilities per row and frees every tensor it made', async () => {
      const before = backend.memory().numTensors;
      const out = await emotion.infer(exampleInputs(emotion.signature.inputs, 3, FACIAL_EXPRESSION.preprocessing));
      expect(out.Identity.shape).to.deep.equal([3, 7]);
      const p = out.Identity.data as Float32Array;
      for (let row = 0; row < 3; row++) {
        const sum = p.subarray(row * 7, row * 7 + 7).reduce((a, b) => a + b, 0);
        expect(sum).to.be.closeTo(1, 1e-3);
      }
      // The output owns its buffer, so it can be transferred between threads.
      expect(p.byteLength).to.equal(p.buffer.byteLength);
      expect(backend.memory().numTensors).to.equal(before);
    });

    it('disposes the model weights on dispose', async () => {
      const before = backend.memory().numTensors;
      const second = await backend.load(FACIAL_EXPRESSION, await repo.fetch(FACIAL_EXPRESSION));
      expect(backend.memory().numTensors).to.be.greaterThan(before);
      await second.dispose();
      expect(backend.memory().numTensors).to.equal(before);
    });

    it('loads tfjs-layers models', async () => {
      const layersDir = path.join(dir, 'layers');
      const net = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2, activation: 'softmax' })] });
      await net.save(
        tf.io.withSaveHandler(async (artifacts) => {
          const { mkdir } = await import('node:fs/promises');
          await mkdir(layersDir, { recursive: true });
          await writeFile(
            path.join(layersDir, 'model.json'),
            JSON.stringify({
              format: 'layers-model',
              modelTopology: artifacts.modelTopology,
              weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
            }),
          );
          await writeFile(path.join(layersDir, 'weights.bin'), Buffer.from(artifacts.weightData as ArrayBuffer));
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
      );
      const x = tf.tensor2d([[1, 2, 3]]);
      const expected = await (net.predict(x) as tf.Tensor).data();
      tf.dispose([x]);
      net.dispose();

      const model: PoolModel = {
        name: 'tiny',
        task: 'test/tiny',
        framework: 'tfjs-layers',
        version: '1',
        source: { uri: pathToFileURL(path.join(layersDir, 'model.json')).href },
      };
      const loaded = await backend.load(model, await repo.fetch(model));
      try {
        expect(loaded.signature.inputs[0]).to.include({ dtype: 'float32' });
        expect(loaded.signature.inputs[0].shape).to.deep.equal([-1, 3]);
        expect(loaded.signature.outputs[0].shape).to.deep.equal([-1, 2]);
        const out = await loaded.infer({ [loaded.signature.inputs[0].name]: { dtype: 'float32', shape: [1, 3], data: new Float32Array([1, 2, 3]) } });
        const got = Object.values(out)[0].data as Float32Array;
        expect(Array.from(got)).to.deep.equal(Array.from(expected));
      } finally {
        await loaded.dispose();
      }
    });
  });

  describe('onnx', () => {
    it('loads an ONNX file, publishes its signature and computes', async () => {
      const backend = await OnnxBackend.create({ intraOpThreads: 1 });
      const loaded = await backend.load(onnxModel(), await repo.fetch(onnxModel()));
      try {
        expect(loaded.backendName).to.equal('onnx');
        expect(loaded.signature).to.deep.equal({
          inputs: [{ name: 'x', dtype: 'float32', shape: [-1, 4] }],
          outputs: [{ name: 'y', dtype: 'float32', shape: [-1, 4] }],
        });
        const out = await loaded.infer({ x: { dtype: 'float32', shape: [2, 4], data: new Float32Array([0, 1, 2, 3, -1, -2, 0.5, 10]) } });
        expect(out.y.shape).to.deep.equal([2, 4]);
        expect(Array.from(out.y.data as Float32Array)).to.deep.equal([1, 3, 5, 7, -1, -3, 2, 21]);
      } finally {
        await loaded.dispose();
      }
    });

    it("opens every session with intra-op threads that block instead of spinning, and onnxruntime takes the setting", async () => {
      for (const threads of [undefined, 1, 2]) {
        const options = onnxSessionOptions({ intraOpThreads: threads });
        expect(options.intraOpNumThreads).to.equal(threads ?? intraOpThreads(1));
        expect(options.extra).to.deep.equal({ session: { intra_op: { allow_spinning: '0' } } });
      }
      // Two threads: the setting matters only with a thread pool, and a value the binding refused would fail the load.
      const loaded = await (await OnnxBackend.create({ intraOpThreads: 2 })).load(onnxModel(), await repo.fetch(onnxModel()));
      try {
        const out = await loaded.infer({ x: { dtype: 'float32', shape: [1, 4], data: new Float32Array([0, 1, 2, 3]) } });
        expect(Array.from(out.y.data as Float32Array)).to.deep.equal([1, 3, 5, 7]);
      } finally {
        await loaded.dispose();
      }
    });
  });

  describe('selection', () => {
    const graph = { name: 'g', framework: 'tfjs-graph', backend: 'auto' } as const;

    it('auto means tfjs for tfjs models until a compiled backend is available, which it then prefers', () => {
      expect(backendCandidates(graph, new Set(['tfjs', 'onnx']))).to.deep.equal(['tfjs']);
      expect(backendCandidates(graph, new Set(['tfjs', 'onnx', 'compiled']))).to.deep.equal(['compiled', 'tfjs']);
      expect(backendCandidates({ ...graph, framework: 'tfjs-layers' }, new Set(['tfjs', 'compiled']))).to.deep.equal(['tfjs']);
      expect(backendCandidates({ ...graph, framework: 'onnx' }, new Set(['tfjs', 'onnx']))).to.deep.equal(['onnx']);
    });

    it('honours explicit choices and refuses impossible ones', () => {
      expect(backendCandidates({ ...graph, backend: 'tfjs' }, new Set(['tfjs', 'compiled']))).to.deep.equal(['tfjs']);
      expect(backendCandidates({ ...graph, backend: 'onnx' }, new Set(['tfjs', 'compiled']))).to.deep.equal(['compiled']);
      expect(() => backendCandidates({ ...graph, backend: 'onnx' }, new Set(['tfjs']))).to.throw(/needs the tfjs-graph to ONNX compiler/);
      expect(() => backendCandidates({ ...graph, framework: 'onnx', backend: 'tfjs' }, new Set(['tfjs', 'onnx']))).to.throw(/cannot run an onnx model/);
    });

    it('loads on the planned engine only: the plan is the one choice, and no thread chooses again', async () => {
      const refusing: Backend = {
        name: 'onnx (compiled from tfjs-graph)',
        supports: (f) => f === 'tfjs-graph',
        load: async () => {
          throw new Error('unsupported op FusedDepthwiseConv2dNative');
        },
      };
      const set = new BackendSet({ tfjs: () => TfjsBackend.create(), compiled: async () => refusing });
      const files: ModelFiles = await repo.fetch(FACIAL_EXPRESSION);
      const refused = await set.load(FACIAL_EXPRESSION, files, { kind: 'compiled' }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).to.be.instanceOf(Error).with.property('message', 'unsupported op FusedDepthwiseConv2dNative');
      const loaded = await set.load(FACIAL_EXPRESSION, files, { kind: 'tfjs' });
      try {
        expect(loaded.backendName).to.equal('tfjs-wasm');
      } finally {
        await loaded.dispose();
      }
    });

    it('picks an engine for any framework an engine lists, one line per engine in the table', () => {
      for (const kind of Object.keys(engines) as (keyof typeof engines)[]) {
        for (const framework of engines[kind].frameworks) {
          expect(backendCandidates({ name: 'm', framework }, new Set(Object.keys(engines) as (keyof typeof engines)[])), `${kind} ${framework}`).to.include(kind);
        }
      }
    });

    it('lets a runtime-wide choice override the pool where the framework allows it', () => {
      expect(effectivePreference({ framework: 'tfjs-graph', backend: 'onnx' }, 'tfjs')).to.equal('tfjs');
      expect(effectivePreference({ framework: 'tfjs-graph', backend: 'tfjs' }, 'onnx')).to.equal('onnx');
      expect(effectivePreference({ framework: 'tfjs-layers', backend: 'tfjs' }, 'onnx')).to.equal('tfjs');
      expect(effectivePreference({ framework: 'onnx' }, 'tfjs')).to.equal('auto');
      expect(effectivePreference({ framework: 'tfjs-graph', backend: 'tfjs' }, undefined)).to.equal('tfjs');
    });

    it('plans tfjs with the reason when compilation is rejected, and refuses when onnx was required', async () => {
      const files: ModelFiles = await repo.fetch(FACIAL_EXPRESSION);
      const compile = async () => ({ verified: false as const, reason: 'outside tolerance: output Identity differs by 3.0e-2 (allowed 1.1e-3)', fromCache: false });
      const auto = await planEngine(FACIAL_EXPRESSION, files, { compile });
      expect(auto).to.deep.equal({
        plan: { kind: 'tfjs' },
        note: 'onnx (compiled from tfjs-graph) not used: outside tolerance: output Identity differs by 3.0e-2 (allowed 1.1e-3)',
      });
      const forced = planEngine({ ...FACIAL_EXPRESSION, backend: 'onnx' }, files, { compile });
      await forced.then(
        () => expect.fail('expected a refusal'),
        (err: Error) => expect(err.message).to.equal('backend onnx: no verified compiled model: outside tolerance: output Identity differs by 3.0e-2 (allowed 1.1e-3)'),
      );
      expect(await planEngine({ ...FACIAL_EXPRESSION, backend: 'tfjs' }, files, { compile })).to.deep.equal({ plan: { kind: 'tfjs' } });
    });

    it('gives each onnxruntime session the cores divided among the workers, at least one', () => {
      expect(intraOpThreads(1, 2)).to.equal(2);
      expect(intraOpThreads(2, 2)).to.equal(1);
      expect(intraOpThreads(3, 2)).to.equal(1);
      expect(intraOpThreads(2, 8)).to.equal(4);
    });
  });
});
