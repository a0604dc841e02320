import { expect } from 'chai';
import fc from 'fast-check';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { readBody } from '../../../../inference-runtime/http/requestBody.js';

/** A server answering each request with what readBody made of its body: the bytes as hex, or the error's status. */
async function echoServer(maxBytes: number): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    readBody(req, { maxBytes }).then(
      (body) => res.end(JSON.stringify({ hex: body.toString('hex') })),
      (error: { status?: number }) => res.end(JSON.stringify({ status: error.status })),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** Writes the body part by part, each flushed before the next, so the server reads them as separate chunks. */
function post(port: number, parts: Buffer[], headers: Record<string, string | number>): Promise<{ hex?: string; status?: number }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as { hex?: string; status?: number }));
    });
    request.on('error', reject);
    request.setNoDelay(true);
    const write = (i: number): void => {
      if (i === parts.length) {
        request.end();
        return;
      }
      request.write(parts[i]!, () => setTimeout(() => write(i + 1), 1));
    };
    write(0);
  });
}

function split(body: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const cut of [...at, body.length]) {
    if (cut > from) parts.push(body.subarray(from, cut));
    from = cut;
  }
  return parts.length > 0 ? parts : [body];
}

describe('request body reader', function () {
  this.timeout(60_000);
  const MAX = 4096;
  let echo: { server: http.Server; port: number };
  before(async () => {
    echo = await echoServer(MAX);
  });
  after(() => new Promise((resolve) => echo.server.close(resolve)));

  it('gives the bytes sent, whether they arrive in one chunk or many, with a length, chunked or gzip', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.array(fc.nat(), { maxLength: 5 }), fc.constantFrom('length', 'chunked', 'gzip'), async (bytes, cuts, framing) => {
        const body = Buffer.from(bytes);
        const sent = framing === 'gzip' ? gzipSync(body) : body;
        const headers: Record<string, string | number> =
          framing === 'chunked' ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': sent.length, ...(framing === 'gzip' ? { 'Content-Encoding': 'gzip' } : {}) };
        const answer = await post(echo.port, split(sent, cuts), headers);
        expect(answer).to.deep.equal({ hex: body.toString('hex') });
      }),
      { numRuns: 60 },
    );
  });

  it('refuses a body over the limit with 413, declared or streamed', async () => {
    const body = Buffer.alloc(MAX + 1, 7);
    expect(await post(echo.port, split(body, [100, 2000]), { 'Content-Length': body.length })).to.deep.equal({ status: 413 });
    expect(await post(echo.port, split(body, [100, 2000]), { 'Transfer-Encoding': 'chunked' })).to.deep.equal({ status: 413 });
  });
});
