/**
 * The inference workers' priority (core/threadPriority.ts) measured: servers of this checkout started with
 * the workers at the event loop's priority (`MLOFFLOAD_INFERENCE_NICE=0`) and 10 nice steps below it, side by
 * side, in these layouts:
 * - the flagship 640x480 request (bench/visionServer.ts) from `--clients` closed-loop clients of a niced
 *   generator process (bench/visionWindow.ts): 2 workers on 2 cores, 1 worker pinned to core 0, and 1 worker
 *   on 2 cores (its sessions on 2 intra-op threads);
 * - TF Serving JSON `:predict` of facial-expression (bench/predictServer.ts) from `--connections`
 *   autocannon connections in this process: 2 workers on 2 cores, and 1 worker pinned to core 1.
 *
 * Every server is warmed up for `--warmup` seconds, then the windows go round all servers, in reverse order
 * every other round, so the machine's drift falls on both priorities alike. Per server: requests/s, the
 * cores it used, its CPU a request, p50 and p99, the share of time its event loop was runnable but waited
 * for a core, and the cores the machine left idle.
 *
 *   npx tsx bench/inferenceNice.ts [--window 4] [--rounds 6] [--clients 8] [--connections 4] [--warmup 20]
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startPredictServer, startVisionServer, stopServer } from './benchServer.js';
import { expressionPredictBody } from './expressionLoad.js';
import { httpLoad } from './httpLoad.js';
import { eventLoopWaitSeconds, idleCoresBetween, machineTicks, processCpuMs } from './processStats.js';
import { median, percentile, r1, r2 } from './stats.js';
import { loadWindow } from './visionWindow.js';
import { singleFace640x480 } from '../test/helpers/samplePhotos.js';

const { values } = parseArgs({
  options: {
    window: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '6' },
    clients: { type: 'string', default: '8' },
    connections: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '20' },
  },
});
const windowMs = Number(values.window) * 1000;
const rounds = Number(values.rounds);
const clients = Number(values.clients);
const connections = Number(values.connections);
const warmupMs = Number(values.warmup) * 1000;

/** What one window gave. */
interface Measured {
  latencies: number[];
  seconds: number;
  serverCpuSeconds: number;
  mainWaitSeconds: number;
  idleCores: number;
}

interface Cell {
  what: string;
  nice: string;
  child: ChildProcess;
  window(ms: number): Promise<Measured>;
  windows: Measured[];
}

const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-inference-nice-'));
const image = path.join(tmp, 'face640.jpg');
await writeFile(image, await singleFace640x480());

async function visionCell(what: string, workers: number, nice: string, pin?: string): Promise<Cell> {
  const name = `${what}, nice ${nice}`;
  const { url, child } = await startVisionServer({ name, workers, backend: 'auto', pin, env: { MLOFFLOAD_INFERENCE_NICE: nice } });
  const target = { name, url, pid: child.pid! };
  return { what, nice, child, windows: [], window: async (ms) => loadWindow(target, [image], clients, ms) };
}

const predictBody = expressionPredictBody();
async function predictCell(what: string, nice: string, pin?: string): Promise<Cell> {
  const { url, child } = await startPredictServer({ name: what, cacheDir: path.join(os.tmpdir(), 'mloffload-bench-cache'), pin, env: { MLOFFLOAD_INFERENCE_NICE: nice } });
  const spec = { url: `${url}/v1/models/facial-expression:predict`, headers: { 'content-type': 'application/json' }, body: predictBody };
  const pid = child.pid!;
  return {
    what,
    nice,
    child,
    windows: [],
    window: async (ms) => {
      const [cpu, wait, ticks] = [processCpuMs(pid), eventLoopWaitSeconds(pid), machineTicks()];
      const segment = await httpLoad(spec, connections, { seconds: ms / 1000 });
      if (segment.errors > 0) throw new Error(`${what}: ${segment.errors} wrong answers`);
      return { latencies: segment.latencies, seconds: segment.seconds, serverCpuSeconds: (processCpuMs(pid) - cpu) / 1000, mainWaitSeconds: eventLoopWaitSeconds(pid) - wait, idleCores: idleCoresBetween(ticks, machineTicks()) };
    },
  };
}

const loadBefore = os.loadavg();
const cells: Cell[] = [];
try {
  for (const nice of ['0', '10']) {
    cells.push(await visionCell('flagship, 2 workers on 2 cores', 2, nice));
    cells.push(await visionCell('flagship, 1 worker on core 0', 1, nice, '0'));
    cells.push(await visionCell('flagship, 1 worker on 2 cores', 1, nice));
    cells.push(await predictCell(':predict, 2 workers on 2 cores', nice));
    cells.push(await predictCell(':predict, 1 worker on core 1', nice, '1'));
  }
  for (const c of cells) await c.window(warmupMs);
  for (let round = 0; round < rounds; round++) {
    for (const c of round % 2 === 0 ? cells : [...cells].reverse()) c.windows.push(await c.window(windowMs));
    process.stderr.write(`round ${round + 1}/${rounds}, load ${os.loadavg()[0].toFixed(1)}\n`);
  }
} finally {
  for (const c of cells) await stopServer(c.child);
  await rm(tmp, { recursive: true, force: true });
}
const loadAfter = os.loadavg();

const rows = cells.map((c) => {
  const sum = (f: (w: Measured) => number) => c.windows.reduce((n, w) => n + f(w), 0);
  const seconds = sum((w) => w.seconds);
  const latencies = c.windows.flatMap((w) => w.latencies);
  return {
    ...c,
    perSecond: latencies.length / seconds,
    serverCores: sum((w) => w.serverCpuSeconds) / seconds,
    cpuMs: (sum((w) => w.serverCpuSeconds) * 1000) / latencies.length,
    p50: median(latencies),
    p99: percentile(latencies, 99),
    waiting: sum((w) => w.mainWaitSeconds) / seconds,
    idleCores: sum((w) => w.idleCores * w.seconds) / seconds,
  };
});
const lines = [
  `Machine: nproc ${os.availableParallelism()}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}.`,
  `Load average (1/5/15 min): before ${loadBefore.map((v) => v.toFixed(1)).join(' / ')}, after ${loadAfter.map((v) => v.toFixed(1)).join(' / ')}.`,
  `Command: npx tsx bench/inferenceNice.ts --window ${windowMs / 1000} --rounds ${rounds} --clients ${clients} --connections ${connections} --warmup ${warmupMs / 1000}`,
  '',
  "| layout | workers' nice steps | req/s | against nice 0 | server cores | server CPU ms a request | p50 ms | p99 ms | event loop waiting | idle cores |",
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...[...rows]
    .sort((a, b) => cells.indexOf(cells.find((c) => c.what === a.what)!) - cells.indexOf(cells.find((c) => c.what === b.what)!))
    .map((r) => {
      const base = rows.find((b) => b.what === r.what && b.nice === '0')!;
      return `| ${r.what} | ${r.nice} | ${r1(r.perSecond)} | ${r2(r.perSecond / base.perSecond)}x | ${r2(r.serverCores)} | ${r2(r.cpuMs)} | ${r2(r.p50)} | ${r2(r.p99)} | ${r1(r.waiting * 100)}% | ${r2(r.idleCores)} |`;
    }),
];
process.stdout.write(`${lines.join('\n')}\n`);
