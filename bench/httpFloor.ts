/**
 * The floor under the runtime's HTTP cost: the server CPU per request of a bare `node:http` server and of a
 * bare koa app that read a V2-binary-sized body (16,564 bytes) and answer with a V2-binary-sized response
 * (211 bytes), driven by autocannon like bench/v2.ts. Set beside bench/v2.ts's "refused at decode" path (the
 * runtime's whole HTTP side without an inference), it says how much of the protocol's cost is the runtime's
 * own code and how much is the kernel, node's HTTP parser and koa, which no change in the runtime removes.
 *
 *   npx tsx bench/httpFloor.ts [--duration <s>] [--connections <n>]
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { processCpuMs } from './processStats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, connections: { type: 'string', default: '4' } } });
const REQUEST_BYTES = 16_564;
const RESPONSE_BYTES = 211;

/** The server, run with `node -e` in a process of its own so its CPU time is its alone. */
const SERVER = `
const http = require('node:http');
const kind = process.argv[1];
const answer = Buffer.alloc(${RESPONSE_BYTES});
let handler;
if (kind === 'node:http') {
  handler = (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('Content-Type', 'application/octet-stream');
      res.setHeader('Inference-Header-Content-Length', '183');
      res.end(answer);
    });
  };
} else {
  const Koa = require('koa');
  const app = new Koa();
  app.use(async (ctx) => {
    await new Promise((resolve) => {
      ctx.req.on('data', () => {});
      ctx.req.on('end', resolve);
    });
    ctx.set('Inference-Header-Content-Length', '183');
    ctx.type = 'application/octet-stream';
    ctx.body = answer;
  });
  handler = app.callback();
}
const server = http.createServer(handler);
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

console.log(JSON.stringify({ event: 'machine', nproc: os.availableParallelism(), node: process.version, loadavg: os.loadavg().map((l) => l.toFixed(2)).join(' ') }));
const rows: string[] = [];
for (const kind of ['node:http', 'koa']) {
  const child = spawn(process.execPath, ['-e', SERVER, kind], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
  const load = { url: `http://127.0.0.1:${port}/v2/models/m/infer`, method: 'POST' as const, body: Buffer.alloc(REQUEST_BYTES, 1), connections: Number(values.connections) };
  await autocannon({ ...load, duration: 1 });
  const before = processCpuMs(child.pid!);
  const result = await autocannon({ ...load, duration: Number(values.duration) });
  const cpuMs = processCpuMs(child.pid!) - before;
  rows.push(`| ${kind} | ${result.requests.average.toFixed(0)} | ${(cpuMs / result.requests.total).toFixed(3)} |`);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
console.log(`\nloadavg at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log('\n| server | req/s | server CPU ms per request |\n|---|---|---|');
for (const row of rows) console.log(row);
