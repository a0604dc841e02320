/**
 * Inference throughput of the facial-expression model with 1 and 2 worker threads (and in-process), through
 * the registry as requests see it. Not part of the test suite: its numbers depend on how idle the machine is.
 *
 *   npx tsx test/integration/inference-runtime/workerScaling.ts [inferences=400] [model=facial-expression]
 */
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultPool } from '../../../inference-runtime/config/defaultPool.js';
import { exampleInputs } from '../../../inference-runtime/core/exampleInputs.js';
import { createModelRegistry } from '../../../inference-runtime/core/modelRegistry.js';

const count = Number(process.argv[2] ?? 400);
const name = process.argv[3] ?? 'facial-expression';
const model = defaultPool().models.find((m) => m.name === name);
if (!model) throw new Error(`no built-in model ${name}`);

async function throughput(workers: number): Promise<number> {
  const registry = createModelRegistry(
    { models: [model!] },
    { workers, benchmark: false, repository: { cacheDir: path.join(os.tmpdir(), 'mloffload-scaling-cache') } },
  );
  try {
    await registry.whenSettled();
    const serving = registry.resolve(model!.name);
    const sig = serving.signature();
    let sent = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: Math.max(1, workers) * 2 }, async () => {
        while (sent++ < count) await serving.infer(exampleInputs(sig.inputs, 1, model!.preprocessing), { transfer: true });
      }),
    );
    return count / ((performance.now() - t0) / 1000);
  } finally {
    await registry.close();
  }
}

const results: Record<string, number> = {};
for (const workers of [0, 1, 2]) results[workers === 0 ? 'in-process' : `${workers} worker(s)`] = await throughput(workers);
const one = results['1 worker(s)'];
console.log(JSON.stringify({ model: name, inferences: count, perSecond: results, scaling1to2: results['2 worker(s)'] / one, loadavg: os.loadavg() }, null, 2));
