/**
 * The HTTP load of the protocol and collection benchmarks: autocannon's connections sending one request
 * over and over, with each answer's exact response time (autocannon's own histogram has 1 ms resolution)
 * and every answer of another status than the expected one counted as an error.
 */
import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';
import type { Segment } from './expressionLoad.js';

export interface HttpRequestSpec {
  /** The whole URL, route included. */
  url: string;
  method?: 'POST' | 'GET';
  headers?: Record<string, string>;
  body?: Buffer;
  /** The status a right answer has; 200 unless given. */
  status?: number;
}

/** Either a time or a number of requests. */
export type HttpLoadLength = { seconds: number } | { amount: number };

export interface HttpSegment extends Segment {
  /** Answers of the expected status. */
  answered: number;
}

/** `connections` clients sending `spec` for the given time or number of requests. */
export async function httpLoad(spec: HttpRequestSpec, connections: number, length: HttpLoadLength): Promise<HttpSegment> {
  const latencies: number[] = [];
  let wrong = 0;
  const expected = spec.status ?? 200;
  const t0 = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      Object.assign(
        { url: spec.url, method: spec.method ?? 'POST', headers: spec.headers ?? {}, body: spec.body, connections },
        'amount' in length ? { amount: length.amount } : { duration: length.seconds },
      ),
      (error, done) => (error ? reject(error as Error) : resolve(done)),
    );
    instance.on('response', (_client, status, _bytes, responseTime) => {
      if (status === expected) latencies.push(responseTime);
      else wrong++;
    });
  });
  return { latencies, answered: latencies.length, seconds: (performance.now() - t0) / 1000, errors: wrong + result.errors + result.timeouts };
}
