/**
 * Start to ready of the built runtime, cold (empty model cache: every tfjs graph model compiled to ONNX and
 * verified against tfjs) and warm (restarted on that cache), with the idle RSS after each; the time line of a
 * cold start (when each model was compiled and became available) says where the time went.
 *
 *   npm run build && npx tsx bench/startup.ts [--pool vision|flagship] [--rounds 2] [--idle-ms 5000]
 *     [--before <checkout with its own dist/>]
 *
 * With `--before`, each round starts that build and this one alternately on fresh caches, so both see the
 * same machine load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FACE_DETECTOR, FACIAL_EXPRESSION, visionPool } from '../inference-runtime/config/defaultPool.js';
import type { PoolConfig } from '../inference-runtime/config/types.js';
import { footprint, loadAverage, mainOf, poolFile, startRuntime } from './runtimeStart.js';

const { values } = parseArgs({
  options: {
    pool: { type: 'string', default: 'vision' },
    rounds: { type: 'string', default: '2' },
    'idle-ms': { type: 'string', default: '5000' },
    before: { type: 'string' },
    workers: { type: 'string' },
  },
});
const pools: Record<string, () => PoolConfig> = {
  vision: visionPool,
  flagship: () => structuredClone({ models: [FACE_DETECTOR, FACIAL_EXPRESSION] }),
};
const makePool = pools[values.pool];
if (!makePool) throw new Error(`--pool must be one of ${Object.keys(pools).join(', ')}`);
const pool = poolFile(makePool(), values.pool);
const rounds = Number(values.rounds);
const idleMs = Number(values['idle-ms']);
const workers = values.workers === undefined ? undefined : Number(values.workers);
const builds: Array<{ label: string; main: string }> = [
  ...(values.before ? [{ label: 'before', main: mainOf(path.resolve(values.before)) }] : []),
  { label: 'now', main: mainOf() },
];

interface Row {
  build: string;
  cache: 'cold' | 'warm';
  readyS: number;
  /** Spawn to the `models_ready` log line: models loaded and benchmarked. */
  measuredS: number;
  rssMiB: number;
  load: string;
  timeline: string;
}

async function once(main: string, cacheDir: string, cache: 'cold' | 'warm', build: string): Promise<Row> {
  const load = await loadAverage();
  const rt = await startRuntime({ main, pool, cacheDir, workers });
  try {
    const timeline = rt.log
      .filter((l) => l.event === 'model-compiled' || l.event === 'model-available' || l.event === 'model-unavailable')
      .map((l) => `${String(l.model)} ${l.event === 'model-compiled' ? 'compiled' : l.event === 'model-available' ? 'ready' : 'UNAVAILABLE'} ${(Number(l.atMs) / 1000).toFixed(1)}`)
      .join(', ');
    // Idle means after the load-time benchmarks too (taken after ready since this branch).
    const measured = await rt.event('models_ready', 300_000);
    await new Promise((r) => setTimeout(r, idleMs));
    const { runtimeMiB } = await footprint(rt.child.pid!);
    return { build, cache, readyS: rt.readyMs / 1000, measuredS: Number(measured.atMs) / 1000, rssMiB: runtimeMiB, load, timeline };
  } finally {
    await rt.stop();
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (let round = 0; round < rounds; round++) {
    // Alternate which build goes first, so neither always meets the same moment of the machine's load.
    const order = round % 2 === 0 ? builds : [...builds].reverse();
    for (const b of order) {
      const cacheDir = mkdtempSync(path.join(tmpdir(), 'mloffload-bench-startup-'));
      try {
        for (const cache of ['cold', 'warm'] as const) {
          const row = await once(b.main, cacheDir, cache, b.label);
          rows.push(row);
          process.stderr.write(`${JSON.stringify(row)}\n`);
        }
      } finally {
        rmSync(cacheDir, { recursive: true, force: true });
      }
    }
  }
  process.stdout.write(`pool ${values.pool}, ${workers ?? 'default'} workers, RSS ${idleMs} ms after the benchmarks\n\n`);
  process.stdout.write('| build | cache | start to ready s | to benchmarked s | idle RSS MiB | load avg (1/5/15 min) |\n|---|---|---:|---:|---:|---|\n');
  for (const r of rows) process.stdout.write(`| ${r.build} | ${r.cache} | ${r.readyS.toFixed(2)} | ${r.measuredS.toFixed(2)} | ${r.rssMiB.toFixed(0)} | ${r.load} |\n`);
}

await main();
