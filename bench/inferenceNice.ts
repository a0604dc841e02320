/**
 * The inference workers' priority (core/threadPriority.ts) measured: servers of this checkout started with
 * the workers at the event loop's priority (`MLOFFLOAD_INFERENCE_NICE=0`) and 10 nice steps below it, for 2
 * workers on 2 cores, 1 worker pinned to one core, and 1 worker on 2 cores (its sessions on 2 intra-op
 * threads), under the flagship 640x480 request from `--clients` closed-loop clients. Every server is warmed
 * up for `--warmup` seconds, then the windows go round all servers, in reverse order every other round, so
 * the machine's drift falls on both priorities alike. Per server: requests/s, the cores it used, its CPU a
 * request, the share of time its event loop was runnable but waited for a core, and the cores left idle.
 *
 *   npx tsx bench/inferenceNice.ts [--window 4] [--rounds 6] [--clients 8] [--warmup 20]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startVisionServer, stopServer } from './benchServer.js';
import { r1, r2 } from './stats.js';
import { loadWindow, type Window } from './visionWindow.js';
import { singleFace640x480 } from '../test/helpers/samplePhotos.js';

const { values } = parseArgs({ options: { window: { type: 'string', default: '4' }, rounds: { type: 'string', default: '6' }, clients: { type: 'string', default: '8' }, warmup: { type: 'string', default: '20' } } });
const windowMs = Number(values.window) * 1000;
const rounds = Number(values.rounds);
const clients = Number(values.clients);
const warmupMs = Number(values.warmup) * 1000;

const layouts = [
  { what: '2 workers on 2 cores', workers: 2 },
  { what: '1 worker on core 0', workers: 1, pin: '0' },
  { what: '1 worker on 2 cores', workers: 1 },
];
const nices = ['0', '10'];

const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-inference-nice-'));
const image = path.join(tmp, 'face640.jpg');
await writeFile(image, await singleFace640x480());
const loadBefore = os.loadavg();
const servers = [];
for (const layout of layouts) {
  for (const nice of nices) {
    const name = `${layout.what}, nice ${nice}`;
    const { url, child } = await startVisionServer({ name, workers: layout.workers, backend: 'auto', pin: layout.pin, env: { MLOFFLOAD_INFERENCE_NICE: nice } });
    servers.push({ ...layout, nice, name, url, child, pid: child.pid!, windows: [] as Window[] });
  }
}
try {
  for (const s of servers) await loadWindow(s, [image], clients, warmupMs);
  for (let round = 0; round < rounds; round++) {
    for (const s of round % 2 === 0 ? servers : [...servers].reverse()) s.windows.push(await loadWindow(s, [image], clients, windowMs));
    process.stderr.write(`round ${round + 1}/${rounds}, load ${os.loadavg()[0].toFixed(1)}\n`);
  }
} finally {
  for (const s of servers) await stopServer(s.child);
  await rm(tmp, { recursive: true, force: true });
}
const loadAfter = os.loadavg();

const rows = servers.map((s) => {
  const sum = (f: (w: Window) => number) => s.windows.reduce((n, w) => n + f(w), 0);
  const seconds = sum((w) => w.seconds);
  const requests = sum((w) => w.latencies.length);
  return { ...s, perSecond: requests / seconds, serverCores: sum((w) => w.serverCpuSeconds) / seconds, cpuMs: (sum((w) => w.serverCpuSeconds) * 1000) / requests, waiting: sum((w) => w.mainWaitSeconds) / seconds, idleCores: sum((w) => w.idleCores * w.seconds) / seconds };
});
const lines = [
  `Machine: nproc ${os.availableParallelism()}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}.`,
  `Load average (1/5/15 min): before ${loadBefore.map((v) => v.toFixed(1)).join(' / ')}, after ${loadAfter.map((v) => v.toFixed(1)).join(' / ')}.`,
  `Command: npx tsx bench/inferenceNice.ts --window ${windowMs / 1000} --rounds ${rounds} --clients ${clients} --warmup ${warmupMs / 1000}`,
  '',
  '| layout | workers\' nice steps | req/s | against nice 0 | server cores | server CPU ms a request | event loop waiting | idle cores |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => {
    const base = rows.find((b) => b.what === r.what && b.nice === '0')!;
    return `| ${r.what} | ${r.nice} | ${r1(r.perSecond)} | ${r2(r.perSecond / base.perSecond)}x | ${r2(r.serverCores)} | ${r2(r.cpuMs)} | ${r1(r.waiting * 100)}% | ${r2(r.idleCores)} |`;
  }),
];
process.stdout.write(`${lines.join('\n')}\n`);
