/**
 * The flagship path end to end, tfjs-wasm against the compiled ONNX models: a 640x480 JPEG with one face
 * (cut from face-api's sample1.jpg with sharp) sent to POST /v1/vision/facial-expressions over HTTP (decode,
 * face detection, expression classification), plus each model's engine latency on one thread.
 *
 *   npx tsx bench/flagship.ts [--seconds 30] [--rounds 6]
 *
 * Servers (bench/visionServer.ts, each in its own process):
 *   tfjs-1w      every model forced onto tfjs-wasm, 1 worker, pinned to one core (taskset -c 0)
 *   onnx-1w      the pool's own choice (auto: compiled ONNX), 1 worker, pinned to the same core
 *   onnx-2w      auto, 2 workers, both cores
 * One-worker servers are pinned so that "one core" is what they get: the runtime then also sizes
 * onnxruntime's intra-op threads for one core (floor(cores / workers) = 1). Latency is measured with one
 * client (closed loop), throughput with 4. The CPU time each server process got (from /proc) is reported
 * next to it: on a shared machine, throughput follows the cores the scheduler hands out. Every configuration gets the same number of short windows, taken
 * in turn, so a change in what else runs on the machine hits all of them alike.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startVisionServer, stopServer } from './benchServer.js';
import { mean, median, percentile, r1, r2 } from './stats.js';
import type { Timing } from '../clients/typescript/src/index.js';
import { singleFace640x480 } from '../test/helpers/samplePhotos.js';
import { createOnnxSession } from '../inference-runtime/compiler/onnxSession.js';
import { compileAndVerify, randomInputs } from '../inference-runtime/compiler/verify.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '30' }, rounds: { type: 'string', default: '6' } } });
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);


interface Server {
  name: string;
  url: string;
  backends: string[];
  child: ChildProcess;
}

async function startServer(name: string, workers: number, backend: string, pin?: string): Promise<Server> {
  return { name, ...(await startVisionServer({ name, workers, backend, pin })) };
}


async function post(url: string, image: Uint8Array<ArrayBuffer>): Promise<{ ms: number; timing: Timing }> {
  const t0 = performance.now();
  const response = await fetch(`${url}/v1/vision/facial-expressions`, { method: 'POST', body: image, headers: { 'Content-Type': 'image/jpeg' } });
  const body = (await response.json()) as { faces: unknown[]; timing: Timing; error?: string };
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${body.error}`);
  if (body.faces.length !== 1) throw new Error(`expected one face, got ${body.faces.length}`);
  return { ms: performance.now() - t0, timing: body.timing };
}

interface Window {
  latencies: number[];
  timings: Timing[];
  seconds: number;
  /** CPU seconds the server process (all its threads) got during the window. */
  cpuSeconds: number;
}

/** User + system CPU time of a process, in seconds (Linux /proc; clock ticks of 1/100 s). */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function run(server: Server, image: Uint8Array<ArrayBuffer>, concurrency: number, ms: number): Promise<Window> {
  const { url } = server;
  const w: Window = { latencies: [], timings: [], seconds: 0, cpuSeconds: 0 };
  const cpuBefore = cpuSecondsOf(server.child.pid!);
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const answer = await post(url, image);
        w.latencies.push(answer.ms);
        w.timings.push(answer.timing);
      }
    }),
  );
  w.seconds = (performance.now() - started) / 1000;
  w.cpuSeconds = cpuSecondsOf(server.child.pid!) - cpuBefore;
  return w;
}


/** Engine latency of the compiled emotion and blazeface models, batch 1, one intra-op thread, pinned nowhere. */
async function engineLatencies(): Promise<{ model: string; ms: number }[]> {
  const models = fileURLToPath(new URL('../node_modules/@vladmandic/human/models/', import.meta.url));
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'bench-flagship-'));
  const out: { model: string; ms: number }[] = [];
  try {
    for (const model of ['emotion', 'blazeface']) {
      const result = await compileAndVerify({ modelJsonPath: path.join(models, `${model}.json`), cacheDir });
      if (!result.verified) throw new Error(`${model}: ${result.reason}`);
      const session = await createOnnxSession(result.onnxPath, { intraOpThreads: 1 });
      const inputs = randomInputs(result.inputs, 1, 3);
      for (let i = 0; i < 5; i++) await session.run(inputs);
      const times: number[] = [];
      const started = performance.now();
      while (times.length < 20 || (performance.now() - started < 5000 && times.length < 500)) {
        const t0 = performance.now();
        await session.run(inputs);
        times.push(performance.now() - t0);
      }
      await session.release();
      out.push({ model, ms: median(times) });
    }
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
  return out;
}

const image: Uint8Array<ArrayBuffer> = new Uint8Array(
  await singleFace640x480(),
);
const loadBefore = os.loadavg();
const engines = await engineLatencies();

const servers = [await startServer('tfjs-1w', 1, 'tfjs', '0'), await startServer('onnx-1w', 1, 'auto', '0'), await startServer('onnx-2w', 2, 'auto')];
const cells = servers.flatMap((server) => [1, 4].map((concurrency) => ({ server, concurrency, windows: [] as Window[] })));
try {
  for (const s of servers) for (let i = 0; i < 10; i++) await post(s.url, image);
  for (let round = 0; round < rounds; round++) {
    for (const c of cells) c.windows.push(await run(c.server, image, c.concurrency, (seconds * 1000) / rounds));
    process.stderr.write(`round ${round + 1}/${rounds}, load ${os.loadavg()[0].toFixed(1)}\n`);
  }
} finally {
  for (const s of servers) await stopServer(s.child);
}
const loadAfter = os.loadavg();

const rows = cells.map((c) => {
  const latencies = c.windows.flatMap((w) => w.latencies);
  const timings = c.windows.flatMap((w) => w.timings);
  const secs = c.windows.reduce((n, w) => n + w.seconds, 0);
  const cpu = c.windows.reduce((n, w) => n + w.cpuSeconds, 0);
  return {
    server: c.server.name,
    backends: c.server.backends.join(', '),
    concurrency: c.concurrency,
    requests: latencies.length,
    perSecond: latencies.length / secs,
    cores: cpu / secs,
    perCpuSecond: latencies.length / Math.max(cpu, 1e-9),
    p50: median(latencies),
    p95: percentile(latencies, 95),
    decode: mean(timings.map((t) => t.decode)),
    detect: mean(timings.map((t) => t.detect ?? 0)),
    classify: mean(timings.map((t) => t.classify ?? 0)),
    inference: mean(timings.map((t) => t.inference ?? 0)),
  };
});
const at = (server: string, concurrency: number) => rows.find((r) => r.server === server && r.concurrency === concurrency)!;

const lines = [
  `Machine: nproc ${os.availableParallelism()}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}.`,
  `Load average (1/5/15 min): before ${loadBefore.map((v) => v.toFixed(1)).join(' / ')}, after ${loadAfter.map((v) => v.toFixed(1)).join(' / ')}.`,
  `Command: npx tsx bench/flagship.ts --seconds ${seconds} --rounds ${rounds}`,
  '',
  '| model (compiled, 1 intra-op thread) | batch | engine latency p50 ms |',
  '|---|---:|---:|',
  ...engines.map((e) => `| ${e.model} | 1 | ${r2(e.ms)} |`),
  '',
  '| server | engine | clients | requests | req/s | cores used | req per CPU-s | p50 ms | p95 ms | decode ms | detect ms | classify ms | of which inference ms |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.server} | ${r.backends} | ${r.concurrency} | ${r.requests} | ${r2(r.perSecond)} | ${r2(r.cores)} | ${r1(r.perCpuSecond)} | ${r1(r.p50)} | ${r1(r.p95)} | ${r1(r.decode)} | ${r1(r.detect)} | ${r1(r.classify)} | ${r1(r.inference)} |`,
  ),
  '',
  `Flagship p50, one client, one core: tfjs-wasm ${r1(at('tfjs-1w', 1).p50)} ms, compiled ${r1(at('onnx-1w', 1).p50)} ms (${r2(at('tfjs-1w', 1).p50 / at('onnx-1w', 1).p50)}x).`,
  `Throughput, 4 clients, compiled: 1 worker ${r2(at('onnx-1w', 4).perSecond)}/s, 2 workers ${r2(at('onnx-2w', 4).perSecond)}/s (${r2(at('onnx-2w', 4).perSecond / at('onnx-1w', 4).perSecond)}x); CPU the server got: ${r2(at('onnx-1w', 4).cores)} vs ${r2(at('onnx-2w', 4).cores)} cores.`,
];
process.stdout.write(`${lines.join('\n')}\n`);
