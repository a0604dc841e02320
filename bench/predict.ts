/**
 * TF Serving `:predict` on facial-expression over HTTP (autocannon) beside the same inference in-process
 * (registry.infer on a fresh tensor), at several concurrencies, in one run; then the server's RSS over
 * 10,000 requests after warm-up, and start-up to ready of `main` with a warm model cache.
 *
 *   npx tsx bench/predict.ts [--duration <s>] [--requests <n>] [--skip-startup]
 */
import autocannon from 'autocannon';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { FACIAL_EXPRESSION } from '../inference-runtime/config/defaultPool.js';
import { createModelRegistry } from '../inference-runtime/core/modelRegistry.js';
import type { NamedTensors } from '../inference-runtime/core/tensor.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CACHE_DIR = path.join(os.tmpdir(), 'mloffload-bench-cache');
const { values } = parseArgs({
  options: { duration: { type: 'string', default: '10' }, requests: { type: 'string', default: '10000' }, 'skip-startup': { type: 'boolean', default: false } },
});
const DURATION_S = Number(values.duration);
const RSS_REQUESTS = Number(values.requests);
const CONCURRENCIES = [1, 4, 16];

// ---------------------------------------------------------------------------------------------- helpers

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

interface Run {
  throughput: number;
  p50: number;
  p99: number;
  count: number;
  errors: number;
}

function summarise(latencies: number[], seconds: number, errors: number): Run {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { throughput: latencies.length / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99), count: latencies.length, errors };
}

function machine(): Record<string, string> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  return {
    nproc: String(os.availableParallelism()),
    cpu: model,
    node: process.version,
    loadavg: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)![1]) * 1024;
}

function lines(child: ChildProcess, onLine: (line: Record<string, unknown>) => void): void {
  createInterface({ input: child.stdout! }).on('line', (text) => {
    try {
      onLine(JSON.parse(text) as Record<string, unknown>);
    } catch {
      // not a log line
    }
  });
}

// ---------------------------------------------------------------------------------------------- inputs

/** A deterministic 64x64 grey face-sized input in [-1, 1]. */
function inputValues(): Float32Array {
  const data = new Float32Array(64 * 64);
  let state = 12345;
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = Math.fround((state / 2 ** 32) * 2 - 1);
  }
  return data;
}

const VALUES = inputValues();
const ROWS: number[][][] = Array.from({ length: 64 }, (_, y) => Array.from({ length: 64 }, (_, x) => [VALUES[y * 64 + x]!]));
const BODY = JSON.stringify({ instances: [ROWS] });

// ---------------------------------------------------------------------------------------------- runs

async function inProcess(infer: (inputs: NamedTensors) => Promise<NamedTensors>, inputName: string, concurrency: number, seconds: number): Promise<Run> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const lane = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        // A fresh tensor per call, as the HTTP route builds one per request.
        await infer({ [inputName]: { dtype: 'float32', shape: [1, 64, 64, 1], data: VALUES.slice() } });
        latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, lane));
  return summarise(latencies, (performance.now() - t0) / 1000, errors);
}

async function overHttp(url: string, concurrency: number, options: { seconds?: number; amount?: number }): Promise<Run> {
  const latencies: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${url}/v1/models/facial-expression:predict`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: BODY,
        connections: concurrency,
        ...(options.amount ? { amount: options.amount } : { duration: options.seconds }),
      },
      (error, done) => (error ? reject(error as Error) : resolve(done)),
    );
    // autocannon's own histogram has 1 ms resolution; keep the exact response times.
    instance.on('response', (_client, status, _bytes, responseTime) => {
      if (status === 200) latencies.push(responseTime);
      else errors++;
    });
  });
  const seconds = (performance.now() - t0) / 1000;
  return summarise(latencies, seconds, errors + result.errors + result.timeouts);
}

async function startBenchServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/predictServer.ts', CACHE_DIR], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    lines(child, (line) => {
      if (line.event === 'ready') resolve(line.url as string);
    });
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return { child, url };
}

async function startupToReady(): Promise<{ ms: number; models: unknown }> {
  await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT });
  const once = async (): Promise<{ ms: number; models: unknown }> => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['dist/inference-runtime/main.js', '--port', '0', '--host', '127.0.0.1', '--model-cache', CACHE_DIR], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, PORT: '', MLOFFLOAD_POOL_CONFIG: '' },
    });
    const models: unknown[] = [];
    const ms = await new Promise<number>((resolve, reject) => {
      let port = 0;
      let polling = false;
      lines(child, (line) => {
        if (line.event === 'model-available') models.push({ model: line.model, loadMs: line.loadMs, from: line.from, p50Ms: line.p50Ms });
        if (line.event === 'listening' && !polling) {
          polling = true;
          port = line.port as number;
          const poll = async (): Promise<void> => {
            const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
            if (res?.status === 200) resolve(performance.now() - t0);
            else setTimeout(() => void poll(), 25);
          };
          void poll();
        }
        if (line.event === 'models_settled_with_failures') reject(new Error(JSON.stringify(line)));
      });
      child.once('exit', (code) => reject(new Error(`main exited with ${code}`)));
    });
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    return { ms, models };
  };
  await once(); // fills the cache
  return once();
}

// ---------------------------------------------------------------------------------------------- main

const fmt = (n: number, digits = 2): string => n.toFixed(digits);

async function main(): Promise<void> {
  const env = machine();
  console.log(JSON.stringify({ event: 'machine', ...env }));

  const registry = createModelRegistry({ models: [FACIAL_EXPRESSION] }, { repository: { cacheDir: CACHE_DIR } });
  await registry.whenSettled();
  if (!registry.isReady()) throw new Error(JSON.stringify(registry.list()));
  const model = registry.resolve('facial-expression');
  const inputName = model.signature().inputs[0]!.name;
  const infer = (inputs: NamedTensors) => model.infer(inputs, { transfer: true });
  const server = await startBenchServer();

  // Warm-up both paths.
  await inProcess(infer, inputName, 4, 2);
  await overHttp(server.url, 4, { seconds: 2 });

  const rows: Array<{ concurrency: number; inProcess: Run; http: Run }> = [];
  for (const concurrency of CONCURRENCIES) {
    const local = await inProcess(infer, inputName, concurrency, DURATION_S);
    const remote = await overHttp(server.url, concurrency, { seconds: DURATION_S });
    rows.push({ concurrency, inProcess: local, http: remote });
    console.log(JSON.stringify({ event: 'point', concurrency, inProcess: local, http: remote }));
  }
  await registry.close();

  // RSS of the server over RSS_REQUESTS requests after warm-up.
  await overHttp(server.url, 4, { amount: 1_000 });
  const rssBefore = rssBytes(server.child.pid!);
  const long = await overHttp(server.url, 4, { amount: RSS_REQUESTS });
  const rssAfter = rssBytes(server.child.pid!);
  server.child.kill('SIGTERM');
  await new Promise((resolve) => server.child.once('exit', resolve));

  const startup = values['skip-startup'] ? undefined : await startupToReady();

  console.log('\n| concurrency | in-process req/s | HTTP req/s | HTTP / in-process | in-process p50 ms | HTTP p50 ms | added p50 ms | HTTP p99 ms | errors |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const { concurrency, inProcess: a, http: b } of rows) {
    console.log(
      `| ${concurrency} | ${fmt(a.throughput, 1)} | ${fmt(b.throughput, 1)} | ${fmt((100 * b.throughput) / a.throughput, 1)}% | ${fmt(a.p50)} | ${fmt(b.p50)} | ${fmt(b.p50 - a.p50)} | ${fmt(b.p99)} | ${a.errors + b.errors} |`,
    );
  }
  const mb = (n: number): string => fmt(n / 2 ** 20, 1);
  console.log(
    `\nRSS of the server: ${mb(rssBefore)} MiB after warm-up, ${mb(rssAfter)} MiB after ${long.count} more requests (${fmt((100 * (rssAfter - rssBefore)) / rssBefore, 1)}%, ${long.errors} errors, ${fmt(long.throughput, 1)} req/s)`,
  );
  if (startup) console.log(`Start-up to ready (built-in pool, warm cache, node dist/inference-runtime/main.js): ${fmt(startup.ms / 1000, 2)} s; ${JSON.stringify(startup.models)}`);
  console.log(`Machine: ${env.nproc} cores (nproc), ${env.cpu}, Node ${env.node}, load average at start ${env.loadavg}, at end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

await main();
