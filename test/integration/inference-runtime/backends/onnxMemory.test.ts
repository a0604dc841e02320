import { expect } from 'chai';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BackendOptions } from '../../../../inference-runtime/backends/backendSelection.js';
import { FACIAL_EXPRESSION } from '../../../../inference-runtime/config/defaultPool.js';
import { createModelRegistry, type PoolModelRegistry } from '../../../../inference-runtime/core/modelRegistry.js';
import { eventually } from '../../../helpers/eventually.js';

const CACHE_DIR = path.join(tmpdir(), 'mloffload-http-test-cache');
const MiB = 2 ** 20;

/** 64 rows (the row cap) of the expression model's 64x64x1 input. */
function batch(): Float32Array {
  const data = new Float32Array(64 * 64 * 64);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 255) / 127.5 - 1;
  return data;
}

async function burstResidue(backendOptions: BackendOptions): Promise<{ registry: PoolModelRegistry; before: number }> {
  // In-process (no worker threads), so this process's RSS is the engine's.
  const registry = createModelRegistry({ models: [FACIAL_EXPRESSION] }, { repository: { cacheDir: CACHE_DIR }, workers: 0, benchmark: false, backendOptions });
  await registry.whenSettled();
  const model = registry.resolve(FACIAL_EXPRESSION.name);
  const input = model.signature().inputs[0]!.name;
  const one = { [input]: { dtype: 'float32' as const, shape: [1, 64, 64, 1], data: batch().slice(0, 4096) } };
  for (let i = 0; i < 5; i++) await model.infer(one);
  const before = process.memoryUsage.rss();
  for (let i = 0; i < 3; i++) await model.infer({ [input]: { dtype: 'float32', shape: [64, 64, 64, 1], data: batch() } });
  return { registry, before };
}

describe('ONNX session memory after a burst (real model, compiled ONNX)', function () {
  this.timeout(180_000);

  it('gives back what a batch of 64 rows allocated once the runs end (no memory arena keeping the peak)', async () => {
    const { registry, before } = await burstResidue({});
    try {
      expect(registry.list()[0]!.backend).to.match(/onnx/);
      // With onnxruntime's arena the session keeps ~100 MB here for as long as it lives.
      await eventually(() => expect(process.memoryUsage.rss() - before).to.be.below(40 * MiB), { timeout: 10_000, interval: 250 });
    } finally {
      await registry.close();
    }
  });
});
