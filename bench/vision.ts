/**
 * End-to-end latency and throughput of POST /v1/vision/facial-expressions over HTTP, with the server's
 * stage breakdown (decode, detect, classify) read from each response's timing block.
 *
 *   npx tsx bench/vision.ts                         # tfjs-wasm, workers 1 and 2, concurrency 1 and 4
 *   npx tsx bench/vision.ts --backend auto --seconds 20 --workers 1,2
 *
 * The server runs in a child process (bench/visionServer.ts) so the load generator does not share its
 * event loop. Closed loop: each of `concurrency` clients sends its next request when the previous answered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import sharp from 'sharp';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'tfjs' },
    workers: { type: 'string', default: '1,2' },
    concurrency: { type: 'string', default: '1,4' },
    seconds: { type: 'string', default: '15' },
  },
});
const seconds = Number(values.seconds);
const workerCounts = values.workers.split(',').map(Number);
const concurrencies = values.concurrency.split(',').map(Number);

const require = createRequire(import.meta.url);
function sampleFile(n: number): string {
  let dir = path.dirname(require.resolve('@vladmandic/face-api'));
  while (path.basename(dir) !== 'face-api') dir = path.dirname(dir);
  return path.join(dir, 'demo', `sample${n}.jpg`);
}

interface Workload {
  name: string;
  images: Buffer[];
}

interface Timing {
  decode: number;
  detect?: number;
  classify?: number;
  inference?: number;
  total: number;
}

interface Row {
  backend: string;
  workers: number;
  workload: string;
  concurrency: number;
  requests: number;
  throughput: number;
  p50: number;
  p95: number;
  stages: { decode: number; detect: number; classify: number; inference: number; server: number };
  faces: number;
}

async function startServer(workers: number): Promise<{ url: string; backends: string[]; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('bench', 'visionServer.ts'), '--workers', String(workers), '--backend', values.backend], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    try {
      const info = JSON.parse(line) as { url: string; backends: string[] };
      return { ...info, child };
    } catch {
      // not the ready line
    }
  }
  throw new Error('benchmark server exited before it was ready');
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const r1 = (v: number) => Math.round(v * 10) / 10;

async function run(url: string, workload: Workload, concurrency: number, durationMs: number) {
  const latencies: number[] = [];
  const timings: Timing[] = [];
  let faces = 0;
  let next = 0;
  const post = async (image: Buffer) => {
    const t0 = performance.now();
    const response = await fetch(`${url}/v1/vision/facial-expressions`, { method: 'POST', body: new Uint8Array(image), headers: { 'Content-Type': 'image/jpeg' } });
    const body = (await response.json()) as { faces: unknown[]; timing: Timing; error?: string };
    if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${body.error}`);
    return { ms: performance.now() - t0, body };
  };
  // Warm-up: every image once per client slot, not measured.
  for (const image of workload.images) await post(image);
  const started = performance.now();
  const deadline = started + durationMs;
  const client = async () => {
    while (performance.now() < deadline) {
      const image = workload.images[next++ % workload.images.length];
      const { ms, body } = await post(image);
      latencies.push(ms);
      timings.push(body.timing);
      faces += body.faces.length;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    throughput: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    stages: {
      decode: mean(timings.map((t) => t.decode)),
      detect: mean(timings.map((t) => t.detect ?? 0)),
      classify: mean(timings.map((t) => t.classify ?? 0)),
      inference: mean(timings.map((t) => t.inference ?? 0)),
      server: mean(timings.map((t) => t.total)),
    },
    faces: faces / Math.max(1, latencies.length),
  };
}

const singleFace = await sharp(readFileSync(sampleFile(1))).extract({ left: 1280, top: 100, width: 640, height: 480 }).jpeg({ quality: 90 }).toBuffer();
const workloads: Workload[] = [
  { name: '640x480, 1 face', images: [singleFace] },
  { name: 'samples 1-6 (1920 px, 3-5 faces)', images: [1, 2, 3, 4, 5, 6].map((n) => readFileSync(sampleFile(n))) },
];

const rows: Row[] = [];
let backendsSeen: string[] = [];
for (const workers of workerCounts) {
  const server = await startServer(workers);
  backendsSeen = server.backends;
  try {
    for (const workload of workloads) {
      for (const concurrency of concurrencies) {
        const result = await run(server.url, workload, concurrency, seconds * 1000);
        const row: Row = { backend: server.backends.join('+'), workers, workload: workload.name, concurrency, ...result };
        rows.push(row);
        process.stderr.write(`${JSON.stringify(row)}\n`);
      }
    }
  } finally {
    await stopServer(server.child);
  }
}

const load = os.loadavg().map((v) => v.toFixed(1)).join(' / ');
const lines = [
  `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; load average at the end ${load}.`,
  `Command: npx tsx bench/vision.ts --backend ${values.backend} --workers ${values.workers} --concurrency ${values.concurrency} --seconds ${seconds}`,
  `Engines: ${backendsSeen.join(', ')}`,
  '',
  '| workers | image | concurrency | requests | req/s | p50 ms | p95 ms | decode ms | detect ms | classify ms | of which inference ms | server total ms | faces/req |',
  '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) =>
    `| ${r.workers} | ${r.workload} | ${r.concurrency} | ${r.requests} | ${r.throughput.toFixed(2)} | ${r1(r.p50)} | ${r1(r.p95)} | ${r1(r.stages.decode)} | ${r1(r.stages.detect)} | ${r1(r.stages.classify)} | ${r1(r.stages.inference)} | ${r1(r.stages.server)} | ${r.faces.toFixed(1)} |`,
  ),
];
const scaling = workloads.map((w) => {
  const at = (n: number) => rows.find((r) => r.workers === n && r.workload === w.name && r.concurrency === Math.max(...concurrencies));
  const one = at(1);
  const two = at(2);
  return one && two ? `Throughput ${w.name}, concurrency ${one.concurrency}: workers 1 -> 2 = ${(two.throughput / one.throughput).toFixed(2)}x` : '';
});
lines.push('', ...scaling.filter(Boolean));
process.stdout.write(`${lines.join('\n')}\n`);
mkdirSync('test-output', { recursive: true });
writeFileSync(path.join('test-output', `bench-vision-${values.backend}.json`), JSON.stringify({ load, rows }, null, 2));
