/**
 * Translation engine benchmark: sentences per second through Apertium eng->spa with 1 and N long-lived
 * null-flush pipelines (the engine the runtime serves with), one sentence per call and 8 per call, against
 * a new `apertium eng-spa` process per sentence (what serving without null-flush mode would cost).
 *
 *   npx tsx bench/translation.ts [--seconds 8] [--pipelines 1,2,4] [--callers 8]
 */
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nullFlushStages } from '../inference-runtime/backends/apertium/apertiumBackend.js';
import { DEFAULT_APERTIUM_LIMITS } from '../inference-runtime/backends/apertium/limits.js';
import { PipelinePool } from '../inference-runtime/backends/apertium/pipelinePool.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const SECONDS = Number(flag('seconds', '8'));
const CORES = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
const PIPELINES = flag('pipelines', `1,${CORES},${CORES * 2}`).split(',').map(Number);
const CALLERS = Number(flag('callers', '8'));
const MODE = '/usr/share/apertium/modes/eng-spa.mode';

/** Sentences of a sign, a notice and a message: 6 to 20 words each. */
const SENTENCES = [
  'The shop on the corner opens at nine in the morning.',
  'Please keep the door closed at all times.',
  'The train to the airport leaves from platform four.',
  'No parking in front of the garage.',
  'The museum is closed on Mondays and public holidays.',
  'Emergency exit: do not block this door.',
  'We will arrive at the station before the meeting starts.',
  'The water in this fountain is not suitable for drinking.',
  'Tickets can be bought from the machine next to the entrance.',
  'The library has a large collection of old books and maps.',
  'Turn left at the second traffic light and follow the signs.',
  'Children under twelve must be accompanied by an adult.',
  'The kitchen is open until eleven at night.',
  'My sister works in a hospital near the river.',
  'Please switch off your phone during the performance.',
  'The weather will be warm and sunny tomorrow.',
];

async function throughput(pool: PipelinePool, perCall: number, callers: number): Promise<{ perSecond: number; p50Ms: number }> {
  const deadline = performance.now() + SECONDS * 1000;
  let sentences = 0;
  let next = 0;
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < deadline) {
        const texts = Array.from({ length: perCall }, () => SENTENCES[next++ % SENTENCES.length]);
        const t0 = performance.now();
        await pool.translate(texts);
        latencies.push(performance.now() - t0);
        sentences += texts.length;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { perSecond: sentences / SECONDS, p50Ms: latencies[latencies.length >> 1] };
}

/** `apertium eng-spa <file>`: a whole pipeline started for one sentence. */
function cliOnce(text: string, i: number): Promise<void> {
  const input = path.join(os.tmpdir(), `bench-translation-${process.pid}-${i}.txt`);
  writeFileSync(input, text);
  return new Promise<void>((resolve, reject) => {
    const child = spawn('apertium', ['eng-spa', input], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', () => resolve());
  }).finally(() => rmSync(input, { force: true }));
}

async function main(): Promise<void> {
  const stages = await nullFlushStages(MODE, DEFAULT_APERTIUM_LIMITS.frameTimeoutMs);
  const rows: string[] = [];
  const load = () => os.loadavg()[0].toFixed(1);
  process.stdout.write(`cores ${CORES}, ${SECONDS} s per row, ${CALLERS} concurrent callers, load average ${load()} at start\n\n`);
  let single = 0;
  for (const pipelines of PIPELINES) {
    const pool = new PipelinePool('eng-spa', stages, { ...DEFAULT_APERTIUM_LIMITS, pipelines, maxQueue: 1024 }, () => undefined);
    await pool.translate(SENTENCES.slice(0, 4));
    for (const perCall of [1, 8]) {
      const r = await throughput(pool, perCall, CALLERS);
      if (pipelines === 1 && perCall === 1) single = r.perSecond;
      rows.push(`| ${pipelines} | ${perCall} | ${r.perSecond.toFixed(1)} | ${(r.perSecond / single).toFixed(2)} | ${r.p50Ms.toFixed(1)} |`);
    }
    await pool.close();
  }
  const cliRuns = 6;
  const t0 = performance.now();
  for (let i = 0; i < cliRuns; i++) await cliOnce(SENTENCES[i], i);
  const cliPerSecond = cliRuns / ((performance.now() - t0) / 1000);
  process.stdout.write('| pipelines | sentences per call | sentences/s | vs 1 pipeline, 1 per call | p50 per call (ms) |\n|---|---|---|---|---|\n');
  process.stdout.write(`${rows.join('\n')}\n`);
  process.stdout.write(`| new \`apertium eng-spa\` process per sentence | 1 | ${cliPerSecond.toFixed(2)} | ${(cliPerSecond / single).toFixed(3)} | ${(1000 / cliPerSecond).toFixed(0)} |\n`);
  process.stdout.write(`\nload average ${load()} at end\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
