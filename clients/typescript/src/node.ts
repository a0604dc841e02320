/**
 * Node-only helpers: a `fetch` over node:https that trusts a private CA (the self-signed certificates of
 * the examples), which the global fetch of Node cannot be given without extra packages.
 *
 *   import { httpsFetch } from '@mloffload/client/node';
 *   const client = new MLOffloadClient({ endpoints, apiKey, fetch: httpsFetch({ ca: readFileSync('tls.crt') }) });
 */
import http from 'node:http';
import https from 'node:https';
import type { FetchLike, ResponseLike } from './transport.js';

export interface HttpsFetchOptions {
  /** PEM certificates trusted for https:// endpoints (in place of the system's roots). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Largest response body read (default 64 MiB): a runaway server cannot exhaust the app's memory. */
  maxResponseBytes?: number;
  /** Keep-alive connections per endpoint (default 8). */
  maxSockets?: number;
}

/** A FetchLike over node:http(s) with keep-alive agents and an optional private CA. */
export function httpsFetch(options: HttpsFetchOptions = {}): FetchLike {
  const maxBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 8 });
  const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 8, ca: options.ca });
  return (url, init) =>
    new Promise<ResponseLike>((resolve, reject) => {
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      const request = (secure ? https : http).request(target, { method: init.method, headers: init.headers, agent: secure ? httpsAgent : httpAgent, signal: init.signal }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const body = new Promise<Buffer>((resolveBody, rejectBody) => {
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) {
              res.destroy(new Error(`response larger than ${maxBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => resolveBody(Buffer.concat(chunks)));
          res.on('error', rejectBody);
          res.on('aborted', () => rejectBody(new Error('connection closed mid-response')));
        });
        // Unread bodies must not surface as unhandled rejections.
        body.catch(() => undefined);
        const status = res.statusCode ?? 0;
        resolve({
          status,
          ok: status >= 200 && status < 300,
          headers: { get: (name) => headerValue(res.headers[name.toLowerCase()]) },
          text: async () => (await body).toString('utf8'),
          arrayBuffer: async () => {
            const bytes = await body;
            return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
          },
        });
      });
      request.on('error', reject);
      request.end(init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : Buffer.from(init.body.buffer, init.body.byteOffset, init.body.byteLength));
    });
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}
