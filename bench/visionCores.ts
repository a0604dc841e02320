/**
 * The flagship request on one core and the scaling to two, with the load generator kept apart: latency of a
 * 640x480 one-face JPEG and of face-api's 1920 px group photos (sample1-6) against a one-worker server pinned
 * to core 0 (client pinned to core 1), and throughput of 1 worker on 1 core against 2 workers on 2 cores. The
 * load generator (bench/visionLoad.ts) is a process of its own, niced to 19, whose CPU is counted apart from
 * the server's; requests per server CPU-second compare the servers whatever the scheduler gave them, and
 * the server's CPU per request is split by thread (event loop, libvips, the rest) from /proc. A third server,
 * 1 worker on both cores (a pod whose memory limit allows one worker), shows what its onnxruntime sessions'
 * intra-op threads (2, one per core the other workers leave free) cost and give.
 *
 * Every server is first driven at the throughput load for `--warmup` seconds (default 20): a fresh server's
 * CPU per request falls for 15-20 s under load (V8 keeps optimising the request path; 2 workers went from
 * 211 to 271 requests/s over their first 20 s), and the figures are about a server past its first minute.
 *
 *   npx tsx bench/visionCores.ts [--seconds 16] [--rounds 4] [--clients 4] [--warmup 20] [--baseline /path/to/other/checkout]
 *
 * With `--baseline`, the same servers are also started from another checkout (with its own node_modules: the
 * code before a change) and every window alternates between the two, so a before/after ratio comes from one
 * run on a shared machine. Two checkouts are not alike here either: in one run a server whose code was the
 * same in both served 6% fewer requests from the first; a change of a few percent is better compared within
 * one checkout, as bench/inferenceNice.ts does.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startVisionServer, stopServer } from './benchServer.js';
import { mean, median, percentile, r1, r2 } from './stats.js';
import { loadWindow, type LoadTarget, type Window } from './visionWindow.js';
import { samplePath, singleFace640x480 } from '../test/helpers/samplePhotos.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '16' }, rounds: { type: 'string', default: '4' }, clients: { type: 'string', default: '4' }, warmup: { type: 'string', default: '20' }, baseline: { type: 'string' } } });
/** Concurrent clients of the throughput windows: enough requests in flight to keep every stage of both workers busy. */
const throughputClients = Number(values.clients);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const warmupSeconds = Number(values.warmup);
const checkouts = [{ label: 'now', dir: process.cwd() }, ...(values.baseline ? [{ label: 'before', dir: path.resolve(values.baseline) }] : [])];

interface Server extends LoadTarget {
  child: ChildProcess;
}

async function startServer(name: string, dir: string, workers: number, pin?: string): Promise<Server> {
  const { url, child } = await startVisionServer({ name, workers, backend: 'auto', pin, cwd: dir });
  return { name, url, child, pid: child.pid! };
}

const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-vision-cores-'));
const flagship = path.join(tmp, 'face640.jpg');
await writeFile(flagship, await singleFace640x480());
const groups = [1, 2, 3, 4, 5, 6].map(samplePath);

const loadBefore = os.loadavg();
const servers: { label: string; oneCore: Server; twoWorkers: Server; oneWorkerTwoCores: Server }[] = [];
for (const c of checkouts) {
  servers.push({
    label: c.label,
    oneCore: await startServer(`${c.label} 1w core 0`, c.dir, 1, '0'),
    twoWorkers: await startServer(`${c.label} 2w`, c.dir, 2),
    oneWorkerTwoCores: await startServer(`${c.label} 1w 2 cores`, c.dir, 1),
  });
}

interface Cell {
  checkout: string;
  what: string;
  server: Server;
  images: string[];
  clients: number;
  pin?: string;
  windows: Window[];
}
const cells: Cell[] = servers.flatMap((s) => [
  { checkout: s.label, what: 'latency 640x480, 1 worker on core 0', server: s.oneCore, images: [flagship], clients: 1, pin: '1', windows: [] },
  { checkout: s.label, what: 'latency group sample1-6, 1 worker on core 0', server: s.oneCore, images: groups, clients: 1, pin: '1', windows: [] },
  { checkout: s.label, what: 'throughput 640x480, 1 worker on core 0', server: s.oneCore, images: [flagship], clients: throughputClients, windows: [] },
  { checkout: s.label, what: 'throughput 640x480, 2 workers on 2 cores', server: s.twoWorkers, images: [flagship], clients: throughputClients, windows: [] },
  { checkout: s.label, what: 'latency 640x480, 1 worker on 2 cores', server: s.oneWorkerTwoCores, images: [flagship], clients: 1, windows: [] },
  { checkout: s.label, what: 'throughput 640x480, 1 worker on 2 cores', server: s.oneWorkerTwoCores, images: [flagship], clients: throughputClients, windows: [] },
]);
try {
  for (const s of servers) {
    for (const server of [s.oneCore, s.twoWorkers, s.oneWorkerTwoCores]) {
      await loadWindow(server, [flagship, ...groups], 1, 1500);
      await loadWindow(server, [flagship], throughputClients, warmupSeconds * 1000);
    }
  }
  for (let round = 0; round < rounds; round++) {
    for (const c of cells) c.windows.push(await loadWindow(c.server, c.images, c.clients, (seconds * 1000) / rounds, c.pin));
    process.stderr.write(`round ${round + 1}/${rounds}, load ${os.loadavg()[0].toFixed(1)}\n`);
  }
} finally {
  for (const s of servers) for (const server of [s.oneCore, s.twoWorkers, s.oneWorkerTwoCores]) await stopServer(server.child);
  await rm(tmp, { recursive: true, force: true });
}
const loadAfter = os.loadavg();

const rows = cells.map((c) => {
  const sum = (f: (w: Window) => number) => c.windows.reduce((n, w) => n + f(w), 0);
  const latencies = c.windows.flatMap((w) => w.latencies);
  const stages = c.windows.flatMap((w) => w.stages);
  const secs = sum((w) => w.seconds);
  const serverCpu = sum((w) => w.serverCpuSeconds);
  const stage = (name: string) => mean(stages.map((t) => t[name] ?? 0));
  return {
    ...c,
    requests: latencies.length,
    faces: [...new Set(c.windows.flatMap((w) => w.faces))].sort().join('/'),
    perSecond: latencies.length / secs,
    serverCores: serverCpu / secs,
    clientCores: sum((w) => w.cpuSeconds) / secs,
    perCpuSecond: latencies.length / Math.max(serverCpu, 1e-9),
    // CPU milliseconds per request by kind of thread (threads that ended during a window are not counted).
    mainMs: (sum((w) => w.threads.main) * 1000) / latencies.length,
    libvipsMs: (sum((w) => w.threads.libvips) * 1000) / latencies.length,
    otherMs: (sum((w) => w.threads.other) * 1000) / latencies.length,
    mainWaiting: sum((w) => w.mainWaitSeconds) / secs,
    idleCores: sum((w) => w.idleCores * w.seconds) / secs,
    p50: median(latencies),
    p95: percentile(latencies, 95),
    decode: stage('decode'),
    detect: stage('detect'),
    classify: stage('classify'),
    inference: stage('inference'),
  };
});
const at = (checkout: string, what: string) => rows.find((r) => r.checkout === checkout && r.what === what)!;

const lines = [
  `Machine: nproc ${os.availableParallelism()}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}.`,
  `Load average (1/5/15 min): before ${loadBefore.map((v) => v.toFixed(1)).join(' / ')}, after ${loadAfter.map((v) => v.toFixed(1)).join(' / ')}.`,
  `Command: npx tsx bench/visionCores.ts --seconds ${seconds} --rounds ${rounds} --clients ${throughputClients} --warmup ${warmupSeconds}${values.baseline ? ' --baseline <checkout>' : ''}`,
  '',
  '| code | measurement | clients | requests | faces | req/s | server cores | client cores | req per server CPU-s | p50 ms | p95 ms | decode ms | detect ms | classify ms | inference ms |',
  '|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.checkout} | ${r.what} | ${r.clients} | ${r.requests} | ${r.faces} | ${r2(r.perSecond)} | ${r2(r.serverCores)} | ${r2(r.clientCores)} | ${r1(r.perCpuSecond)} | ${r1(r.p50)} | ${r1(r.p95)} | ${r1(r.decode)} | ${r1(r.detect)} | ${r1(r.classify)} | ${r1(r.inference)} |`,
  ),
  '',
  'Server CPU per request by thread (ms): the event-loop thread, libvips pixel workers, all others (inference workers, libuv pool, V8);',
  'the share of the time the event loop was runnable but waited for a core, and the cores the machine left idle.',
  '',
  '| code | measurement | clients | main thread | libvips | other threads | total | event loop waiting | idle cores |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.checkout} | ${r.what} | ${r.clients} | ${r2(r.mainMs)} | ${r2(r.libvipsMs)} | ${r2(r.otherMs)} | ${r2(r.mainMs + r.libvipsMs + r.otherMs)} | ${r1(r.mainWaiting * 100)}% | ${r2(r.idleCores)} |`,
  ),
  '',
  ...checkouts.map(({ label }) => {
    const one = at(label, 'throughput 640x480, 1 worker on core 0');
    const two = at(label, 'throughput 640x480, 2 workers on 2 cores');
    const lone = at(label, 'throughput 640x480, 1 worker on 2 cores');
    return (
      `${label}: 640x480 p50 ${r1(at(label, 'latency 640x480, 1 worker on core 0').p50)} ms, group p50 ${r1(at(label, 'latency group sample1-6, 1 worker on core 0').p50)} ms; ` +
      `2 workers / 1 worker: ${r2(two.perSecond / one.perSecond)}x req/s, ${r2(two.perCpuSecond / one.perCpuSecond)}x req per server CPU-s (server cores ${r2(one.serverCores)} -> ${r2(two.serverCores)}); ` +
      `1 worker on 2 cores: p50 ${r1(at(label, 'latency 640x480, 1 worker on 2 cores').p50)} ms, ${r2(lone.perSecond)} req/s, ${r2(1000 / lone.perCpuSecond)} ms of server CPU a request.`
    );
  }),
];
process.stdout.write(`${lines.join('\n')}\n`);
