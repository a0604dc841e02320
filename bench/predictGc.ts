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
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { expressionPredictBody } from './expressionLoad.js';
import { GC_TRACE_FLAGS, gcFigures, measureGc, type GcCounts } from './gcTrace.js';
import { httpLoad } from './httpLoad.js';
import { runtimeNodeFlags } from './runtimeFlags.js';
import { nodeScript } from './runtimeBuild.js';

const { values } = parseArgs({ options: { connections: { type: 'string', default: '4' }, warmup: { type: 'string', default: '10' }, seconds: { type: 'string', default: '10' } } });
const CACHE_DIR = path.join(os.tmpdir(), 'mloffload-bench-cache');
const ROUTE = '/v1/models/facial-expression:predict';
const body = expressionPredictBody();

const machine = `nproc ${os.availableParallelism()}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;
// The load generator keeps off the server's core.
spawnSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)]);

async function measure(script: string, args: string[]): Promise<{ requests: number; gc: GcCounts }> {
  const argv = [process.execPath, ...(await runtimeNodeFlags()), ...GC_TRACE_FLAGS, ...nodeScript(process.cwd(), script), ...args];
  const load = async (url: string, seconds: number): Promise<number> =>
    (await httpLoad({ url: `${url}${ROUTE}`, headers: { 'content-type': 'application/json' }, body }, Number(values.connections), { seconds })).answered;
  return measureGc(argv, script, load, Number(values.warmup), Number(values.seconds));
}

console.log(`Machine: ${machine}; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}.`);
console.log(`Command: npx tsx bench/predictGc.ts --connections ${values.connections} --warmup ${values.warmup} --seconds ${values.seconds}\n`);
console.log('| server | requests | full collections / 1000 requests | scavenges / 1000 requests | KB alive per scavenge | KB promoted per scavenge |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const [name, script, args] of [
  ['runtime (bench/predictServer.ts)', 'bench/predictServer.ts', [CACHE_DIR, 'auto']],
  ['floor: bare node:http (bench/v2Floor.ts)', 'bench/v2Floor.ts', ['--mode=http']],
] as const) {
  const { requests, gc } = await measure(script, [...args]);
  const f = gcFigures(requests, gc);
  console.log(`| ${name} | ${requests} | ${f.fullPer1000} | ${f.scavengesPer1000} | ${f.kbAlive} | ${f.kbPromoted} |`);
}
