/**
 * End-to-end latency and throughput of POST /v1/vision/facial-expressions over HTTP, with the server's
 * stage breakdown (decode, detect, classify) read from each response's timing block.
 *
 *   npx tsx bench/vision.ts                         # tfjs-wasm, workers 1 and 2, concurrency 1 and 4
 *   npx tsx bench/vision.ts --backend auto --seconds 20 --workers 1,2
 *
 * Each server (one per worker count) runs in a child process (bench/visionServer.ts) so the load generator
 * does not share its event loop. Closed loop: each of `concurrency` clients sends its next request when the
 * previous one is answered. `--seconds` per configuration is split into `--rounds` windows taken in turn.
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { mean, percentile } from './stats.js';
import { startVisionServer, stopServer, type VisionServer } from './benchServer.js';
import type { Timing } from '../clients/typescript/src/index.js';
import { samplePath, singleFace640x480 } from '../test/helpers/samplePhotos.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'tfjs' },
    workers: { type: 'string', default: '1,2' },
    concurrency: { type: 'string', default: '1,4' },
    seconds: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '5' },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const workerCounts = values.workers.split(',').map(Number);
const concurrencies = values.concurrency.split(',').map(Number);


interface Workload {
  name: string;
  images: Buffer[];
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

async function startServer(workers: number): Promise<VisionServer> {
  return startVisionServer({ name: 'benchmark server', workers, backend: values.backend });
}

const r1 = (v: number) => Math.round(v * 10) / 10;

interface Measurement {
  latencies: number[];
  timings: Timing[];
  faces: number;
  seconds: number;
}

async function post(url: string, image: Buffer): Promise<{ ms: number; faces: number; timing: Timing }> {
  const t0 = performance.now();
  const response = await fetch(`${url}/v1/vision/facial-expressions`, { method: 'POST', body: new Uint8Array(image), headers: { 'Content-Type': 'image/jpeg' } });
  const body = (await response.json()) as { faces: unknown[]; timing: Timing; error?: string };
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${body.error}`);
  return { ms: performance.now() - t0, faces: body.faces.length, timing: body.timing };
}

/** Not measured: every image of the workload once, so each engine thread has run the models. */
async function warm(url: string, workload: Workload): Promise<void> {
  for (let i = 0; i < 2; i++) await Promise.all(workload.images.map((image) => post(url, image)));
}

async function run(url: string, workload: Workload, concurrency: number, durationMs: number): Promise<Measurement> {
  const m: Measurement = { latencies: [], timings: [], faces: 0, seconds: 0 };
  let next = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const client = async () => {
    while (performance.now() < deadline) {
      const answer = await post(url, workload.images[next++ % workload.images.length]);
      m.latencies.push(answer.ms);
      m.timings.push(answer.timing);
      m.faces += answer.faces;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  m.seconds = (performance.now() - started) / 1000;
  return m;
}

function summarise(ms: Measurement[]): Omit<Row, 'backend' | 'workers' | 'workload' | 'concurrency'> {
  const latencies = ms.flatMap((m) => m.latencies).sort((a, b) => a - b);
  const timings = ms.flatMap((m) => m.timings);
  const seconds = ms.reduce((s, m) => s + m.seconds, 0);
  return {
    requests: latencies.length,
    throughput: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    stages: {
      decode: mean(timings.map((t) => t.decode)),
      detect: mean(timings.map((t) => t.detect ?? 0)),
      classify: mean(timings.map((t) => t.classify ?? 0)),
      inference: mean(timings.map((t) => t.inference ?? 0)),
      server: mean(timings.map((t) => t.total)),
    },
    faces: ms.reduce((s, m) => s + m.faces, 0) / Math.max(1, latencies.length),
  };
}

const singleFace = await singleFace640x480();
const workloads: Workload[] = [
  { name: '640x480, 1 face', images: [singleFace] },
  { name: 'samples 1-6 (1920 px, 3-5 faces)', images: [1, 2, 3, 4, 5, 6].map((n) => readFileSync(samplePath(n))) },
];

// Every configuration gets the same number of short windows, taken in turn (round robin), so a change in
// what else runs on the machine hits all of them alike instead of skewing the one that happened to run then.
interface Cell {
  workers: number;
  workload: Workload;
  concurrency: number;
  acc: Measurement[];
}
const servers = new Map<number, VisionServer>();
for (const workers of workerCounts) servers.set(workers, await startServer(workers));
const cells: Cell[] = workerCounts.flatMap((workers) =>
  workloads.flatMap((workload) => concurrencies.map((concurrency) => ({ workers, workload, concurrency, acc: [] as Measurement[] }))),
);
const rows: Row[] = [];
try {
  for (const c of cells) await warm(servers.get(c.workers)!.url, c.workload);
  for (let round = 0; round < rounds; round++) {
    for (const c of cells) c.acc.push(await run(servers.get(c.workers)!.url, c.workload, c.concurrency, (seconds * 1000) / rounds));
    process.stderr.write(`round ${round + 1}/${rounds} done, load ${os.loadavg()[0].toFixed(1)}\n`);
  }
} finally {
  for (const s of servers.values()) await stopServer(s.child);
}
for (const c of cells) {
  const row: Row = { backend: servers.get(c.workers)!.backends.join('+'), workers: c.workers, workload: c.workload.name, concurrency: c.concurrency, ...summarise(c.acc) };
  rows.push(row);
  process.stderr.write(`${JSON.stringify(row)}\n`);
}
const backendsSeen = [...new Set([...servers.values()].flatMap((s) => s.backends))];

const load = os.loadavg().map((v) => v.toFixed(1)).join(' / ');
const lines = [
  `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; load average at the end ${load}.`,
  `Command: npx tsx bench/vision.ts --backend ${values.backend} --workers ${values.workers} --concurrency ${values.concurrency} --seconds ${seconds} --rounds ${rounds}`,
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
