import { expect } from 'chai';
import http from 'node:http';
import https from 'node:https';
import { startServer, type RunningServer } from '../../../../inference-runtime/server.js';
import { selfSignedCert, type TestCert } from './selfSignedCert.js';

/** A handler whose `/slow` responses wait until the test releases them. */
function latchedHandler() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let arrived!: () => void;
  const slowArrived = new Promise<void>((resolve) => (arrived = resolve));
  const handler: http.RequestListener = (req, res) => {
    if (req.url === '/slow') {
      arrived();
      void released.then(() => res.end('slow done'));
    } else {
      res.end('fast');
    }
  };
  return { handler, release, slowArrived };
}

function get(url: string, agent?: http.Agent): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      })
      .on('error', reject);
  });
}

describe('runtime server', () => {
  let running: RunningServer | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it('finishes an in-flight request after close(), refuses new connections, and closes keep-alive sockets', async () => {
    const { handler, release, slowArrived } = latchedHandler();
    running = await startServer(handler, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 5_000 });
    const agent = new http.Agent({ keepAlive: true });
    // An idle keep-alive connection from an earlier request must not hold the shutdown up.
    expect((await get(`${running.url}/fast`, agent)).body).to.equal('fast');
    const inFlight = get(`${running.url}/slow`, agent);
    await slowArrived;

    const started = Date.now();
    const closed = running.close();
    const refused = await get(`${running.url}/fast`).then(
      () => 'served',
      (error: NodeJS.ErrnoException) => error.code,
    );
    expect(refused).to.equal('ECONNREFUSED');

    release();
    const response = await inFlight;
    expect(response.status).to.equal(200);
    expect(response.body).to.equal('slow done');
    expect(response.headers.connection).to.equal('close');
    expect(await closed).to.deep.equal({ forced: false });
    expect(Date.now() - started).to.be.lessThan(5_000);
    agent.destroy();
  });

  it('cuts requests that outlive the shutdown bound', async () => {
    const { handler, slowArrived } = latchedHandler();
    running = await startServer(handler, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 200 });
    const stuck = get(`${running.url}/slow`).then(
      () => 'answered',
      (error: NodeJS.ErrnoException) => error.code,
    );
    await slowArrived;
    const started = Date.now();
    expect(await running.close()).to.deep.equal({ forced: true });
    expect(Date.now() - started).to.be.within(150, 3_000);
    expect(await stuck).to.equal('ECONNRESET');
  });

  describe('HTTPS', () => {
    let cert: TestCert;
    before(async () => {
      cert = await selfSignedCert();
    });
    after(() => cert.remove());

    it('serves TLS with the configured certificate and key', async () => {
      running = await startServer((_req, res) => res.end('secure'), { port: 0, host: '127.0.0.1', tls: { cert: cert.cert, key: cert.key } });
      expect(running.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get(`${running!.url}/`, { ca: cert.cert }, (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve(text));
          })
          .on('error', reject);
      });
      expect(body).to.equal('secure');
      // A client that does not trust the certificate is refused by TLS, not answered in clear text.
      const untrusted = await new Promise<string>((resolve) => {
        https.get(`${running!.url}/`, () => resolve('answered')).on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      });
      expect(untrusted).to.equal('DEPTH_ZERO_SELF_SIGNED_CERT');
    });
  });
});
