/**
 * What each category of the built-in pool costs in resident memory: the runtime started with the flagship
 * pool, then the vision pool, then pools that add OCR, translation, speech and dialog in turn, each from a
 * warm model cache (a first start fills it and is not counted). Reported per pool: the runtime process's
 * idle RSS after its models are ready and benchmarked, the processes it started (Apertium pipelines, the
 * speech recogniser) by name, and the increment over the pool before it.
 *
 *   npm run build && npx tsx bench/footprint.ts [--rounds 2] [--idle-ms 5000] [--workers N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { median } from './stats.js';
import {
  DIALOG_SMART_HOME,
  FACE_DETECTOR,
  FACIAL_EXPRESSION,
  OBJECT_DETECTOR,
  ocrModels,
  SPEECH_RECOGNISER,
  TRANSLATION_ENG_SPA,
  TRANSLATION_SPA_ENG,
} from '../inference-runtime/config/defaultPool.js';
import type { PoolModel } from '../inference-runtime/config/types.js';
import { footprint, loadAverage, mainOf, poolFile, startRuntime, type Footprint } from './runtimeStart.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    'idle-ms': { type: 'string', default: '5000' },
    workers: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const idleMs = Number(values['idle-ms']);
const workers = values.workers === undefined ? undefined : Number(values.workers);

/** Each step adds one category to the pool before it. */
const steps: Array<{ label: string; adds: PoolModel[] }> = [
  { label: 'flagship (face detector + expression)', adds: [FACE_DETECTOR, FACIAL_EXPRESSION] },
  { label: '+ object detector (vision pool)', adds: [OBJECT_DETECTOR] },
  { label: '+ OCR (text detector, orientation, recogniser)', adds: ocrModels() },
  { label: '+ translation (Apertium eng-spa, spa-eng)', adds: [TRANSLATION_ENG_SPA, TRANSLATION_SPA_ENG] },
  { label: '+ speech (PocketSphinx en-US)', adds: [SPEECH_RECOGNISER] },
  { label: '+ dialog (NLP.js smart home)', adds: [DIALOG_SMART_HOME] },
];
const pools = steps.map((_, i) => poolFile(structuredClone({ models: steps.slice(0, i + 1).flatMap((s) => s.adds) }), `footprint-${i}`));
const main = mainOf();
const cacheDir = mkdtempSync(path.join(tmpdir(), 'mloffload-bench-footprint-'));

async function measure(pool: string): Promise<Footprint & { readyS: number }> {
  const rt = await startRuntime({ main, pool, cacheDir, workers });
  try {
    await rt.event('models_ready', 300_000);
    await new Promise((r) => setTimeout(r, idleMs));
    return { ...(await footprint(rt.child.pid!)), readyS: rt.readyMs / 1000 };
  } finally {
    await rt.stop();
  }
}


async function run(): Promise<void> {
  const loadBefore = await loadAverage();
  // Fills the cache (compilations, benchmarks) for every model: the largest pool holds them all.
  await measure(pools[pools.length - 1]);
  const samples: Array<Array<Footprint & { readyS: number }>> = steps.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < steps.length; i++) {
      const s = await measure(pools[i]);
      samples[i].push(s);
      process.stderr.write(`${JSON.stringify({ step: steps[i].label, ...s })}\n`);
    }
  }
  const loadAfter = await loadAverage();
  process.stdout.write(
    `${workers ?? 'default'} inference workers, warm cache, RSS ${idleMs} ms after models_ready, median of ${rounds}; load average ${loadBefore} -> ${loadAfter}\n\n`,
  );
  process.stdout.write(
    '| pool | runtime RSS MiB | + MiB | child processes PSS MiB (RSS) | + MiB | start to ready s |\n|---|---:|---:|---|---:|---:|\n',
  );
  let previous: { runtime: number; children: number } | undefined;
  for (let i = 0; i < steps.length; i++) {
    const runtime = median(samples[i].map((s) => s.runtimeMiB));
    const children = median(samples[i].map((s) => s.childrenPssMiB));
    const childrenRss = median(samples[i].map((s) => s.childrenRssMiB));
    const names: Record<string, { count: number; pss: number[] }> = {};
    for (const s of samples[i]) {
      for (const [name, c] of Object.entries(s.children)) {
        const entry = (names[name] ??= { count: c.count, pss: [] });
        entry.pss.push(c.pssMiB);
      }
    }
    const byName = Object.entries(names)
      .map(([name, c]) => `${name}${c.count > 1 ? ` x${c.count}` : ''} ${median(c.pss).toFixed(0)}`)
      .join(', ');
    const delta = (now: number, before?: number): string => (before === undefined ? '' : `${now - before >= 0 ? '+' : ''}${(now - before).toFixed(0)}`);
    process.stdout.write(
      `| ${steps[i].label} | ${runtime.toFixed(0)} | ${delta(runtime, previous?.runtime)} | ${children ? `${children.toFixed(0)} (${childrenRss.toFixed(0)}): ${byName}` : '0'} | ${delta(children, previous?.children)} | ${median(samples[i].map((s) => s.readyS)).toFixed(2)} |\n`,
    );
    previous = { runtime, children };
  }
}

try {
  await run();
} finally {
  rmSync(cacheDir, { recursive: true, force: true });
}
