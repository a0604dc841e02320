/**
 * Resident memory of the vision pool (face-detector, facial-expression, object-detector) over its life, for
 * each allocator setting given, alternating so every setting meets the same machine load:
 * - `warm`: started on a model cache holding the compiled models and their kept load-time benchmarks;
 * - `measured`: the same cache without the kept benchmarks, so the runtime takes them again (what a start on
 *   a new node, runtime version or thread count does) and idles after its batched runs;
 * - `cold`: a first start on an empty cache: compile, verify, load, benchmark (it fills the cache for the rest);
 * - `idle after 100 requests`: the warm process once its first flagship requests are served and it is quiet;
 * - `after N more`: the same process after N flagship requests (640x480 JPEG with one face to
 *   `POST /v1/vision/facial-expressions`) sent by a load generator in a process of its own at nice 10, with
 *   the server's CPU time and minor page faults per request (utime + stime and minflt of the runtime process over the run).
 * RSS is `VmRSS` `--idle-ms` after `models_ready`, and `--quiet-ms` after the last request (the runtime gives
 * back what a spell of traffic left at its first 5 s check without work: core/quietRelease.ts).
 *
 *   npm run build && npx tsx bench/rss.ts [--requests 10000] [--concurrency 2] [--rounds 1] [--idle-ms 5000] [--quiet-ms 12000]
 *     [--before <checkout with its own dist/>] [--setting 'name=ENV=value,ENV=value' ...]
 *
 * Variants: this build, the `--before` build, and this build under each `--setting`'s environment (glibc's
 * `MALLOC_*` variables, say), alternating round by round.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { visionPool } from '../inference-runtime/config/defaultPool.js';
import { singleFace640x480 } from '../test/helpers/samplePhotos.js';
import { footprint, loadAverage, mainOf, poolFile, startRuntime, type StartedRuntime } from './runtimeStart.js';
import { median, r1, r2 } from './stats.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '1' },
    'idle-ms': { type: 'string', default: '5000' },
    'quiet-ms': { type: 'string', default: '12000' },
    before: { type: 'string' },
    setting: { type: 'string', multiple: true },
    // The load generator's own mode (this file started again at nice 10).
    client: { type: 'string' },
    image: { type: 'string' },
  },
});

/** The load generator: `requests` flagship requests, `concurrency` at a time; prints the count of non-200s. */
async function client(url: string, imageFile: string, requests: number, concurrency: number): Promise<void> {
  const image = readFileSync(imageFile);
  let sent = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < requests) {
        sent++;
        const r = await fetch(`${url}/v1/vision/facial-expressions`, { method: 'POST', body: image, headers: { 'Content-Type': 'image/jpeg' } });
        await r.arrayBuffer();
        if (r.status !== 200) failed++;
      }
    }),
  );
  process.stdout.write(`${JSON.stringify({ failed })}\n`);
}

interface Setting {
  name: string;
  main: string;
  env: Record<string, string>;
}

function parseSetting(text: string, main: string): Setting {
  const [name, rest = ''] = text.split(/=(.*)/s);
  const env: Record<string, string> = {};
  for (const kv of rest.split(',').filter(Boolean)) {
    const [k, v] = kv.split('=');
    env[k] = v;
  }
  return { name, main, env };
}

/** utime + stime of a process, ms, and its minor page faults (pages the kernel had to map in). */
async function processCounters(pid: number): Promise<{ cpuMs: number; minorFaults: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 10, 14 and 15 of stat(5), counted from the state field (3); utime and stime in ticks of 10 ms.
  return { cpuMs: (Number(fields[11]) + Number(fields[12])) * 10, minorFaults: Number(fields[7]) };
}

/** Requests before the idle figure that the run is compared with. */
const FIRST_REQUESTS = 100;

const idle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function idleRss(rt: StartedRuntime, idleMs: number): Promise<number> {
  await rt.event('models_ready', 300_000);
  await idle(idleMs);
  return (await footprint(rt.child.pid!)).runtimeMiB;
}

function dropKeptBenchmarks(cacheDir: string): void {
  const derived = path.join(cacheDir, 'derived');
  for (const d of readdirSync(derived)) {
    for (const f of readdirSync(path.join(derived, d))) if (f.startsWith('benchmark-')) rmSync(path.join(derived, d, f));
  }
}

interface Sample {
  warm: number;
  /** Idle again after the first requests. */
  served: number;
  measured: number;
  cold: number;
  afterRequests: number;
  cpuMsPerRequest: number;
  /** Minor page faults per request: memory an allocator gave back and took again, among others. */
  faultsPerRequest: number;
  failed: number;
  requestsPerSec: number;
  readyWarmS: number;
  readyColdS: number;
}

async function bench(): Promise<void> {
  const requests = Number(values.requests);
  const concurrency = Number(values.concurrency);
  const idleMs = Number(values['idle-ms']);
  const main = mainOf();
  const settings: Setting[] = [
    { name: 'now', main, env: {} },
    ...(values.before ? [{ name: 'before', main: mainOf(path.resolve(values.before)), env: {} }] : []),
    ...(values.setting ?? []).map((text) => parseSetting(text, main)),
  ];
  const pool = poolFile(visionPool(), 'vision');
  const work = mkdtempSync(path.join(tmpdir(), 'mloffload-bench-rss-'));
  const imageFile = path.join(work, 'face-640x480.jpg');
  await writeFile(imageFile, await singleFace640x480());
  // Every child gets exactly the allocator variables of its setting, none inherited from this shell.
  const blank = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('MALLOC_')).map((k) => [k, undefined]));
  const start = (cacheDir: string, s: Setting): Promise<StartedRuntime> => startRuntime({ main: s.main, pool, cacheDir, env: { ...blank, ...s.env } });
  const samples = new Map<string, Sample[]>(settings.map((s) => [s.name, []]));
  const loadBefore = await loadAverage();
  try {
    for (let round = 0; round < Number(values.rounds); round++) {
      const order = round % 2 === 0 ? settings : [...settings].reverse();
      for (const s of order) {
        const cacheDir = mkdtempSync(path.join(work, 'cache-'));
        let cold: number;
        let readyColdS: number;
        {
          const rt = await start(cacheDir, s);
          try {
            readyColdS = rt.readyMs / 1000;
            cold = await idleRss(rt, idleMs);
          } finally {
            await rt.stop();
          }
        }
        dropKeptBenchmarks(cacheDir);
        let measured: number;
        {
          const rt = await start(cacheDir, s);
          try {
            measured = await idleRss(rt, idleMs);
          } finally {
            await rt.stop();
          }
        }
        const rt = await start(cacheDir, s);
        try {
          const warm = await idleRss(rt, idleMs);
          const pid = rt.child.pid!;
          // The load generator: this file again, at nice 10; resolves with its count of non-200 answers.
          const generate = async (n: number): Promise<number> => {
            const gen = spawn('nice', ['-n', '10', process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), '--client', rt.url, '--image', imageFile, '--requests', String(n), '--concurrency', String(concurrency)], {
              stdio: ['ignore', 'pipe', 'inherit'],
            });
            let out = '';
            gen.stdout.on('data', (d: Buffer) => (out += d.toString()));
            const code = await new Promise<number | null>((r) => gen.once('exit', r));
            if (code !== 0) throw new Error(`the load generator exited with ${code}`);
            return (JSON.parse(out.trim().split('\n').pop()!) as { failed: number }).failed;
          };
          // The first requests load the request path for good (task modules, libvips' threads).
          const firstFailed = await generate(FIRST_REQUESTS);
          await idle(Number(values['quiet-ms']));
          const served = (await footprint(pid)).runtimeMiB;
          const before = await processCounters(pid);
          const t0 = performance.now();
          const failed = firstFailed + (await generate(requests));
          const seconds = (performance.now() - t0) / 1000;
          const counters = await processCounters(pid);
          await idle(Number(values['quiet-ms']));
          const after = (await footprint(pid)).runtimeMiB;
          const released = rt.log.filter((l) => l.event === 'memory_released').map((l) => ({ rssMiB: l.rssMiB, releasedMiB: l.releasedMiB }));
          const sample: Sample = {
            warm,
            served,
            measured,
            cold,
            afterRequests: after,
            cpuMsPerRequest: (counters.cpuMs - before.cpuMs) / requests,
            faultsPerRequest: (counters.minorFaults - before.minorFaults) / requests,
            failed,
            requestsPerSec: requests / seconds,
            readyWarmS: rt.readyMs / 1000,
            readyColdS,
          };
          samples.get(s.name)!.push(sample);
          process.stderr.write(`${JSON.stringify({ setting: s.name, ...sample, released, load: await loadAverage() })}\n`);
        } finally {
          await rt.stop();
          rmSync(cacheDir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const loadAfter = await loadAverage();
  process.stdout.write(
    `vision pool, default workers, RSS ${idleMs} ms after models_ready / ${values['quiet-ms']} ms after the last request; ${requests} requests, ${concurrency} at a time, load generator at nice 10; median of ${values.rounds}; load average ${loadBefore} -> ${loadAfter}\n\n`,
  );
  process.stdout.write(
    `| build | warm MiB | after the load-time benchmarks MiB | after a cold start MiB | idle after ${FIRST_REQUESTS} requests MiB | after ${requests} more MiB | vs idle after ${FIRST_REQUESTS} (vs warm) | server CPU ms / request | minor faults / request | req/s | non-200 | start to ready warm / cold s |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n`,
  );
  for (const s of settings) {
    const xs = samples.get(s.name)!;
    const m = (f: (x: Sample) => number): number => median(xs.map(f));
    const warm = m((x) => x.warm);
    const after = m((x) => x.afterRequests);
    const served = m((x) => x.served);
    const pct = (a: number, b: number): string => `${a >= b ? '+' : ''}${r1(((a - b) / b) * 100)}%`;
    process.stdout.write(
      `| ${s.name}${Object.keys(s.env).length ? ` (${Object.entries(s.env).map(([k, v]) => `${k}=${v}`).join(' ')})` : ''} | ${warm.toFixed(0)} | ${m((x) => x.measured).toFixed(0)} | ${m((x) => x.cold).toFixed(0)} | ${served.toFixed(0)} | ${after.toFixed(0)} | ${pct(after, served)} (${pct(after, warm)}) | ${r2(m((x) => x.cpuMsPerRequest))} | ${r1(m((x) => x.faultsPerRequest))} | ${r1(m((x) => x.requestsPerSec))} | ${xs.reduce((a, x) => a + x.failed, 0)} | ${r2(m((x) => x.readyWarmS))} / ${r2(m((x) => x.readyColdS))} |\n`,
    );
  }
}

if (values.client) await client(values.client, values.image!, Number(values.requests), Number(values.concurrency));
else await bench();
