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
import { createModelRegistry } from '../../../inference-runtime/dataplane/modelRegistry.js';

const count = Number(process.argv[2] ?? 400);
const name = process.argv[3] ?? 'facial-expression';
const model = defaultPool().models.find((m) => m.name === name);
if (!model) throw new Error(`no built-in model ${name}`);

/** Inferences per second, and CPU seconds the whole process (all threads) used per wall-clock second. */
async function throughput(workers: number): Promise<{ perSecond: number; cpuPerSecond: number }> {
  const registry = createModelRegistry(
    { models: [model!] },
    { workers, benchmark: false, repository: { cacheDir: path.join(os.tmpdir(), 'mloffload-scaling-cache') } },
  );
  try {
    await registry.whenSettled();
    const serving = registry.resolve(model!.name);
    const sig = serving.signature();
    let sent = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: Math.max(1, workers) * 2 }, async () => {
        while (sent++ < count) await serving.infer(exampleInputs(sig.inputs, 1, model!.preprocessing), { transfer: true });
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { perSecond: count / seconds, cpuPerSecond: (cpu.user + cpu.system) / 1e6 / seconds };
  } finally {
    await registry.close();
  }
}

const results: Record<string, { perSecond: number; cpuPerSecond: number }> = {};
for (const workers of [0, 1, 2]) results[workers === 0 ? 'in-process' : `${workers} worker(s)`] = await throughput(workers);
const scaling1to2 = results['2 worker(s)'].perSecond / results['1 worker(s)'].perSecond;
// cpuPerSecond near the worker count means the workers got their cores; far below it, other load took them.
console.log(JSON.stringify({ model: name, inferences: count, results, scaling1to2, loadavg: os.loadavg() }, null, 2));
