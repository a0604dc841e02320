/**
 * TF Serving `:predict` on facial-expression over HTTP (autocannon) beside the same inference in-process
 * (registry.infer on a fresh tensor), at several concurrencies, in one run; then the server's RSS over
 * 10,000 requests after warm-up, and start-up to ready of `main` with a warm model cache.
 *
 *   npx tsx bench/predict.ts [--backend auto|tfjs] [--duration <s per segment>] [--rounds <n>] [--requests <n>] [--skip-startup]
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { FACIAL_EXPRESSION } from '../inference-runtime/config/defaultPool.js';
import { createModelRegistry } from '../inference-runtime/dataplane/modelRegistry.js';
import type { BackendPreference } from '../inference-runtime/config/types.js';
import type { NamedTensors } from '../inference-runtime/core/tensor.js';
import { expressionPredictBody, inProcessLoad, type Segment } from './expressionLoad.js';
import { runtimeNodeFlags } from './runtimeFlags.js';
import { processCpuMs } from './processStats.js';
import { httpLoad, type HttpLoadLength } from './httpLoad.js';
import { mainOf } from './runtimeStart.js';
import { startPredictServer } from './benchServer.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CACHE_DIR = path.join(os.tmpdir(), 'mloffload-bench-cache');
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    requests: { type: 'string', default: '10000' },
    'skip-startup': { type: 'boolean', default: false },
    /** Engine preference of the model: `auto` (the compiled ONNX model when verified) or `tfjs`. */
    backend: { type: 'string', default: 'auto' },
  },
});
/** Each point alternates in-process and HTTP segments, so load from other processes drifts over both alike. */
const DURATION_S = Number(values.duration);
const ROUNDS = Number(values.rounds);
const BACKEND = values.backend as BackendPreference;
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

function merge(runs: Array<{ latencies: number[]; seconds: number; errors: number }>): Run {
  return summarise(
    runs.flatMap((r) => r.latencies),
    runs.reduce((t, r) => t + r.seconds, 0),
    runs.reduce((t, r) => t + r.errors, 0),
  );
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

function selfCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** CPU ms per request of the run `work`, by process. */
async function cpuPerRequest<T extends Segment>(pids: { server?: number }, work: () => Promise<T>): Promise<T & { cpuMs: { self: number; server?: number } }> {
  const self0 = selfCpuMs();
  const server0 = pids.server ? processCpuMs(pids.server) : 0;
  const segment = await work();
  const n = segment.latencies.length;
  return {
    ...segment,
    cpuMs: {
      self: (selfCpuMs() - self0) / n,
      ...(pids.server ? { server: (processCpuMs(pids.server) - server0) / n } : {}),
    },
  };
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

/** EXPRESSION_INPUT (a deterministic 64x64 grey input in [-1, 1]) as a `:predict` body. */
const BODY = expressionPredictBody();

// ---------------------------------------------------------------------------------------------- runs


const inProcess = inProcessLoad;

function overHttp(url: string, concurrency: number, length: HttpLoadLength): Promise<Segment> {
  return httpLoad({ url: `${url}/v1/models/facial-expression:predict`, headers: { 'content-type': 'application/json' }, body: BODY }, concurrency, length);
}

interface ServerTime {
  count: number;
  httpSeconds: number;
  inferenceSeconds: number;
}

/** The server's own account of predict requests: time from arrival to response, and the part spent in inference. */
async function serverTime(url: string): Promise<ServerTime> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? 0);
  return {
    count: value(/^mloffload_http_request_duration_seconds_count\{method="POST",route="[^"]*predict",model="facial-expression"\} (\S+)$/m),
    httpSeconds: value(/^mloffload_http_request_duration_seconds_sum\{method="POST",route="[^"]*predict",model="facial-expression"\} (\S+)$/m),
    inferenceSeconds: value(/^mloffload_inference_duration_seconds_sum\{model="facial-expression",version="1"\} (\S+)$/m),
  };
}

function perRequest(before: ServerTime, after: ServerTime): ServerTime {
  const n = after.count - before.count;
  return {
    count: n,
    httpSeconds: ((after.httpSeconds - before.httpSeconds) / n) * 1000,
    inferenceSeconds: ((after.inferenceSeconds - before.inferenceSeconds) / n) * 1000,
  };
}

async function startBenchServer(): Promise<{ child: ChildProcess; url: string; backend: string }> {
  const { child, url, backend } = await startPredictServer({ name: 'bench server', cacheDir: CACHE_DIR, backend: BACKEND, cwd: ROOT });
  return { child, url, backend };
}

async function startupToReady(): Promise<{ ms: number; models: unknown }> {
  await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT });
  const flags = await runtimeNodeFlags(ROOT);
  const once = async (): Promise<{ ms: number; models: unknown }> => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...flags, mainOf(), '--port', '0', '--host', '127.0.0.1', '--model-cache', CACHE_DIR], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, PORT: '', MLOFFLOAD_POOL_CONFIG: '' },
    });
    const models: unknown[] = [];
    const ms = await new Promise<number>((resolve, reject) => {
      let port = 0;
      let polling = false;
      lines(child, (line) => {
        if (line.event === 'model-available') models.push({ model: line.model, loadMs: line.loadMs, from: line.from });
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

  const registry = createModelRegistry({ models: [{ ...FACIAL_EXPRESSION, backend: BACKEND }] }, { repository: { cacheDir: CACHE_DIR } });
  await registry.whenSettled();
  if (!registry.isReady()) throw new Error(JSON.stringify(registry.list()));
  const model = registry.resolve('facial-expression');
  const inputName = model.signature().inputs[0]!.name;
  const infer = (inputs: NamedTensors) => model.infer(inputs, { transfer: true });
  const server = await startBenchServer();
  const backends = { inProcess: registry.list()[0]!.backend, server: server.backend, threads: registry.executor.threads };
  console.log(JSON.stringify({ event: 'backends', ...backends }));

  // Warm-up both paths.
  await inProcess(infer, inputName, 4, 2);
  await overHttp(server.url, 4, { seconds: 2 });

  const rows: Array<{ concurrency: number; inProcess: Run; http: Run; serverMs: ServerTime; cpuMs: { inProcess: number; server: number; client: number } }> = [];
  for (const concurrency of CONCURRENCIES) {
    const local: Array<Segment & { cpuMs: { self: number } }> = [];
    const remote: Array<Segment & { cpuMs: { self: number; server?: number } }> = [];
    const before = await serverTime(server.url);
    for (let round = 0; round < ROUNDS; round++) {
      local.push(await cpuPerRequest({}, () => inProcess(infer, inputName, concurrency, DURATION_S)));
      remote.push(await cpuPerRequest({ server: server.child.pid }, () => overHttp(server.url, concurrency, { seconds: DURATION_S })));
    }
    const after = await serverTime(server.url);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const cpu = {
      inProcess: mean(local.map((r) => r.cpuMs.self)),
      server: mean(remote.map((r) => r.cpuMs.server!)),
      client: mean(remote.map((r) => r.cpuMs.self)),
    };
    const point = { concurrency, inProcess: merge(local), http: merge(remote), serverMs: perRequest(before, after), cpuMs: cpu };
    rows.push(point);
    console.log(JSON.stringify({ event: 'point', ...point }));
  }
  await registry.close();

  // RSS of the server over RSS_REQUESTS requests after warm-up.
  await overHttp(server.url, 4, { amount: 1_000 });
  const rssBefore = rssBytes(server.child.pid!);
  const long = merge([await overHttp(server.url, 4, { amount: RSS_REQUESTS })]);
  const rssAfter = rssBytes(server.child.pid!);
  server.child.kill('SIGTERM');
  await new Promise((resolve) => server.child.once('exit', resolve));

  const startup = values['skip-startup'] ? undefined : await startupToReady();

  console.log(
    '\n| concurrency | in-process req/s | HTTP req/s | HTTP / in-process | in-process p50 ms | HTTP p50 ms | added p50 ms | HTTP p99 ms | server: HTTP work per request ms | errors |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const { concurrency, inProcess: a, http: b, serverMs } of rows) {
    console.log(
      `| ${concurrency} | ${fmt(a.throughput, 1)} | ${fmt(b.throughput, 1)} | ${fmt((100 * b.throughput) / a.throughput, 1)}% | ${fmt(a.p50)} | ${fmt(b.p50)} | ${fmt(b.p50 - a.p50)} | ${fmt(b.p99)} | ${fmt(serverMs.httpSeconds - serverMs.inferenceSeconds)} | ${a.errors + b.errors} |`,
    );
  }
  console.log('\nCPU time per request (all threads of each process; less sensitive to other load on the machine than wall-clock figures):');
  console.log('| concurrency | in-process ms | HTTP server ms | HTTP client (autocannon) ms | server / in-process |');
  console.log('|---|---|---|---|---|');
  for (const { concurrency, cpuMs } of rows) {
    console.log(`| ${concurrency} | ${fmt(cpuMs.inProcess)} | ${fmt(cpuMs.server)} | ${fmt(cpuMs.client)} | ${fmt(cpuMs.server / cpuMs.inProcess)}x |`);
  }
  const mb = (n: number): string => fmt(n / 2 ** 20, 1);
  console.log(
    `\nRSS of the server: ${mb(rssBefore)} MiB after warm-up, ${mb(rssAfter)} MiB after ${long.count} more requests (${fmt((100 * (rssAfter - rssBefore)) / rssBefore, 1)}%, ${long.errors} errors, ${fmt(long.throughput, 1)} req/s)`,
  );
  if (startup) console.log(`Start-up to ready (built-in pool, warm cache, node dist/inference-runtime/main.js): ${fmt(startup.ms / 1000, 2)} s; ${JSON.stringify(startup.models)}`);
  console.log(`Engines: in-process ${backends.inProcess}, server ${backends.server}, ${backends.threads} inference threads each`);
  console.log(`Machine: ${env.nproc} cores (nproc), ${env.cpu}, Node ${env.node}, load average at start ${env.loadavg}, at end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

await main();
