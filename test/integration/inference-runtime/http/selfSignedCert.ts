import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export interface TestCert {
  dir: string;
  certPath: string;
  keyPath: string;
  cert: Buffer;
  key: Buffer;
  remove(): Promise<void>;
}

/** A throwaway self-signed certificate for localhost/127.0.0.1, made with the openssl CLI. */
export async function selfSignedCert(): Promise<TestCert> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mloffload-tls-'));
  const certPath = path.join(dir, 'cert.pem');
  const keyPath = path.join(dir, 'key.pem');
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  return {
    dir,
    certPath,
    keyPath,
    cert: await readFile(certPath),
    key: await readFile(keyPath),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
