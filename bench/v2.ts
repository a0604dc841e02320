/**
 * facial-expression over the Open Inference Protocol V2 with binary tensors, beside the same inference
 * in-process (registry.infer on a fresh tensor), V2 with JSON tensors and TF Serving JSON `:predict`, at
 * concurrency 1 and 4, in one run. Each round runs every path once, one after another, so load from other
 * processes drifts over all of them alike; the ratios to in-process are the figures to read. The CPU time per
 * request of the serving process (the server, or this process in-process, inference threads included) is the
 * steadier measure of what each protocol adds on a loaded machine.
 *
 * By default the in-process path runs in this process, which also runs the load generator (autocannon) for
 * the HTTP paths: the server then shares the cores with its client and the in-process path does not. With
 * `--pin` both are measured on the same CPU budget: the server and a separate in-process runner
 * (bench/expressionInProcess.ts, same registry set-up) are pinned to core `--serve-cores` (default 1) with
 * taskset, and this process (the load generator) to the others. Both then start as many inference threads as
 * the cores they may use (one with the default core), so they run the same worker count.
 *
 * `--floor` adds the floor under the ratio (bench/v2Floor.ts) in the same rounds, on the same cores: the least
 * Node.js server for a V2 binary `/infer` and for a JSON `:predict` (bare `node:http` around the same worker
 * and session) against the same worker round trip without HTTP. Its ratio is what no runtime code can exceed
 * on that CPU budget.
 *
 * `--baseline <dir>` serves the HTTP paths a second time from another checkout of the project (its own
 * bench/predictServer.ts, e.g. the previous commit unpacked with `git archive`), in the same rounds, so a
 * change is measured against what it replaces under the same load.
 *
 * Every path is first driven for `--warmup` seconds (default 20): V8 keeps optimising the server's request path
 * for tens of seconds at a few hundred requests per second, and until it is done its compiler threads take
 * about 0.5 ms of CPU per request and the request path runs slower (measured 2026-11-30); a serving runtime
 * reaches that state within its first minute, which is what the figures are about.
 *
 *   npx tsx bench/v2.ts [--duration <s per segment>] [--rounds <n>] [--warmup <s per path>] [--pin [--serve-cores 1]] [--floor] [--baseline <dir>]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FACIAL_EXPRESSION } from '../inference-runtime/config/defaultPool.js';
import { createModelRegistry } from '../inference-runtime/dataplane/modelRegistry.js';
import type { NamedTensors } from '../inference-runtime/core/tensor.js';
import { EXPRESSION_INPUT, expressionPredictBody, inProcessLoad, type Segment as LoadSegment } from './expressionLoad.js';
import { runtimeNodeFlags } from './runtimeFlags.js';
import { nextEvent, processCpuMs } from './processStats.js';
import { httpLoad } from './httpLoad.js';
import { startPredictServer } from './benchServer.js';
import { nodeScript } from './runtimeBuild.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CACHE_DIR = path.join(os.tmpdir(), 'mloffload-bench-cache');
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '20' },
    pin: { type: 'boolean', default: false },
    'serve-cores': { type: 'string', default: '1' },
    baseline: { type: 'string' },
    floor: { type: 'boolean', default: false },
  },
});
const DURATION_S = Number(values.duration);
const ROUNDS = Number(values.rounds);
const WARMUP_S = Number(values.warmup);
const SERVE_CORES = values['serve-cores'];
const CONCURRENCIES = [1, 4];

const VALUES = EXPRESSION_INPUT;

interface HttpPath {
  name: string;
  route: string;
  headers: Record<string, string>;
  body: Buffer;
  /** The status every answer must have (200 unless the path measures a refusal). */
  status?: number;
}

function httpPaths(input: string, output: string): HttpPath[] {
  const binaryHeader = Buffer.from(
    JSON.stringify({
      inputs: [{ name: input, datatype: 'FP32', shape: [1, 64, 64, 1], parameters: { binary_data_size: VALUES.byteLength } }],
      outputs: [{ name: output, parameters: { binary_data: true } }],
    }),
  );
  // The same request naming an input the model does not have: the whole HTTP side (body, framing, JSON
  // header, error answer) without an inference, which is what the protocol costs by itself.
  const refusedHeader = Buffer.from(binaryHeader.toString().replace(JSON.stringify(input), JSON.stringify(`${input}_unknown`)));
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
      name: 'V2 binary refused at decode (400, no inference)',
      route: '/v2/models/facial-expression/infer',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(refusedHeader.length) },
      body: Buffer.concat([refusedHeader, Buffer.from(VALUES.buffer)]),
      status: 400,
    },
    {
      name: 'TF Serving JSON :predict',
      route: '/v1/models/facial-expression:predict',
      headers: { 'content-type': 'application/json' },
      body: expressionPredictBody(),
    },
  ];
}

interface Segment extends LoadSegment {
  /** CPU time of the process doing the work (the server, or this one in-process), all threads. */
  cpuMs?: number;
}

async function measured(pid: number, work: () => Promise<Segment>): Promise<Segment> {
  const before = processCpuMs(pid);
  const segment = await work();
  return { ...segment, cpuMs: processCpuMs(pid) - before };
}

function inProcess(infer: (inputs: NamedTensors) => Promise<NamedTensors>, input: string, concurrency: number, seconds = DURATION_S): Promise<Segment> {
  return inProcessLoad(infer, input, concurrency, seconds);
}

function overHttp(url: string, target: HttpPath, concurrency: number, seconds = DURATION_S): Promise<Segment> {
  return httpLoad({ url: `${url}${target.route}`, headers: target.headers, body: target.body, status: target.status }, concurrency, { seconds });
}

/** One line of the table: `share` is the path's throughput as a share of the side it is compared with. */
function row(concurrency: number, name: string, s: ReturnType<typeof summary>, share: string): string {
  return `| ${concurrency} | ${name} | ${s.throughput.toFixed(1)} | ${share} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${s.cpuMsPerRequest.toFixed(2)} | ${s.errors} |`;
}

function summary(segments: Segment[]): { throughput: number; p50: number; p99: number; errors: number; cpuMsPerRequest: number } {
  const sorted = segments.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
  const seconds = segments.reduce((t, s) => t + s.seconds, 0);
  const cpuMs = segments.reduce((t, s) => t + (s.cpuMs ?? 0), 0);
  return { throughput: sorted.length / seconds, p50: at(50), p99: at(99), errors: segments.reduce((t, s) => t + s.errors, 0), cpuMsPerRequest: cpuMs / sorted.length };
}

/** `<script> ...args` from `root` as it ships (runtimeBuild.ts), under `taskset -c <cores>` when pinned. */
async function spawnNode(root: string, script: string, args: string[], stdin: 'ignore' | 'pipe'): Promise<ChildProcess> {
  const node = [process.execPath, ...(await runtimeNodeFlags(root)), ...nodeScript(root, script), ...args];
  const [command, ...rest] = values.pin ? ['taskset', '-c', SERVE_CORES, ...node] : node;
  return spawn(command!, rest, { cwd: root, stdio: [stdin, 'pipe', 'inherit'] });
}

/** The floor's bare server (bench/v2Floor.ts). */
async function startFloorServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = await spawnNode(ROOT, 'bench/v2Floor.ts', ['--mode=http'], 'ignore');
  return { child, url: String((await nextEvent(child, 'ready')).url) };
}

async function startBenchServer(root: string): Promise<{ child: ChildProcess; url: string; backend: string }> {
  const { child, url, backend } = await startPredictServer({ name: root, cacheDir: CACHE_DIR, cwd: root, pin: values.pin ? SERVE_CORES : undefined });
  return { child, url, backend };
}

interface LoopRunner {
  child: ChildProcess;
  run: (concurrency: number, seconds?: number) => Promise<Segment>;
  ready: Record<string, unknown>;
}

/**
 * A process of its own that answers each stdin line `{"concurrency":n,"seconds":s}` with a `segment` line: the
 * in-process path pinned beside the server (`--pin`), or the floor's loop (`--floor`).
 */
async function startLoopRunner(script: string, args: string[]): Promise<LoopRunner> {
  const child = await spawnNode(ROOT, script, args, 'pipe');
  const ready = await nextEvent(child, 'ready');
  const run = async (concurrency: number, seconds = DURATION_S): Promise<Segment> => {
    const done = nextEvent(child, 'segment');
    child.stdin!.write(`${JSON.stringify({ concurrency, seconds })}\n`);
    return (await done) as unknown as Segment;
  };
  return { child, run, ready };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function main(): Promise<void> {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  const nproc = os.availableParallelism();
  if (values.pin) {
    // The load generator keeps off the cores the serving side is measured on.
    const others = Array.from({ length: nproc }, (_, i) => i).filter((i) => !SERVE_CORES.split(',').map(Number).includes(i));
    const pinned = spawnSync('taskset', ['-a', '-p', '-c', others.join(','), String(process.pid)], { encoding: 'utf8' });
    if (pinned.status !== 0) throw new Error(`taskset failed: ${pinned.stderr}`);
  }
  console.log(
    JSON.stringify({
      event: 'machine',
      nproc,
      cpu,
      node: process.version,
      loadavg: os.loadavg().map((l) => l.toFixed(2)).join(' '),
      warmupSeconds: WARMUP_S,
      mode: values.pin ? `pinned: serving on core ${SERVE_CORES}, load generator on the others` : 'unpinned: in-process beside the load generator',
    }),
  );

  // The in-process side: this process (unpinned), or a runner pinned beside the server.
  let local: { pid: number; run: (concurrency: number, seconds?: number) => Promise<Segment>; close: () => Promise<void>; backend: string; threads: number };
  if (values.pin) {
    const runner = await startLoopRunner('bench/expressionInProcess.ts', [CACHE_DIR]);
    local = { pid: runner.child.pid!, run: runner.run, close: () => stop(runner.child), backend: String(runner.ready.backend), threads: Number(runner.ready.threads) };
  } else {
    const registry = createModelRegistry({ models: [FACIAL_EXPRESSION] }, { repository: { cacheDir: CACHE_DIR } });
    await registry.whenSettled();
    if (!registry.isReady()) throw new Error(JSON.stringify(registry.list()));
    const model = registry.resolve(FACIAL_EXPRESSION.name);
    const inputName = model.signature().inputs[0]!.name;
    const infer = (tensors: NamedTensors) => model.infer(tensors, { transfer: true });
    local = { pid: process.pid, run: (c, seconds) => inProcess(infer, inputName, c, seconds), close: () => registry.close(), backend: String(registry.list()[0]!.backend), threads: registry.executor.threads };
  }
  const servers = [{ label: '', ...(await startBenchServer(ROOT)) }];
  if (values.baseline) servers.push({ label: ' (baseline)', ...(await startBenchServer(path.resolve(values.baseline))) });
  const metadata = (await (await fetch(`${servers[0]!.url}/v2/models/${FACIAL_EXPRESSION.name}`)).json()) as { inputs: { name: string }[]; outputs: { name: string }[] };
  console.log(JSON.stringify({ event: 'backends', inProcess: local.backend, servers: servers.map((s) => s.backend), threads: local.threads }));
  const paths = httpPaths(metadata.inputs[0]!.name, metadata.outputs[0]!.name);
  const targets = servers.flatMap((server) => paths.map((p) => ({ ...p, name: `${p.name}${server.label}`, server })));
  // The floor (bench/v2Floor.ts): its loop and its bare server, on the same cores as the runtime's sides.
  const floor = values.floor ? { loop: await startLoopRunner('bench/v2Floor.ts', ['--mode=loop']), server: await startFloorServer() } : undefined;
  const predictPath = paths.find((p) => p.route.endsWith(':predict'))!;
  const floorTargets = [
    { ...paths[0]!, name: 'floor: bare node:http V2 binary' },
    { ...predictPath, name: 'floor: bare node:http TF Serving JSON :predict' },
  ];

  // Warm-up of every path, long enough for V8 to be done optimising it (see above).
  await local.run(4, WARMUP_S);
  for (const target of targets) await overHttp(target.server.url, target, 4, WARMUP_S);
  if (floor) {
    await floor.loop.run(4, WARMUP_S);
    for (const target of floorTargets) await overHttp(floor.server.url, target, 4, WARMUP_S);
  }

  const table: string[] = [];
  for (const concurrency of CONCURRENCIES) {
    const inProcessSegments: Segment[] = [];
    const remote = new Map<string, Segment[]>(targets.map((p) => [p.name, []]));
    const floorSegments = { loop: [] as Segment[], http: floorTargets.map(() => [] as Segment[]) };
    for (let round = 0; round < ROUNDS; round++) {
      inProcessSegments.push(await measured(local.pid, () => local.run(concurrency)));
      for (const target of targets) remote.get(target.name)!.push(await measured(target.server.child.pid!, () => overHttp(target.server.url, target, concurrency)));
      if (floor) {
        floorSegments.loop.push(await measured(floor.loop.child.pid!, () => floor.loop.run(concurrency)));
        for (const [k, target] of floorTargets.entries()) {
          floorSegments.http[k]!.push(await measured(floor.server.child.pid!, () => overHttp(floor.server.url, target, concurrency)));
        }
      }
    }
    const base = summary(inProcessSegments);
    console.log(JSON.stringify({ event: 'point', concurrency, path: 'in-process', ...base }));
    table.push(row(concurrency, 'in-process (registry.infer)', base, '100%'));
    for (const target of targets) {
      const s = summary(remote.get(target.name)!);
      console.log(JSON.stringify({ event: 'point', concurrency, path: target.name, ...s }));
      table.push(row(concurrency, target.name, s, `${((100 * s.throughput) / base.throughput).toFixed(1)}%`));
    }
    if (floor) {
      const loop = summary(floorSegments.loop);
      console.log(JSON.stringify({ event: 'point', concurrency, path: 'floor: loop', ...loop }));
      table.push(row(concurrency, 'floor: worker round trip, no HTTP', loop, "100% (of the floor's loop)"));
      for (const [k, target] of floorTargets.entries()) {
        const bare = summary(floorSegments.http[k]!);
        console.log(JSON.stringify({ event: 'point', concurrency, path: target.name, ...bare }));
        table.push(row(concurrency, target.name, bare, `${((100 * bare.throughput) / loop.throughput).toFixed(1)}% (of the floor's loop)`));
      }
    }
  }
  await local.close();
  if (floor) {
    await stop(floor.loop.child);
    await stop(floor.server.child);
  }
  for (const server of servers) await stop(server.child);
  console.log(`\nloadavg at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('\n| concurrency | path | req/s | of in-process | p50 ms | p99 ms | CPU ms per request (serving process) | errors |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const row of table) console.log(row);
}

await main();
