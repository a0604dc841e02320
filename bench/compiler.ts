/**
 * Native inference benchmark: each default-pool model on tfjs-wasm and as compiled ONNX (onnxruntime-node,
 * 1 and 2 intra-op threads), at batch 1 and 8. Prints a markdown table; latencies are medians.
 *
 *   npx tsx bench/compiler.ts [emotion blazeface centernet]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NamedTensors } from '../inference-runtime/core/tensor.js';
import { createOnnxSession } from '../inference-runtime/compiler/onnxSession.js';
import { loadTfjsReference } from '../inference-runtime/compiler/tfjsReference.js';
import { readTfjsModel } from '../inference-runtime/compiler/tfjsModel.js';
import { compileAndVerify, randomInputs } from '../inference-runtime/compiler/verify.js';

const MODELS_DIR = fileURLToPath(new URL('../node_modules/@vladmandic/human/models/', import.meta.url));
const BUDGET_MS = Number(process.env.BENCH_BUDGET_MS ?? 3000);

/** Median wall time of `run` after warm-up, taking at least 5 samples or BUDGET_MS. */
async function median(run: () => Promise<unknown>): Promise<number> {
  for (let k = 0; k < 3; k++) await run();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 5 || (performance.now() - start < BUDGET_MS && times.length < 200)) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  times.sort((x, y) => x - y);
  return times[times.length >> 1];
}

/** Splits a batch into single samples for engines/graphs that only take batch 1. */
function samples(inputs: NamedTensors, batch: number): NamedTensors[] {
  return Array.from({ length: batch }, (_, k) =>
    Object.fromEntries(
      Object.entries(inputs).map(([name, t]) => {
        const per = t.shape.slice(1).reduce((n, d) => n * d, 1);
        return [name, { ...t, shape: [1, ...t.shape.slice(1)], data: (t.data as Float32Array).slice(k * per, (k + 1) * per) }];
      }),
    ),
  );
}

interface Row {
  model: string;
  engine: string;
  batch: number;
  ms: number;
  gflops: number;
  speedup: number;
}

async function benchModel(model: string, cacheDir: string): Promise<Row[]> {
  const modelJsonPath = path.join(MODELS_DIR, `${model}.json`);
  const compiled = await compileAndVerify({ modelJsonPath, cacheDir });
  if (!compiled.verified) throw new Error(`${model}: ${compiled.reason}`);
  const source = await readTfjsModel(modelJsonPath);
  const tfjs = await loadTfjsReference(source.json, source.weightData);
  const rows: Row[] = [];
  const flops = compiled.flopsPerSample;
  const declaredBatch = source.json.modelTopology.node.find((n) => n.op === 'Placeholder')?.attr?.shape?.shape?.dim?.[0]?.size;
  const tfjsTakesBatches = Number(declaredBatch ?? -1) === -1;
  for (const batch of [1, 8]) {
    const specs = compiled.inputs.map((s) => ({ ...s, shape: [-1, ...s.shape.slice(1)] }));
    const inputs = randomInputs(specs, batch, 1);
    const single = samples(inputs, batch);
    const tfjsMs = await median(async () => {
      if (tfjsTakesBatches || batch === 1) await tfjs.run(inputs);
      else for (const s of single) await tfjs.run(s);
    });
    rows.push({ model, engine: 'tfjs-wasm', batch, ms: tfjsMs, gflops: (flops * batch) / tfjsMs / 1e6, speedup: 1 });
    for (const threads of [1, 2]) {
      const session = await createOnnxSession(compiled.onnxPath, { intraOpThreads: threads });
      const ms = await median(async () => {
        if (compiled.dynamicBatch || batch === 1) await session.run(inputs);
        else for (const s of single) await session.run(s);
      });
      await session.release();
      rows.push({ model, engine: `onnx ${threads} thread${threads > 1 ? 's' : ''}`, batch, ms, gflops: (flops * batch) / ms / 1e6, speedup: tfjsMs / ms });
    }
  }
  tfjs.dispose();
  const note = compiled.dynamicBatch ? '' : ' (batch fixed at 1: batch 8 runs 8 calls)';
  console.error(`${model}: ${(flops / 1e6).toFixed(1)} MFLOP per sample${note}; max abs diff ${JSON.stringify(compiled.maxAbsDiff)}`);
  return rows;
}

const models = process.argv.slice(2).length ? process.argv.slice(2) : ['emotion', 'blazeface', 'centernet'];
const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'bench-compiler-'));
try {
  const rows: Row[] = [];
  for (const m of models) rows.push(...(await benchModel(m, cacheDir)));
  console.log(`machine: ${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('');
  console.log('| model | engine | batch | latency (ms) | GFLOP/s | speed-up vs tfjs-wasm |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.model} | ${r.engine} | ${r.batch} | ${r.ms.toFixed(2)} | ${r.gflops.toFixed(1)} | ${r.speedup.toFixed(1)}x |`);
  }
} finally {
  await rm(cacheDir, { recursive: true, force: true });
}
