/**
 * The load generator of bench/visionCores.ts, in a process of its own so that its CPU is counted apart from
 * the server's and it can be niced or pinned away from the cores being measured. Sends the given JPEG files
 * in turn to POST /v1/vision/facial-expressions from `--clients` closed-loop clients over keep-alive
 * connections for `--ms` milliseconds, then prints one JSON line: latencies, per-stage timings, its own CPU.
 *
 *   node --import tsx bench/visionLoad.ts --url http://127.0.0.1:PORT --clients 4 --ms 5000 a.jpg b.jpg
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { url: { type: 'string' }, clients: { type: 'string', default: '1' }, ms: { type: 'string', default: '5000' } },
});
if (!values.url || positionals.length === 0) throw new Error('usage: visionLoad.ts --url URL [--clients N] [--ms MS] image.jpg...');
const target = new URL('/v1/vision/facial-expressions', values.url);
const images = positionals.map((file) => readFileSync(file));
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(values.clients) });

interface Answer {
  status: number;
  body: string;
}

function post(image: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(target, { method: 'POST', agent, headers: { 'Content-Type': 'image/jpeg', 'Content-Length': image.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(image);
  });
}

const latencies: number[] = [];
const stages: Record<string, number>[] = [];
const faces: number[] = [];
let next = 0;
const cpu0 = process.cpuUsage();
const started = performance.now();
const deadline = started + Number(values.ms);
await Promise.all(
  Array.from({ length: Number(values.clients) }, async () => {
    while (performance.now() < deadline) {
      const which = next++ % images.length;
      const t0 = performance.now();
      const answer = await post(images[which]);
      const ms = performance.now() - t0;
      if (answer.status !== 200) throw new Error(`HTTP ${answer.status}: ${answer.body.slice(0, 200)}`);
      const body = JSON.parse(answer.body) as { faces: unknown[]; timing: Record<string, number> };
      latencies.push(ms);
      stages.push(body.timing);
      faces.push(body.faces.length);
    }
  }),
);
const cpu = process.cpuUsage(cpu0);
agent.destroy();
process.stdout.write(`${JSON.stringify({ latencies, stages, faces, seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`);
