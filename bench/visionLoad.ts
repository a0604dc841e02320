/**
 * The load generator of bench/visionCores.ts, in a process of its own so that its CPU is counted apart from
 * the server's and it can be niced or pinned away from the cores being measured. Sends the given JPEG files
 * in turn to POST /v1/vision/facial-expressions from `--clients` closed-loop clients over keep-alive
 * connections for `--ms` milliseconds, then prints one JSON line: latencies, per-stage timings, its own CPU.
 *
 * Each client is a plain TCP connection writing requests built once (request line, headers and the JPEG in
 * one buffer) and reading each answer by its Content-Length, as wrk does: on 2 cores the generator shares the
 * machine with the server it measures, and node:http's client cost about 0.6 ms of CPU an answer, a tenth
 * of a core at 200 answers/s, which the server then did not get.
 *
 *   node --import tsx bench/visionLoad.ts --url http://127.0.0.1:PORT --clients 4 --ms 5000 a.jpg b.jpg
 */
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { url: { type: 'string' }, clients: { type: 'string', default: '1' }, ms: { type: 'string', default: '5000' } },
});
if (!values.url || positionals.length === 0) throw new Error('usage: visionLoad.ts --url URL [--clients N] [--ms MS] image.jpg...');
const target = new URL('/v1/vision/facial-expressions', values.url);
const requests = positionals.map((file) => {
  const image = readFileSync(file);
  const head = `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: image/jpeg\r\nContent-Length: ${image.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), image]);
});

interface Answer {
  status: number;
  body: string;
}

/** One keep-alive connection that sends a request and reads its answer, one at a time. */
class Client {
  private readonly socket: net.Socket;
  private received: Buffer = Buffer.alloc(0);
  private waiting?: { resolve: (answer: Answer) => void; reject: (error: Error) => void };

  constructor() {
    this.socket = net.connect(Number(target.port), target.hostname);
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => {
      this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
      this.answer();
    });
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => this.fail(new Error('the server closed the connection')));
  }

  send(request: Buffer): Promise<Answer> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.removeAllListeners('close');
    this.socket.destroy();
  }

  /** Resolves the waiting request once its whole answer is in (status line, headers, Content-Length bytes). */
  private answer(): void {
    const end = this.received.indexOf('\r\n\r\n');
    if (end < 0 || !this.waiting) return;
    const head = this.received.toString('latin1', 0, end);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!length) return this.fail(new Error(`an answer without Content-Length: ${head.slice(0, 200)}`));
    const bodyEnd = end + 4 + Number(length[1]);
    if (this.received.length < bodyEnd) return;
    const answer = { status: Number(head.slice(9, 12)), body: this.received.toString('utf8', end + 4, bodyEnd) };
    this.received = this.received.subarray(bodyEnd);
    const { resolve } = this.waiting;
    this.waiting = undefined;
    resolve(answer);
  }

  private fail(error: Error): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(error);
  }
}

const latencies: number[] = [];
const stages: Record<string, number>[] = [];
const faces: number[] = [];
let next = 0;
const clients = Array.from({ length: Number(values.clients) }, () => new Client());
const cpu0 = process.cpuUsage();
const started = performance.now();
const deadline = started + Number(values.ms);
await Promise.all(
  clients.map(async (client) => {
    while (performance.now() < deadline) {
      const which = next++ % requests.length;
      const t0 = performance.now();
      const answer = await client.send(requests[which]!);
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
for (const client of clients) client.close();
process.stdout.write(`${JSON.stringify({ latencies, stages, faces, seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`);
