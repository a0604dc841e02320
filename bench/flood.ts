/**
 * Floods a real runtime process (`inference-runtime/main.ts`, face detector + expression model, 1 worker)
 * with concurrent large requests beyond its capacity, then measures how it recovers:
 *
 *   npx tsx bench/flood.ts [--seconds 20] [--clients 24] [--budget 1Gi] [--compare]
 *
 * The flood mixes, per request at random: 16-bit RGBA interlaced PNGs of 4400x4400 (the largest the decode
 * cap admits: 155 MB to decode each, 0.3 MB to send), 16-bit interlaced PNGs of 6300x6300 (refused from the
 * header), `:predict` bodies of 64 rows (the row cap) and of 1,000 rows (16 MB, refused), and flagship
 * requests. Clients ignore Retry-After, as a hostile one would.
 *
 * Reported: answers by status (503s and whether they carried Retry-After; anything else 5xx is a failure),
 * whether the process survived, peak RSS against the budget, and recovery: the time from the end of the flood
 * until a flagship request (640x480 JPEG, POST /v1/vision/facial-expressions) is again answered within 1.5x
 * its latency before the flood, three times in a row, and until RSS is back within 10% (+ 32 MiB) of its
 * level before the flood. `--compare` runs the same flood against a runtime started with `--memory-budget 0`
 * (the per-request caps still on), in the same run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { FACE_DETECTOR, FACIAL_EXPRESSION } from '../inference-runtime/config/defaultPool.js';
import { singleFace640x480 } from '../test/helpers/samplePhotos.js';
import { nodeScript } from './runtimeBuild.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    clients: { type: 'string', default: '24' },
    budget: { type: 'string', default: '1Gi' },
    compare: { type: 'boolean', default: false },
  },
});
const FLOOD_SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
/** Whatever happens, recovery is given up after this long. */
const RECOVERY_BOUND_MS = 120_000;

interface Runtime {
  url: string;
  child: ChildProcess;
  budgetBytes: number | null;
}

async function startRuntime(cacheDir: string, poolFile: string, budget: string): Promise<Runtime> {
  const args = [...nodeScript(process.cwd(), 'inference-runtime/main.ts'), '--port', '0', '--host', '127.0.0.1', '--model-cache', cacheDir, '--config', poolFile, '--workers', '1', '--memory-budget', budget];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, PORT: '' } });
  let url = '';
  let budgetBytes: number | null = null;
  for await (const text of createInterface({ input: child.stdout! })) {
    let line: { event?: string; url?: string; memoryBudgetBytes?: number | null };
    try {
      line = JSON.parse(text) as typeof line;
    } catch {
      continue;
    }
    if (line.event === 'starting') budgetBytes = line.memoryBudgetBytes ?? null;
    if (line.event === 'listening') url = line.url!;
    if (line.event === 'models_ready') return { url, child, budgetBytes };
    if (line.event === 'models_settled_with_failures' || line.event === 'startup_failed') throw new Error(`runtime did not get ready: ${text}`);
  }
  throw new Error('runtime exited before it was ready');
}

async function stopRuntime(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function rssBytes(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
  } catch {
    return 0;
  }
}

const MiB = 2 ** 20;
const mib = (bytes: number | null): string => (bytes === null ? 'none' : `${(bytes / MiB).toFixed(0)} MiB`);

// ------------------------------------------------------------------------------------------------ inputs

interface Request {
  kind: string;
  path: string;
  type: string;
  body: Uint8Array<ArrayBuffer>;
}

async function interlaced16BitPng(side: number): Promise<Uint8Array<ArrayBuffer>> {
  // Noise rows repeated down the image: compresses to little, decodes to side x side x 8 bytes.
  const row = Buffer.alloc(side * 4);
  for (let i = 0; i < row.length; i++) row[i] = (i * 7919) % 251;
  const strip = await sharp(row, { raw: { width: side, height: 1, channels: 4 } }).resize(side, side, { kernel: 'nearest' }).raw().toBuffer();
  const png = await sharp(strip, { raw: { width: side, height: side, channels: 4 } }).toColourspace('rgb16').png({ progressive: true, compressionLevel: 9 }).toBuffer();
  return new Uint8Array(png);
}

function predictBody(rows: number): Uint8Array<ArrayBuffer> {
  const row = Array.from({ length: 64 }, (_, y) => Array.from({ length: 64 }, (_, x) => [(x * y) % 2]));
  return new TextEncoder().encode(JSON.stringify({ instances: Array.from({ length: rows }, () => row) })) as Uint8Array<ArrayBuffer>;
}

async function floodInputs(): Promise<{ flagship: Request; mix: Request[] }> {
  const face = new Uint8Array(await singleFace640x480());
  const flagship: Request = { kind: 'flagship 640x480 JPEG', path: '/v1/vision/facial-expressions', type: 'image/jpeg', body: face };
  const mix: Request[] = [
    { kind: '4400x4400 16-bit interlaced PNG', path: '/v1/vision/faces', type: 'image/png', body: await interlaced16BitPng(4400) },
    { kind: '6300x6300 16-bit interlaced PNG', path: '/v1/vision/faces', type: 'image/png', body: await interlaced16BitPng(6300) },
    { kind: ':predict 64 rows', path: '/v1/models/facial-expression:predict', type: 'application/json', body: predictBody(64) },
    { kind: ':predict 1000 rows', path: '/v1/models/facial-expression:predict', type: 'application/json', body: predictBody(1000) },
    flagship,
  ];
  return { flagship, mix };
}

interface Answer {
  status: number;
  retryAfter: boolean;
  ms: number;
}

async function send(url: string, request: Request, signal?: AbortSignal): Promise<Answer> {
  const t0 = performance.now();
  try {
    const response = await fetch(`${url}${request.path}`, { method: 'POST', body: request.body, headers: { 'Content-Type': request.type }, signal });
    await response.arrayBuffer();
    return { status: response.status, retryAfter: response.headers.has('retry-after'), ms: performance.now() - t0 };
  } catch (error) {
    // No answer: the client's own 60 s bound (status -1), or the connection was refused or reset (0).
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return { status: timedOut ? -1 : 0, retryAfter: false, ms: performance.now() - t0 };
  }
}

// ------------------------------------------------------------------------------------------------ phases

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

interface FloodResult {
  label: string;
  budgetBytes: number | null;
  baselineRss: number;
  baselineMs: number;
  peakRss: number;
  counts: Record<string, Record<string, number>>;
  total: number;
  served503: number;
  with503RetryAfter: number;
  failures: number;
  survived: boolean;
  latencyRecoveryMs: number | null;
  /** Answers to the flagship probes after the flood, by status, and when the first 200 came. */
  probes: Record<string, number>;
  firstServedMs: number | null;
  rssRecoveryMs: number | null;
  rssAfter: number;
}

async function floodOnce(label: string, budget: string, cacheDir: string, poolFile: string, inputs: Awaited<ReturnType<typeof floodInputs>>): Promise<FloodResult> {
  const runtime = await startRuntime(cacheDir, poolFile, budget);
  const pid = runtime.child.pid!;
  try {
    // Before: warm up, then the flagship latency and the RSS at rest.
    for (let i = 0; i < 5; i++) await send(runtime.url, inputs.flagship);
    const before: number[] = [];
    for (let i = 0; i < 15; i++) {
      const a = await send(runtime.url, inputs.flagship);
      if (a.status !== 200) throw new Error(`flagship request failed before the flood: HTTP ${a.status}`);
      before.push(a.ms);
    }
    const baselineMs = median(before);
    const baselineRss = rssBytes(pid);

    let peakRss = baselineRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, rssBytes(pid));
    }, 50);
    const counts: Record<string, Record<string, number>> = {};
    let served503 = 0;
    let with503RetryAfter = 0;
    let total = 0;
    const end = performance.now() + FLOOD_SECONDS * 1000;
    let seed = 1;
    const client = async (): Promise<void> => {
      while (performance.now() < end) {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        const request = inputs.mix[seed % inputs.mix.length]!;
        const answer = await send(runtime.url, request, AbortSignal.timeout(60_000));
        total++;
        const byKind = (counts[request.kind] ??= {});
        byKind[answer.status] = (byKind[answer.status] ?? 0) + 1;
        if (answer.status === 503) {
          served503++;
          if (answer.retryAfter) with503RetryAfter++;
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
    const floodEnded = performance.now();

    // Recovery: one flagship request at a time until three in a row are within 1.5x the latency before.
    let latencyRecoveryMs: number | null = null;
    let rssRecoveryMs: number | null = null;
    let good = 0;
    const probes: Record<string, number> = {};
    let firstServedMs: number | null = null;
    const rssTarget = baselineRss * 1.1 + 32 * MiB;
    while (performance.now() - floodEnded < RECOVERY_BOUND_MS && (latencyRecoveryMs === null || rssRecoveryMs === null)) {
      if (rssRecoveryMs === null && rssBytes(pid) <= rssTarget) rssRecoveryMs = performance.now() - floodEnded;
      if (latencyRecoveryMs === null) {
        const a = await send(runtime.url, inputs.flagship);
        probes[a.status] = (probes[a.status] ?? 0) + 1;
        if (a.status === 200) firstServedMs ??= performance.now() - floodEnded;
        good = a.status === 200 && a.ms <= baselineMs * 1.5 ? good + 1 : 0;
        if (good === 3) latencyRecoveryMs = performance.now() - floodEnded;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    clearInterval(sampler);
    const failures = Object.values(counts).reduce((n, byStatus) => n + Object.entries(byStatus).filter(([s]) => Number(s) <= 0 || (Number(s) >= 500 && s !== '503')).reduce((m, [, c]) => m + c, 0), 0);
    return {
      label,
      budgetBytes: runtime.budgetBytes,
      baselineRss,
      baselineMs,
      peakRss,
      counts,
      total,
      served503,
      with503RetryAfter,
      failures,
      survived: runtime.child.exitCode === null,
      latencyRecoveryMs,
      probes,
      firstServedMs,
      rssRecoveryMs,
      rssAfter: rssBytes(pid),
    };
  } finally {
    await stopRuntime(runtime.child);
  }
}

function report(r: FloodResult): void {
  const s = (ms: number | null): string => (ms === null ? `not within ${RECOVERY_BOUND_MS / 1000} s` : `${(ms / 1000).toFixed(1)} s`);
  process.stdout.write(`\n### ${r.label}\n\n`);
  process.stdout.write(`| request | ${['200', '413', '503', 'other'].join(' | ')} |\n|---|---|---|---|---|\n`);
  for (const [kind, byStatus] of Object.entries(r.counts)) {
    const other = Object.entries(byStatus).filter(([st]) => !['200', '413', '503'].includes(st)).map(([st, c]) => `${st === '0' ? 'reset' : st === '-1' ? 'no answer in 60 s' : st}: ${c}`).join(', ');
    process.stdout.write(`| ${kind} | ${byStatus[200] ?? 0} | ${byStatus[413] ?? 0} | ${byStatus[503] ?? 0} | ${other || 0} |\n`);
  }
  process.stdout.write(
    [
      '',
      `- requests: ${r.total} in ${FLOOD_SECONDS} s from ${CLIENTS} clients; 503s served: ${r.served503} (${r.with503RetryAfter} with Retry-After); failures (other 5xx or no answer): ${r.failures}; process survived: ${r.survived}`,
      `- budget: ${mib(r.budgetBytes)}; RSS before ${mib(r.baselineRss)}, peak ${mib(r.peakRss)}${r.budgetBytes ? ` (${((100 * r.peakRss) / r.budgetBytes).toFixed(0)}% of the budget)` : ''}, after recovery ${mib(r.rssAfter)}`,
      `- after the flood, flagship probes answered ${JSON.stringify(r.probes)}; first 200 after ${s(r.firstServedMs)}`,
      `- flagship p50 before the flood ${r.baselineMs.toFixed(1)} ms; back within 1.5x (3 in a row) after ${s(r.latencyRecoveryMs)}; RSS back within 10% + 32 MiB of before after ${s(r.rssRecoveryMs)}`,
      '',
    ].join('\n'),
  );
}

const work = await mkdtemp(path.join(os.tmpdir(), 'mloffload-flood-'));
try {
  const cacheDir = path.join(os.tmpdir(), 'mloffload-bench-cache');
  const poolFile = path.join(work, 'pool.json');
  await writeFile(poolFile, JSON.stringify({ models: [FACE_DETECTOR, FACIAL_EXPRESSION] }));
  const inputs = await floodInputs();
  process.stdout.write(`${JSON.stringify({ event: 'machine', nproc: os.availableParallelism(), loadavg: os.loadavg().map((l) => l.toFixed(2)).join(' '), node: process.version })}\n`);
  const results = [await floodOnce(`memory budget ${values.budget}`, values.budget!, cacheDir, poolFile, inputs)];
  if (values.compare) results.push(await floodOnce('no memory budget (--memory-budget 0), other limits on', '0', cacheDir, poolFile, inputs));
  for (const r of results) report(r);
  process.stdout.write(`\nload average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
} finally {
  await rm(work, { recursive: true, force: true });
}
