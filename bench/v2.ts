/**
 * facial-expression over the Open Inference Protocol V2 with binary tensors, beside the same inference
 * in-process (registry.infer on a fresh tensor), V2 with JSON tensors and TF Serving JSON `:predict`, at
 * concurrency 1 and 4, in one run. Each round runs every path once, one after another, so load from other
 * processes drifts over all of them alike; the ratios to in-process are the figures to read. The CPU time per
 * request of the serving process (the server, or this process in-process, inference threads included) is the
 * steadier measure of what each protocol adds on a loaded machine.
 *
 *   npx tsx bench/v2.ts [--duration <s per segment>] [--rounds <n>]
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FACIAL_EXPRESSION } from '../inference-runtime/config/defaultPool.js';
import { createModelRegistry } from '../inference-runtime/dataplane/modelRegistry.js';
import type { NamedTensors } from '../inference-runtime/core/tensor.js';
import { EXPRESSION_INPUT, inProcessLoad, type Segment as LoadSegment } from './expressionLoad.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CACHE_DIR = path.join(os.tmpdir(), 'mloffload-bench-cache');
const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' } } });
const DURATION_S = Number(values.duration);
const ROUNDS = Number(values.rounds);
const CONCURRENCIES = [1, 4];

const VALUES = EXPRESSION_INPUT;

interface HttpPath {
  name: string;
  route: string;
  headers: Record<string, string>;
  body: Buffer;
}

function httpPaths(input: string, output: string): HttpPath[] {
  const binaryHeader = Buffer.from(
    JSON.stringify({
      inputs: [{ name: input, datatype: 'FP32', shape: [1, 64, 64, 1], parameters: { binary_data_size: VALUES.byteLength } }],
      outputs: [{ name: output, parameters: { binary_data: true } }],
    }),
  );
  const rows = Array.from({ length: 64 }, (_, y) => Array.from({ length: 64 }, (_, x) => [VALUES[y * 64 + x]!]));
  return [
    {
      name: 'V2 binary',
      route: '/v2/models/facial-expression/infer',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(binaryHeader.length) },
      body: Buffer.concat([binaryHeader, Buffer.from(VALUES.buffer)]),
    },
    {
      name: 'V2 JSON',
      route: '/v2/models/facial-expression/infer',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ inputs: [{ name: input, datatype: 'FP32', shape: [1, 64, 64, 1], data: Array.from(VALUES) }] })),
    },
    {
      name: 'TF Serving JSON :predict',
      route: '/v1/models/facial-expression:predict',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ instances: [rows] })),
    },
  ];
}

interface Segment extends LoadSegment {
  /** CPU time of the process doing the work (the server, or this one in-process), all threads. */
  cpuMs?: number;
}

/** CPU time (user + system, all threads) of a process so far, in ms (Linux /proc, 100 ticks per second). */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function measured(pid: number, work: () => Promise<Segment>): Promise<Segment> {
  const before = processCpuMs(pid);
  const segment = await work();
  return { ...segment, cpuMs: processCpuMs(pid) - before };
}

function inProcess(infer: (inputs: NamedTensors) => Promise<NamedTensors>, input: string, concurrency: number): Promise<Segment> {
  return inProcessLoad(infer, input, concurrency, DURATION_S);
}

async function overHttp(url: string, target: HttpPath, concurrency: number, seconds = DURATION_S): Promise<Segment> {
  const latencies: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { url: `${url}${target.route}`, method: 'POST', headers: target.headers, body: target.body, connections: concurrency, duration: seconds },
      (error, done) => (error ? reject(error as Error) : resolve(done)),
    );
    instance.on('response', (_client, status, _bytes, responseTime) => {
      if (status === 200) latencies.push(responseTime);
      else errors++;
    });
  });
  return { latencies, seconds: (performance.now() - t0) / 1000, errors: errors + result.errors + result.timeouts };
}

function summary(segments: Segment[]): { throughput: number; p50: number; p99: number; errors: number; cpuMsPerRequest: number } {
  const sorted = segments.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
  const seconds = segments.reduce((t, s) => t + s.seconds, 0);
  const cpuMs = segments.reduce((t, s) => t + (s.cpuMs ?? 0), 0);
  return { throughput: sorted.length / seconds, p50: at(50), p99: at(99), errors: segments.reduce((t, s) => t + s.errors, 0), cpuMsPerRequest: cpuMs / sorted.length };
}

async function startBenchServer(): Promise<{ child: ChildProcess; url: string; backend: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/predictServer.ts', CACHE_DIR, 'auto'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (text) => {
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        if (line.event === 'ready') resolve(line);
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return { child, url: ready.url as string, backend: String(ready.backend) };
}

async function main(): Promise<void> {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  console.log(JSON.stringify({ event: 'machine', nproc: os.availableParallelism(), cpu, node: process.version, loadavg: os.loadavg().map((l) => l.toFixed(2)).join(' ') }));
  const registry = createModelRegistry({ models: [FACIAL_EXPRESSION] }, { repository: { cacheDir: CACHE_DIR } });
  await registry.whenSettled();
  if (!registry.isReady()) throw new Error(JSON.stringify(registry.list()));
  const model = registry.resolve(FACIAL_EXPRESSION.name);
  const { inputs, outputs } = model.signature();
  const input = inputs[0]!.name;
  const infer = (tensors: NamedTensors) => model.infer(tensors, { transfer: true });
  const server = await startBenchServer();
  console.log(JSON.stringify({ event: 'backends', inProcess: registry.list()[0]!.backend, server: server.backend, threads: registry.executor.threads }));
  const paths = httpPaths(input, outputs[0]!.name);

  // Warm-up of every path.
  await inProcess(infer, input, 4);
  for (const target of paths) await overHttp(server.url, target, 4, 2);

  const table: string[] = [];
  for (const concurrency of CONCURRENCIES) {
    const local: Segment[] = [];
    const remote = new Map<string, Segment[]>(paths.map((p) => [p.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      local.push(await measured(process.pid, () => inProcess(infer, input, concurrency)));
      for (const target of paths) remote.get(target.name)!.push(await measured(server.child.pid!, () => overHttp(server.url, target, concurrency)));
    }
    const base = summary(local);
    console.log(JSON.stringify({ event: 'point', concurrency, path: 'in-process', ...base }));
    table.push(`| ${concurrency} | in-process (registry.infer) | ${base.throughput.toFixed(1)} | 100% | ${base.p50.toFixed(2)} | ${base.p99.toFixed(2)} | ${base.cpuMsPerRequest.toFixed(2)} | ${base.errors} |`);
    for (const target of paths) {
      const s = summary(remote.get(target.name)!);
      console.log(JSON.stringify({ event: 'point', concurrency, path: target.name, ...s }));
      table.push(
        `| ${concurrency} | ${target.name} | ${s.throughput.toFixed(1)} | ${((100 * s.throughput) / base.throughput).toFixed(1)}% | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${s.cpuMsPerRequest.toFixed(2)} | ${s.errors} |`,
      );
    }
  }
  await registry.close();
  server.child.kill('SIGTERM');
  await new Promise((resolve) => server.child.once('exit', resolve));
  console.log(`\nloadavg at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('\n| concurrency | path | req/s | of in-process | p50 ms | p99 ms | CPU ms per request (serving process) | errors |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const row of table) console.log(row);
}

await main();
