/**
 * RSS of the runtime process before, during and after a burst of large TF Serving `:predict` requests
 * (facial-expression, 64 rows each: the row cap), with onnxruntime's CPU memory arena on or off, and the
 * latency of single-row requests after it:
 *
 *   npx tsx bench/predictBurst.ts [--concurrency 6] [--rounds 3] [--repeat 2]
 *
 * Each configuration runs in a fresh server process (bench/predictServer.ts, 2 worker threads); they alternate
 * `--repeat` times so that load from elsewhere on the machine hits both alike.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startPredictServer } from './benchServer.js';

const { values } = parseArgs({ options: { concurrency: { type: 'string', default: '6' }, rounds: { type: 'string', default: '3' }, repeat: { type: 'string', default: '2' } } });
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const REPEAT = Number(values.repeat);
const CACHE_DIR = path.join(os.tmpdir(), 'mloffload-bench-cache');

const rssMiB = (pid: number): number => Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const row = Array.from({ length: 64 }, (_, y) => Array.from({ length: 64 }, (_, x) => [((x * y) % 7) / 4 - 0.75]));
const LARGE = JSON.stringify({ instances: Array.from({ length: 64 }, () => row) });
const SMALL = JSON.stringify({ instances: [row] });

async function start(arena: boolean): Promise<{ url: string; child: ChildProcess }> {
  const { url, child } = await startPredictServer({ name: 'predict server', cacheDir: CACHE_DIR, args: arena ? ['--onnx-memory-arena'] : [] });
  return { url, child };
}

async function burst(arena: boolean): Promise<Record<string, unknown>> {
  const { url, child } = await start(arena);
  const pid = child.pid!;
  const post = async (body: string): Promise<number> => {
    const r = await fetch(`${url}/v1/models/facial-expression:predict`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    await r.arrayBuffer();
    return r.status;
  };
  try {
    for (let i = 0; i < 20; i++) await post(SMALL);
    const before = rssMiB(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 20);
    const statuses = new Set<number>();
    for (let r = 0; r < ROUNDS; r++) for (const s of await Promise.all(Array.from({ length: CONCURRENCY }, () => post(LARGE)))) statuses.add(s);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    clearInterval(sampler);
    const after = rssMiB(pid);
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) await post(SMALL);
    const smallMs = (performance.now() - t0) / 50;
    return { arena, statuses: [...statuses], beforeMiB: Math.round(before), peakMiB: Math.round(peak), after10sMiB: Math.round(after), keptMiB: Math.round(after - before), singleRowMs: Number(smallMs.toFixed(1)) };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

process.stdout.write(`${JSON.stringify({ event: 'machine', nproc: os.availableParallelism(), loadavg: os.loadavg().map((l) => l.toFixed(2)).join(' ') })}\n`);
for (let i = 0; i < REPEAT; i++) {
  for (const arena of [true, false]) process.stdout.write(`${JSON.stringify(await burst(arena))}\n`);
}
process.stdout.write(`${JSON.stringify({ event: 'end', loadavg: os.loadavg().map((l) => l.toFixed(2)).join(' ') })}\n`);
