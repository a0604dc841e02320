// A minimal HTTPS JSON client for the few calls the start-up script makes as the cluster admin
// (health checks, creating nodes). Tests use @kubernetes/client-node instead.
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsFiles {
  readonly ca: string;
  readonly cert?: string;
  readonly key?: string;
}

export interface HttpResult {
  readonly status: number;
  readonly body: string;
}

export function adminTls(pkiDir: string): TlsFiles {
  return { ca: join(pkiDir, 'ca.crt'), cert: join(pkiDir, 'admin.crt'), key: join(pkiDir, 'admin.key') };
}

export function httpsRequest(
  url: string,
  tls: TlsFiles,
  options: { method?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<HttpResult> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolveResult, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca: readFileSync(tls.ca),
        cert: tls.cert ? readFileSync(tls.cert) : undefined,
        key: tls.key ? readFileSync(tls.key) : undefined,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
        timeout: options.timeoutMs ?? 5_000,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolveResult({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out: ${options.method ?? 'GET'} ${url}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** GET that answers only the status, treating connection errors as status 0. */
export async function probe(url: string, tls: TlsFiles): Promise<number> {
  try {
    return (await httpsRequest(url, tls, { timeoutMs: 2_000 })).status;
  } catch {
    return 0;
  }
}
