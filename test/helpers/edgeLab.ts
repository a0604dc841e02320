// Runtimes behind delaying proxies: "edge" processes a few milliseconds away and a "cloud" process ~80 ms
// away, each a real runtime process serving the small FER2013 model, for the client SDK's network tests
// and its benchmark.
import sharp from 'sharp';
import { FACIAL_EXPRESSION } from '../../inference-runtime/config/defaultPool.js';
import { startDelayProxy, type DelayProxy } from './delayProxy.js';
import { startRuntimeProcess, type ReadyRuntime } from './runtimeProcess.js';
import { samplePath } from './samplePhotos.js';

export interface LabSite {
  name: string;
  runtime: ReadyRuntime;
  proxy: DelayProxy;
  /** The URL clients use: through the proxy. */
  url: string;
}

export interface SiteSpec {
  name: string;
  rttMs: number;
  slowEvery?: number;
  slowExtraMs?: number;
}

/** Starts one runtime process per site (in parallel) and a proxy in front of each. */
export async function startLab(sites: SiteSpec[]): Promise<LabSite[]> {
  const runtimes = await Promise.allSettled(
    sites.map((s) =>
      startRuntimeProcess({
        pool: { models: [FACIAL_EXPRESSION] },
        nodeName: s.name,
        // Inference on the main thread: three runtimes and the client share two cores.
        args: ['--workers', '0'],
      }),
    ),
  );
  const failed = runtimes.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(runtimes.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    throw (failed as PromiseRejectedResult).reason;
  }
  const started = runtimes.map((r) => (r as PromiseFulfilledResult<ReadyRuntime>).value);
  return Promise.all(
    sites.map(async (s, i) => {
      const runtime = started[i]!;
      const proxy = await startDelayProxy({ target: { host: '127.0.0.1', port: runtime.port }, rttMs: s.rttMs, slowEvery: s.slowEvery, slowExtraMs: s.slowExtraMs });
      return { name: s.name, runtime, proxy, url: proxy.url };
    }),
  );
}

export async function stopLab(sites: readonly LabSite[] | undefined): Promise<void> {
  await Promise.all((sites ?? []).map(async (s) => {
    await s.proxy.close();
    await s.runtime.stop();
  }));
}

/** A 96x96 JPEG face crop (the laughing woman of face-api's sample 1), for `crop: false` requests. */
export async function faceCrop(): Promise<Uint8Array> {
  const jpeg = await sharp(samplePath(1)).extract({ left: 1470, top: 230, width: 200, height: 200 }).resize(96, 96).jpeg({ quality: 90 }).toBuffer();
  return new Uint8Array(jpeg);
}

export interface LoadResult {
  latencies: number[];
  errors: string[];
}

/** `count` calls, `concurrency` at a time; `onStart(i)` runs before call i starts. Wall-clock latency per call. */
export async function runLoad(count: number, concurrency: number, call: () => Promise<unknown>, onStart?: (i: number) => void | Promise<void>): Promise<LoadResult> {
  const latencies: number[] = [];
  const errors: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        await onStart?.(i);
        const t0 = performance.now();
        try {
          await call();
          latencies.push(performance.now() - t0);
        } catch (error) {
          errors.push(error instanceof Error ? error.message : String(error));
        }
      }
    }),
  );
  return { latencies, errors };
}

/** Nearest-rank percentile. */
export function percentileOf(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}
