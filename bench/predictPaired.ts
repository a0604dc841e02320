/**
 * One protocol path of facial-expression served by this checkout and by a baseline checkout
 * (bench/predictServer.ts of each), measured in alternating segments after a warm-up of each, so a change's
 * effect on the server's CPU per request shows through the drift of a shared, loaded machine: every round
 * measures both servers back to back, and the paired difference of the rounds is the figure to read
 * (bench/v2.ts runs every path once per round, minutes apart, which its noise can swamp).
 *
 * Both servers are pinned to core `--serve-cores` (default 1) and this process, the load generator, to the
 * others, as `bench/v2.ts --pin` does. CPU time is the server process's (all threads) from /proc.
 *
 *   npx tsx bench/predictPaired.ts --baseline <dir> [--path v2-binary|v2-refused|predict] [--connections 1]
 *     [--rounds 10] [--duration 4] [--warmup 20] [--serve-cores 1]
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EXPRESSION_INPUT, expressionPredictBody } from './expressionLoad.js';
import { median } from './stats.js';
import { startPredictServer } from './benchServer.js';
import { processCpuMs } from './processStats.js';
import { httpLoad } from './httpLoad.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CACHE_DIR = path.join(os.tmpdir(), 'mloffload-bench-cache');
const { values } = parseArgs({
  options: {
    baseline: { type: 'string' },
    path: { type: 'string', default: 'v2-binary' },
    connections: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '10' },
    duration: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '20' },
    'serve-cores': { type: 'string', default: '1' },
  },
});
if (!values.baseline) throw new Error('--baseline <dir> is required: the checkout to compare with');
const SERVE_CORES = values['serve-cores'];

interface Target {
  route: string;
  headers: Record<string, string>;
  body: Buffer;
  status: number;
}

/** The request of `--path`, for the model's input and output names. */
function target(kind: string, input: string, output: string): Target {
  if (kind === 'predict') {
    return { route: '/v1/models/facial-expression:predict', headers: { 'content-type': 'application/json' }, body: expressionPredictBody(), status: 200 };
  }
  // `v2-refused` names an input the model does not have: the whole HTTP side, answered 400, without an inference.
  const name = kind === 'v2-refused' ? `${input}_unknown` : input;
  if (kind !== 'v2-binary' && kind !== 'v2-refused') throw new Error(`--path must be v2-binary, v2-refused or predict, got ${kind}`);
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name, datatype: 'FP32', shape: [1, 64, 64, 1], parameters: { binary_data_size: EXPRESSION_INPUT.byteLength } }],
      outputs: [{ name: output, parameters: { binary_data: true } }],
    }),
  );
  return {
    route: '/v2/models/facial-expression/infer',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    body: Buffer.concat([header, Buffer.from(EXPRESSION_INPUT.buffer)]),
    status: kind === 'v2-refused' ? 400 : 200,
  };
}

async function startServer(root: string): Promise<{ child: ChildProcess; url: string }> {
  const { child, url } = await startPredictServer({ name: `the server in ${root}`, cacheDir: CACHE_DIR, cwd: root, pin: SERVE_CORES! });
  return { child, url };
}

/** Drives `t` for `seconds`; requests answered with the expected status, and the server's CPU ms per request. */
async function segment(server: { child: ChildProcess; url: string }, t: Target, seconds: number): Promise<{ perSecond: number; cpuMs: number }> {
  const before = processCpuMs(server.child.pid!);
  const { answered, errors } = await httpLoad({ url: `${server.url}${t.route}`, headers: t.headers, body: t.body, status: t.status }, Number(values.connections), { seconds });
  if (errors > 0) throw new Error(`${errors} answers with another status than ${t.status}, or errors`);
  return { perSecond: answered / seconds, cpuMs: (processCpuMs(server.child.pid!) - before) / answered };
}

async function main(): Promise<void> {
  const others = Array.from({ length: os.availableParallelism() }, (_, i) => i).filter((i) => !SERVE_CORES!.split(',').map(Number).includes(i));
  const pinned = spawnSync('taskset', ['-a', '-p', '-c', others.join(','), String(process.pid)], { encoding: 'utf8' });
  if (pinned.status !== 0) throw new Error(`taskset failed: ${pinned.stderr}`);
  const servers = [
    { label: 'this checkout', ...(await startServer(ROOT)) },
    { label: 'baseline', ...(await startServer(path.resolve(values.baseline!))) },
  ];
  try {
    const metadata = (await (await fetch(`${servers[0]!.url}/v2/models/facial-expression`)).json()) as { inputs: { name: string }[]; outputs: { name: string }[] };
    const t = target(values.path!, metadata.inputs[0]!.name, metadata.outputs[0]!.name);
    console.log(JSON.stringify({ event: 'start', path: values.path, connections: Number(values.connections), loadavg: os.loadavg().map((l) => l.toFixed(2)).join(' ') }));
    for (const server of servers) await segment(server, t, Number(values.warmup));
    const rounds: { perSecond: number; cpuMs: number }[][] = [];
    for (let round = 0; round < Number(values.rounds); round++) {
      const pair = [];
      for (const server of servers) pair.push(await segment(server, t, Number(values.duration)));
      rounds.push(pair);
      console.log(JSON.stringify({ event: 'round', round, mine: pair[0], baseline: pair[1] }));
    }
    const column = (i: number, key: 'perSecond' | 'cpuMs'): number[] => rounds.map((pair) => pair[i]![key]);
    const differences = rounds.map(([mine, base]) => mine!.cpuMs - base!.cpuMs);
    console.log(`\nloadavg at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(`\n| server | req/s (median) | CPU ms per request (median) |\n|---|---|---|`);
    servers.forEach((server, i) => console.log(`| ${server.label} | ${median(column(i, 'perSecond')).toFixed(1)} | ${median(column(i, 'cpuMs')).toFixed(3)} |`));
    console.log(
      `\npaired difference (this checkout - baseline), CPU ms per request: median ${median(differences).toFixed(3)}; lower in ${differences.filter((d) => d < 0).length} of ${differences.length} rounds`,
    );
  } finally {
    for (const server of servers) server.child.kill('SIGTERM');
  }
}

await main();
