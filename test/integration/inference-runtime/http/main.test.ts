import { expect } from 'chai';
import http from 'node:http';
import { RuntimeProcess } from '../../../helpers/runtimeProcess.js';

async function eventually(check: () => Promise<void>, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}

function image(): number[][][][] {
  return [Array.from({ length: 64 }, (_, y) => Array.from({ length: 64 }, (_, x) => [Math.fround(((x + y) % 17) / 8 - 1)]))];
}

describe('runtime process (main)', function () {
  this.timeout(240_000);
  let runtime: RuntimeProcess | undefined;

  afterEach(() => {
    runtime?.kill();
  });

  it('serves the built-in pool, and on SIGTERM finishes the in-flight request, refuses new connections and exits 0 within the bound', async () => {
    const shutdownBoundMs = 10_000;
    runtime = RuntimeProcess.startLocal(['--workers', '1', '--shutdown-timeout-ms', String(shutdownBoundMs)]);
    const listening = await runtime.event('listening', 30_000);
    const port = listening.port as number;
    const ready = await runtime.event('models_ready', 200_000);
    expect((ready.models as Array<{ name: string; state: string }>).map((m) => `${m.name}:${m.state}`).sort()).to.deep.equal([
      'face-detector:AVAILABLE',
      'facial-expression:AVAILABLE',
      'object-detector:AVAILABLE',
      'smart-home-assistant:AVAILABLE',
      'speech-recogniser:AVAILABLE',
      'text-detector:AVAILABLE',
      'text-orientation:AVAILABLE',
      'text-recognizer:AVAILABLE',
      'translation-eng-spa:AVAILABLE',
      'translation-spa-eng:AVAILABLE',
    ]);

    // An in-flight request: headers and half the body sent, the rest held back until after SIGTERM. It goes on
    // a keep-alive connection the server already accepted (a first request answered on it), so the request
    // is the server's to finish whatever the timing of the signal.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const first = await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/readyz', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      }).on('error', reject);
    });
    expect(first).to.equal(200);
    const body = Buffer.from(JSON.stringify({ instances: image() }));
    const half = Math.floor(body.length / 2);
    let inFlight: http.ClientRequest | undefined;
    const response = new Promise<{ status: number; text: string; connection?: string }>((resolve, reject) => {
      inFlight = http.request(
        { host: '127.0.0.1', port, agent, method: 'POST', path: '/v1/models/facial-expression:predict', headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, text, connection: res.headers.connection }));
        },
      );
      inFlight.on('error', reject);
      inFlight.write(body.subarray(0, half));
    });

    // SIGTERM only once the server is serving it (a request still in the socket buffer of an idle keep-alive
    // connection is what graceful shutdown may drop, as any HTTP server does).
    await eventually(async () => {
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      // This scrape plus the held-back predict.
      expect(metrics).to.match(/^mloffload_http_requests_in_flight 2$/m);
    }, 10_000);

    const signalledAt = Date.now();
    runtime.child.kill('SIGTERM');
    await runtime.event('shutdown_started', 10_000);
    // A new connection (not fetch's pooled keep-alive socket, which the server closes as idle).
    const refused = await new Promise<string>((resolve) => {
      http
        .get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (r) => {
          r.resume();
          resolve(`answered ${r.statusCode}`);
        })
        .on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    expect(refused).to.equal('ECONNREFUSED');

    inFlight!.end(body.subarray(half));
    const answer = await response;
    expect(answer.status).to.equal(200);
    expect((JSON.parse(answer.text) as { predictions: number[][] }).predictions[0]).to.have.length(7);
    expect(answer.connection).to.equal('close');

    const { code, at } = await runtime.exited;
    expect(code).to.equal(0);
    expect(at - signalledAt).to.be.lessThan(shutdownBoundMs);
    const complete = runtime.lines.find((l) => l.event === 'shutdown_complete');
    expect(complete).to.include({ forced: false });
    agent.destroy();
  });
});
