import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createOnnxSession } from '../../../../inference-runtime/compiler/onnxSession.js';
import { compileAndVerify, randomInputs } from '../../../../inference-runtime/compiler/verify.js';

const MODELS_DIR = fileURLToPath(new URL('../../../../node_modules/@vladmandic/human/models/', import.meta.url));

describe('compiler: the default pool compiles to verified ONNX', function () {
  this.timeout(300_000);
  let cacheDir: string;

  before(async () => {
    cacheDir = await mkdtemp(path.join(os.tmpdir(), 'compiler-pool-'));
  });
  after(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });

  for (const [model, input, outputs] of [
    ['emotion', 'input_1', { Identity: [-1, 7] }],
    ['blazeface', 'input', { Identity_3: [-1, 384, 16], Identity: [-1, 512, 1], Identity_1: [-1, 384, 1], Identity_2: [-1, 512, 16] }],
  ] as const) {
    it(`${model}: matches tfjs-wasm at batch 1 and 3, with a dynamic batch and the tfjs signature`, async () => {
      const result = await compileAndVerify({ modelJsonPath: path.join(MODELS_DIR, `${model}.json`), cacheDir });
      if (!result.verified) expect.fail(result.reason);
      expect(result.comparedInputs).to.deep.equal(['3 seeded inputs at batch 1', '1 seeded input at batch 3']);
      expect(result.inputs.map((i) => i.name)).to.deep.equal([input]);
      expect(Object.fromEntries(result.outputs.map((o) => [o.name, o.shape]))).to.deep.equal(outputs);
      expect(result.outputs.map((o) => o.name)).to.deep.equal(Object.keys(outputs));

      const session = await createOnnxSession(result.onnxPath, { intraOpThreads: 1 });
      try {
        const out = await session.run(randomInputs(result.inputs, 8, 5));
        for (const o of result.outputs) expect(out[o.name].shape).to.deep.equal([8, ...o.shape.slice(1)]);
      } finally {
        await session.release();
      }
    });
  }

  it('centernet: matches tfjs-wasm with its batch fixed at 1 (its detection head flattens the batch)', async () => {
    const result = await compileAndVerify({ modelJsonPath: path.join(MODELS_DIR, 'centernet.json'), cacheDir });
    if (!result.verified) expect.fail(result.reason);
    expect(result.dynamicBatch).to.equal(false);
    expect(result.inputs).to.deep.equal([{ name: 'tower_0/images', dtype: 'float32', shape: [1, 512, 512, 3] }]);
    expect(result.outputs.map((o) => o.name)).to.deep.equal(['tower_0/wh', 'tower_0/keypoints', 'tower_0/detections']);
    expect(result.staticBatchReasons.join('\n')).to.include('tower_0/BatchGather/Reshape_2');
    expect(result.maxAbsDiff['tower_0/keypoints']).to.be.lessThan(1e-5);
  });
});
