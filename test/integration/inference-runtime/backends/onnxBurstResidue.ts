// Run as its own process by onnxMemory.test.ts, so that its RSS is the engine's alone and not that of a
// test runner holding every other test's garbage. Prints one JSON line: the backend and the smallest RSS
// growth over the pre-burst baseline seen within `settleMs` after the burst.
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { BackendOptions } from '../../../../inference-runtime/backends/backendSelection.js';
import { FACIAL_EXPRESSION } from '../../../../inference-runtime/config/defaultPool.js';
import { createModelRegistry } from '../../../../inference-runtime/dataplane/modelRegistry.js';

const CACHE_DIR = path.join(tmpdir(), 'mloffload-http-test-cache');

/** 64 rows (the row cap) of the expression model's 64x64x1 input. */
function batch(): Float32Array {
  const data = new Float32Array(64 * 64 * 64);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 255) / 127.5 - 1;
  return data;
}

const backendOptions = JSON.parse(process.argv[2] ?? '{}') as BackendOptions;
const settleMs = Number(process.argv[3] ?? '10000');
// In-process (no worker threads), so this process's RSS is the engine's.
const registry = createModelRegistry({ models: [FACIAL_EXPRESSION] }, { repository: { cacheDir: CACHE_DIR }, workers: 0, benchmark: false, backendOptions });
await registry.whenSettled();
const model = registry.resolve(FACIAL_EXPRESSION.name);
const input = model.signature().inputs[0]!.name;
const one = { [input]: { dtype: 'float32' as const, shape: [1, 64, 64, 1], data: batch().slice(0, 4096) } };
for (let i = 0; i < 5; i++) await model.infer(one);
const before = process.memoryUsage.rss();
for (let i = 0; i < 3; i++) await model.infer({ [input]: { dtype: 'float32', shape: [64, 64, 64, 1], data: batch() } });
let residue = process.memoryUsage.rss() - before;
// Polling, not a fixed wait: the smallest growth seen while the allocator hands memory back.
for (const end = Date.now() + settleMs; Date.now() < end; await delay(250)) residue = Math.min(residue, process.memoryUsage.rss() - before);
process.stdout.write(`${JSON.stringify({ backend: registry.list()[0]!.backend, residueBytes: residue })}\n`);
await registry.close();
