import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { eventually } from '../../../helpers/eventually.js';
import { RuntimeProcess } from '../../../helpers/runtimeProcess.js';
import { SecretVolume } from '../../../helpers/secretVolume.js';
import { selfSignedCert, type TestCert } from './selfSignedCert.js';

interface Answer {
  status: number;
  /** SHA-256 fingerprint of the certificate the server presented on this connection. */
  fingerprint: string;
  reusedSocket: boolean;
}

/** One GET over TLS, verified against the test CAs (both self-signed certificates). */
function get(port: number, route: string, options: { key?: string; agent?: https.Agent | false; ca: Buffer[] }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port,
        path: route,
        agent: options.agent ?? false,
        ca: options.ca,
        headers: options.key ? { authorization: `Bearer ${options.key}` } : {},
      },
      (res) => {
        const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, fingerprint, reusedSocket: req.reusedSocket }));
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${route} timed out`)));
  });
}

const fingerprintOf = (cert: TestCert): string => new X509Certificate(cert.cert).fingerprint256;

describe('secret rotation (runtime process, kubelet-style Secret volumes)', function () {
  this.timeout(120_000);
  let dir: string;
  let first: TestCert;
  let second: TestCert;
  let runtime: RuntimeProcess | undefined;
  let agent: https.Agent | undefined;

  before(async () => {
    [first, second] = await Promise.all([selfSignedCert(), selfSignedCert()]);
  });
  after(async () => {
    await Promise.all([first?.remove(), second?.remove()]);
  });
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mloffload-rotation-'));
  });
  afterEach(async () => {
    agent?.destroy();
    await runtime?.stop();
    runtime = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('takes new API keys and a new certificate from swapped ..data symlinks, keeping open connections, and refuses bad files', async () => {
    const keys = await SecretVolume.create(path.join(dir, 'api-keys'), { keys: 'old-key\n' });
    const certs = await SecretVolume.create(path.join(dir, 'tls'), { 'tls.crt': first.cert, 'tls.key': first.key });
    const pool = path.join(dir, 'pool.json');
    // A model that fails at once: the test is about the HTTP layer, not about loading.
    await writeFile(pool, JSON.stringify({ models: [{ name: 'absent', task: 'vision/facial-expression', framework: 'onnx', version: '1', source: { uri: `file://${dir}/absent.onnx` } }] }));

    runtime = RuntimeProcess.start([
      '--port', '0', '--host', '127.0.0.1', '--workers', '0',
      '--config', pool, '--model-cache', path.join(dir, 'cache'),
      '--tls-cert', certs.path('tls.crt'), '--tls-key', certs.path('tls.key'),
      '--api-keys-file', keys.path('keys'),
      '--secret-reload-ms', '200',
    ]);
    const port = (await runtime.event('listening', 60_000)).port as number;
    const ca = [first.cert, second.cert];

    // A keep-alive connection opened before the rotation.
    agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
    const before = await get(port, '/v1/models', { key: 'old-key', agent, ca });
    expect(before).to.deep.include({ status: 200, fingerprint: fingerprintOf(first) });

    await keys.update({ keys: 'new-key\n' });
    await certs.update({ 'tls.crt': second.cert, 'tls.key': second.key });

    await eventually(
      async () => {
        expect((await get(port, '/v1/models', { key: 'old-key', ca })).status).to.equal(401);
        const fresh = await get(port, '/v1/models', { key: 'new-key', ca });
        expect(fresh).to.deep.include({ status: 200, fingerprint: fingerprintOf(second) });
      },
      { timeout: 20_000, interval: 100, message: 'rotated key and certificate' },
    );
    // The connection opened before still works, on the certificate it negotiated, with the new key.
    const kept = await get(port, '/v1/models', { key: 'new-key', agent, ca });
    expect(kept).to.deep.equal({ status: 200, fingerprint: fingerprintOf(first), reusedSocket: true });
    expect(runtime.lines.find((l) => l.event === 'tls_reloaded')).to.include({ fingerprint256: fingerprintOf(second) });

    // A keys file with no keys, and a certificate with another certificate's key: both refused, with a
    // warning each, and the keys and certificate in force keep serving.
    await keys.update({ keys: '# rotated by hand, the key comes later\n\n' });
    await runtime.event('api_keys_reload_refused', 20_000);
    await certs.update({ 'tls.crt': first.cert, 'tls.key': second.key });
    const refused = await runtime.event('tls_reload_refused', 20_000);
    expect(refused.reason).to.match(/does not match/);
    const still = await get(port, '/v1/models', { key: 'new-key', ca });
    expect(still).to.deep.include({ status: 200, fingerprint: fingerprintOf(second) });

    // A fixed file is taken again.
    await keys.update({ keys: 'third-key\n' });
    await eventually(async () => expect((await get(port, '/v1/models', { key: 'third-key', ca })).status).to.equal(200), { timeout: 20_000 });

    // Key material never reaches the log.
    const log = runtime.rawLines.join('\n');
    for (const secret of ['old-key', 'new-key', 'third-key', 'PRIVATE KEY']) expect(log).not.to.contain(secret);
  });
});
