/**
 * Garbage collections under TF Serving JSON `:predict` of facial-expression: the runtime's server
 * (bench/predictServer.ts) beside the floor's bare `node:http` server (bench/v2Floor.ts), each pinned to core 1
 * with the runtime's Node flags plus `--trace-gc --trace-gc-nvp`, driven by autocannon on core 0. After a
 * warm-up it counts, per 1000 requests, full collections (mark-compact) and young-generation collections
 * (scavenges), and the bytes an average scavenge found alive (`new_space_survived`) and moved to the old
 * generation (`promoted`). A request's objects that die young cost a scavenge little; objects kept alive
 * across two scavenges are promoted, and promoted garbage is what starts the full collections.
 *
 *   npx tsx bench/predictGc.ts [--connections 4] [--warmup 10] [--seconds 10]
 */
import autocannon from 'autocannon';
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { EXPRESSION_INPUT } from './expressionLoad.js';
import { runtimeNodeFlags } from './runtimeFlags.js';

const { values } = parseArgs({ options: { connections: { type: 'string', default: '4' }, warmup: { type: 'string', default: '10' }, seconds: { type: 'string', default: '10' } } });
const CACHE_DIR = path.join(os.tmpdir(), 'mloffload-bench-cache');
const ROUTE = '/v1/models/facial-expression:predict';
const rows = Array.from({ length: 64 }, (_, y) => Array.from({ length: 64 }, (_, x) => [EXPRESSION_INPUT[y * 64 + x]!]));
const body = Buffer.from(JSON.stringify({ instances: [rows] }));

const machine = `nproc ${os.availableParallelism()}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;
// The load generator keeps off the server's core.
spawnSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)]);

interface Counts {
  requests: number;
  markCompacts: number;
  scavenges: number;
  survived: number;
  promoted: number;
}

async function measure(script: string, args: string[]): Promise<Counts> {
  const node = [process.execPath, ...(await runtimeNodeFlags()), '--trace-gc', '--trace-gc-nvp', '--import', 'tsx', script, ...args];
  const child = spawn('taskset', ['-c', '1', ...node], { stdio: ['ignore', 'pipe', 'inherit'] });
  const counts: Counts = { requests: 0, markCompacts: 0, scavenges: 0, survived: 0, promoted: 0 };
  let counting = false;
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"event":"ready"')) resolve(String((JSON.parse(line) as { url: string }).url));
      if (!counting) return;
      const kind = /\bgc=(\w+)/.exec(line)?.[1];
      if (kind === 's') {
        counts.scavenges++;
        counts.survived += Number(/new_space_survived=(\d+)/.exec(line)?.[1] ?? 0);
        counts.promoted += Number(/\bpromoted=(\d+)/.exec(line)?.[1] ?? 0);
      } else if (kind === 'mc' || kind === 'mmc') {
        counts.markCompacts++;
      }
    });
  });
  const load = (seconds: number): Promise<autocannon.Result> =>
    new Promise((resolve, reject) => {
      autocannon(
        { url: `${url}${ROUTE}`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: Number(values.connections), duration: seconds },
        (error, result) => (error ? reject(error as Error) : resolve(result)),
      );
    });
  await load(Number(values.warmup));
  counting = true;
  counts.requests = (await load(Number(values.seconds))).requests.total;
  counting = false;
  child.removeAllListeners('exit');
  child.kill('SIGTERM');
  return counts;
}

console.log(`Machine: ${machine}; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}.`);
console.log(`Command: npx tsx bench/predictGc.ts --connections ${values.connections} --warmup ${values.warmup} --seconds ${values.seconds}\n`);
console.log('| server | requests | full collections / 1000 requests | scavenges / 1000 requests | KB alive per scavenge | KB promoted per scavenge |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const [name, script, args] of [
  ['runtime (bench/predictServer.ts)', 'bench/predictServer.ts', [CACHE_DIR, 'auto']],
  ['floor: bare node:http (bench/v2Floor.ts)', 'bench/v2Floor.ts', ['--mode=http']],
] as const) {
  const c = await measure(script, [...args]);
  const per = (n: number): string => ((1000 * n) / c.requests).toFixed(2);
  const kb = (bytes: number): string => (c.scavenges ? bytes / c.scavenges / 1024 : 0).toFixed(0);
  console.log(`| ${name} | ${c.requests} | ${per(c.markCompacts)} | ${per(c.scavenges)} | ${kb(c.survived)} | ${kb(c.promoted)} |`);
}
