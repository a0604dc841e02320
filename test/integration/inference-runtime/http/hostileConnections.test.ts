import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually } from '../../../helpers/eventually.js';
import { rawExchange, WatchedSocket } from './rawHttp.js';
import { RuntimeProcess } from '../../../helpers/runtimeProcess.js';

/**
 * Clients that hold the runtime's sockets, over raw connections to the runtime process: headers at a trickle
 * (slowloris), a multipart body that never ends, a body that stalls or keeps flowing after the server has
 * answered, idle keep-alive connections, and more connections than the cap. Timeouts are set short by flags
 * so each bound is observable in seconds; every wait has a deadline.
 */

/** A pool whose only model cannot be fetched: the HTTP layer is all these tests need, without loading models. */
function unavailablePool(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mloffload-hostile-'));
  const file = path.join(dir, 'pool.json');
  const model = { name: 'absent', task: 'vision/face-detection', framework: 'onnx', version: '1', source: { uri: `file://${dir}/absent.onnx` } };
  writeFileSync(file, JSON.stringify({ models: [model] }));
  return file;
}

/** Writes `text` one byte every `everyMs` until the socket closes; resolves with the bytes written. */
function trickle(socket: WatchedSocket, text: string, everyMs: number): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    const timer = setInterval(() => {
      if (sent >= text.length || !socket.write(text[sent]!)) {
        clearInterval(timer);
        resolve(sent);
        return;
      }
      sent++;
    }, everyMs);
    void socket.closed.then(() => {
      clearInterval(timer);
      resolve(sent);
    });
  });
}

describe('hostile connections against the runtime process', function () {
  this.timeout(180_000);
  const pool = unavailablePool();
  // Short timeouts: headers 1 s, whole request 3 s, request deadline 1.5 s, keep-alive 1 s.
  let short: RuntimeProcess;
  // A cap of 4 connections, with timeouts long enough that idle connections stay while the test holds them.
  let capped: RuntimeProcess;
  // A body timeout (2 s) shorter than the request deadline, so the server's own bound is what cuts a slow body.
  let slowBody: RuntimeProcess;
  const ports: Record<string, number> = {};

  before(async () => {
    const common = ['--config', pool, '--workers', '0'];
    short = RuntimeProcess.startLocal([
      ...common,
      '--headers-timeout-ms', '1000',
      '--body-timeout-ms', '3000',
      '--request-timeout-ms', '1500',
      '--keep-alive-timeout-ms', '1000',
      '--max-body-bytes', String(1024 * 1024),
    ]);
    capped = RuntimeProcess.startLocal([...common, '--headers-timeout-ms', '30000', '--body-timeout-ms', '60000', '--keep-alive-timeout-ms', '30000'], {
      MLOFFLOAD_MAX_CONNECTIONS: '4',
    });
    slowBody = RuntimeProcess.startLocal([...common, '--headers-timeout-ms', '1000', '--body-timeout-ms', '2000', '--request-timeout-ms', '60000']);
    [ports.short, ports.capped, ports.slowBody] = await Promise.all([short.port(60_000), capped.port(60_000), slowBody.port(60_000)]);
  });

  after(() => {
    for (const runtime of [short, capped, slowBody]) runtime?.kill();
  });

  afterEach(() => {
    for (const runtime of [short, capped, slowBody]) {
      expect(runtime.alive, 'the runtime process is still running').to.equal(true);
      expect(runtime.lines.filter((l) => l.event === 'uncaught_exception' || l.event === 'request_failed')).to.deep.equal([]);
    }
  });

  it('answers a multipart upload whose file part never ends with 400, and keeps serving', async () => {
    // 128 bytes: a part header and three bytes of file, no closing boundary. It once ended the process.
    const body =
      '--XX\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\nabc' + 'd'.repeat(26);
    const request = `POST /v1/vision/faces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=XX\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const answer = await rawExchange(ports.short!, Buffer.from(request), { timeoutMs: 10_000 });
    expect(answer.status, answer.body).to.equal(400);
    expect(JSON.parse(answer.body)).to.deep.equal({ error: 'multipart body cannot be parsed: Unexpected end of form' });

    const health = await rawExchange(ports.short!, Buffer.from('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'), { timeoutMs: 10_000 });
    expect(health.status).to.equal(200);
  });

  it('cuts a client that sends its headers a byte at a time (408, then closed) once the headers timeout passes', async () => {
    const socket = new WatchedSocket(ports.short!);
    await socket.connected;
    const headers = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(200)}\r\n\r\n`;
    const sent = trickle(socket, headers, 100);
    const closedAfter = await eventually(
      async () => {
        expect(socket.isClosed, 'connection closed by the server').to.equal(true);
        return socket.closed;
      },
      { timeout: 8_000, interval: 50 },
    );
    expect(socket.response()?.status).to.equal(408);
    // 1 s of headers timeout, checked every 250 ms; generous slack for a loaded machine.
    expect(closedAfter).to.be.within(900, 5_000);
    expect(await sent).to.be.lessThan(headers.length);
  });

  it('closes the connection after a 504 instead of waiting for the rest of a stalled body', async () => {
    const socket = new WatchedSocket(ports.short!);
    await socket.connected;
    socket.write(`POST /v1/vision/faces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: 1000000\r\n\r\n`);
    socket.write(Buffer.alloc(1000, 0xff));
    // The body stalls here. The request deadline (1.5 s) answers 504; the connection must not stay open
    // for the 999,000 bytes that will never come (the body timeout is 3 s, the default 60 s).
    const answer = await eventually(
      () => {
        const r = socket.response();
        expect(r?.status).to.equal(504);
        return r!;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(answer.headers.connection).to.equal('close');
    const closedAfter = await eventually(
      async () => {
        expect(socket.isClosed).to.equal(true);
        return socket.closed;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(closedAfter - answer.ms, 'ms between the 504 and the close').to.be.lessThan(2_500);
  });

  it('closes the connection when a client keeps sending after a 413, whatever it does with the FIN', async () => {
    // allowHalfOpen: the client ignores the server's FIN and goes on writing, as an attacker would.
    const socket = new WatchedSocket(ports.short!, { allowHalfOpen: true });
    await socket.connected;
    socket.write('POST /v1/vision/faces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(0x10000, 1), Buffer.from('\r\n')]);
    let written = 0;
    const pump = setInterval(() => {
      for (let i = 0; i < 4; i++) if (socket.write(chunk)) written += chunk.length;
    }, 10);
    try {
      const answer = await eventually(
        () => {
          const r = socket.response();
          expect(r?.status).to.equal(413);
          return r!;
        },
        { timeout: 10_000, interval: 20 },
      );
      expect(answer.headers.connection).to.equal('close');
      const closedAfter = await eventually(
        async () => {
          expect(socket.isClosed).to.equal(true);
          return socket.closed;
        },
        { timeout: 10_000, interval: 50 },
      );
      // The answer says Connection: close and the server cuts the connection once it is flushed.
      expect(closedAfter - answer.ms, 'ms between the 413 and the close').to.be.lessThan(4_000);
      expect(written).to.be.greaterThan(1024 * 1024);
    } finally {
      clearInterval(pump);
      socket.destroy();
    }
  });

  it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
    const socket = new WatchedSocket(ports.short!);
    await socket.connected;
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const answer = await eventually(
      () => {
        const r = socket.response();
        expect(r?.status).to.equal(200);
        return r!;
      },
      { timeout: 10_000, interval: 20 },
    );
    expect(answer.headers.connection).to.equal('keep-alive');
    const closedAfter = await eventually(
      async () => {
        expect(socket.isClosed).to.equal(true);
        return socket.closed;
      },
      { timeout: 8_000, interval: 50 },
    );
    expect(closedAfter - answer.ms, 'idle ms before the close').to.be.within(700, 4_000);
  });

  it('answers 408 and closes a request whose body trickles past the body timeout', async () => {
    const socket = new WatchedSocket(ports.slowBody!);
    await socket.connected;
    socket.write('POST /v1/vision/faces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n');
    const sent = trickle(socket, 'x'.repeat(1000), 100);
    const closedAfter = await eventually(
      async () => {
        expect(socket.isClosed).to.equal(true);
        return socket.closed;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(socket.response()?.status).to.equal(408);
    expect(closedAfter).to.be.within(1_800, 6_000);
    expect(await sent).to.be.lessThan(1000);
  });

  it('answers connections beyond the cap with 503 and Retry-After, and admits again once one closes', async () => {
    const held = Array.from({ length: 4 }, () => new WatchedSocket(ports.capped!));
    try {
      await Promise.all(held.map((s) => s.connected));
      // A request on every held connection: each is admitted and served, and stays open (keep-alive).
      for (const s of held) s.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await eventually(() => expect(held.map((s) => s.response()?.status)).to.deep.equal([200, 200, 200, 200]), { timeout: 10_000 });

      const refused = await rawExchange(ports.capped!, Buffer.from('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'), { timeoutMs: 10_000 });
      expect(refused.status).to.equal(503);
      expect(refused.headers['retry-after']).to.equal('1');
      expect(JSON.parse(refused.body).error).to.match(/4 connections open/);
      expect(held.every((s) => !s.isClosed), 'held connections untouched').to.equal(true);

      held[0]!.destroy();
      await eventually(
        async () => {
          const again = await rawExchange(ports.capped!, Buffer.from('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'), { timeoutMs: 5_000 });
          expect(again.status).to.equal(200);
        },
        { timeout: 10_000, interval: 100 },
      );
    } finally {
      for (const s of held) s.destroy();
    }
  });
});
