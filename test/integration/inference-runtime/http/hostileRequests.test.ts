import { expect } from 'chai';
import fc from 'fast-check';
import sharp from 'sharp';
import { CHANNELS, compressionBombs, hostileRequest, type Channel, type Fixtures, type HostileRequest } from './hostileRequests.js';
import { rawExchange, type RawAnswer } from './rawHttp.js';
import { RuntimeProcess } from '../../../helpers/runtimeProcess.js';

/**
 * Property-based fuzzing of the runtime process over real HTTP: thousands of malformed and hostile requests
 * on every input channel, a few at a time on parallel connections. Invariants a user would notice:
 * - every whole request gets an answer, and the answer is a 4xx or a 503 (a 2xx only where the mutation may
 *   have left a request the API serves), never another 5xx, never a stack trace;
 * - an incomplete request gets a 4xx or a closed connection, never a hang;
 * - the process never exits, and still serves a real request afterwards;
 * - the memory release that follows the run (and a few seconds of real requests) leaves its resident memory
 *   within 35% of where the release after a warm-up of the same length (and the same real requests) left it.
 * MLOFFLOAD_FUZZ_RUNS and MLOFFLOAD_FUZZ_SEED replay or widen a run (fast-check prints the seed of a failure).
 */
const MAX_BODY_BYTES = 256 * 1024;
const BATCH = 6;
const RUNS = Number(process.env.MLOFFLOAD_FUZZ_RUNS ?? 500);
/**
 * The main run stops here even if RUNS is not reached (a shared or slow machine); it must still have sent
 * MIN_REQUESTS for the run to count. On two idle cores RUNS takes about a minute.
 */
const TIME_LIMIT_MS = Number(process.env.MLOFFLOAD_FUZZ_TIME_LIMIT_MS ?? 90_000);
const MIN_REQUESTS = 600;
const SEED = process.env.MLOFFLOAD_FUZZ_SEED === undefined ? undefined : Number(process.env.MLOFFLOAD_FUZZ_SEED);
/** What a request may take before it counts as a hang: decoding and inference on a loaded 2-core machine included. */
const ANSWER_WITHIN_MS = 20_000;

async function fixtures(): Promise<Fixtures> {
  const noise = await sharp({ create: { width: 40, height: 32, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .png()
    .toBuffer();
  const images = await Promise.all([sharp(noise).jpeg().toBuffer(), sharp(noise).png().toBuffer(), sharp(noise).webp().toBuffer()]);
  return { images, ...compressionBombs(MAX_BODY_BYTES) };
}

/** Why an answer breaks the invariants, or undefined when it keeps them. */
function violation(request: HostileRequest, answer: RawAnswer): string | undefined {
  if (answer.hung) return `no answer and no close within ${ANSWER_WITHIN_MS} ms`;
  if (answer.status === undefined) return request.complete ? 'the connection was closed without an answer to a whole request' : undefined;
  const s = answer.status;
  const allowed = (s >= 400 && s < 500) || s === 503 || (request.mayBeValid && s >= 200 && s < 300);
  if (!allowed) return `status ${s}: ${answer.body.slice(0, 300)}`;
  if (/\n\s+at /.test(answer.body)) return `a stack trace in the answer: ${answer.body.slice(0, 300)}`;
  if (s >= 400 && answer.body !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.body);
    } catch {
      return `a ${s} whose body is not JSON: ${answer.body.slice(0, 200)}`;
    }
    if (typeof (parsed as { error?: unknown }).error !== 'string') return `a ${s} without {"error": "..."}: ${answer.body.slice(0, 200)}`;
  }
  return undefined;
}

describe('hostile requests against the runtime process (fuzz)', function () {
  this.timeout(600_000);
  let runtime: RuntimeProcess;
  let port: number;
  let inputs: Fixtures;

  before(async () => {
    inputs = await fixtures();
    runtime = RuntimeProcess.startLocal(['--workers', '1', '--max-body-bytes', String(MAX_BODY_BYTES)]);
    // The memory releases the test waits for come with the allocator trim (core/allocatorTrim.ts).
    expect((await runtime.event('starting', 30_000)).allocatorTrim, 'the allocator trim').to.equal('on');
    port = await runtime.port();
    await runtime.event('models_ready', 300_000);
  });

  after(() => runtime?.kill());

  const statuses = new Map<string, number>();
  const sendBatch = async (batch: HostileRequest[]): Promise<void> => {
    const answers = await Promise.all(batch.map((r) => rawExchange(port, r.bytes, { halfClose: !r.complete, timeoutMs: ANSWER_WITHIN_MS })));
    for (const a of answers) {
      const key = a.status === undefined ? 'closed' : String(a.status);
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }
    expect(runtime.alive, `the runtime exited; errors logged: ${JSON.stringify(runtime.lines.filter((l) => l.level === 'error')).slice(0, 2000)}`).to.equal(true);
    batch.forEach((request, i) => {
      const problem = violation(request, answers[i]!);
      if (problem) expect.fail(`${request.channel} [${request.label}]: ${problem}\nrequest head: ${JSON.stringify(request.bytes.subarray(0, 300).toString('latin1'))}`);
    });
  };

  /** A whole, valid request: the fixtures' JPEG to the faces route. */
  const realFaceRequest = (): Buffer => {
    const [jpeg] = inputs.images;
    return Buffer.concat([Buffer.from(`POST /v1/vision/faces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg!.length}\r\n\r\n`), jpeg!]);
  };

  /**
   * Real face requests, two at a time, for longer than one of the quiet release's checks (5 s), ending each
   * spell of fuzzing: most hostile requests cost the runtime almost nothing, so a spell of them may stay under
   * the release's 5% of a core (core/quietRelease.ts), or go quiet while a batch waits on a timeout and
   * release in the middle of the spell. After this, the next release is the one that follows the spell. Each
   * spell ends with the same one, so the two releases compare what the two spells left. Returns the log line
   * count at its end.
   */
  const busyTail = async (): Promise<number> => {
    const request = realFaceRequest();
    const until = Date.now() + 8000;
    await Promise.all(
      [0, 1].map(async () => {
        while (Date.now() < until) {
          const answer = await rawExchange(port, request, { timeoutMs: ANSWER_WITHIN_MS });
          expect(answer.status, answer.body).to.equal(200);
        }
      }),
    );
    return runtime.lines.length;
  };

  it(`answers up to ${RUNS * BATCH} generated requests on every channel with 4xx/503, stays up, and gives its memory back`, async () => {
    const arbitrary = fc.array(hostileRequest(inputs), { minLength: BATCH, maxLength: BATCH });
    const sent = new Map<Channel, number>(CHANNELS.map((c) => [c, 0]));
    const property = fc.asyncProperty(arbitrary, async (batch) => {
      for (const r of batch) sent.set(r.channel, sent.get(r.channel)! + 1);
      await sendBatch(batch);
    });

    // Warm-up as long as the main run: every path (parsers, decoders, workers) has run, and the allocators'
    // arenas have reached the high-water mark such a run's coinciding large requests leave (a one-time step
    // that depends on which requests happened to overlap, not on how many were served). A leak still shows:
    // the main run must not grow past the level the warm-up settled at.
    await fc.assert(property, { numRuns: RUNS, seed: SEED === undefined ? undefined : SEED + 1, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false });
    const { rss: baseline } = await runtime.rssAfterRelease(await busyTail());
    sent.forEach((_, c) => sent.set(c, 0));

    const started = Date.now();
    await fc.assert(property, { numRuns: RUNS, seed: SEED, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false });
    const seconds = (Date.now() - started) / 1000;

    // Still serving: a real image gets a real answer.
    const served = await rawExchange(port, realFaceRequest(), { timeoutMs: ANSWER_WITHIN_MS });
    expect(served.status, served.body).to.equal(200);
    expect(runtime.lines.filter((l) => l.event === 'uncaught_exception' || l.event === 'request_failed')).to.deep.equal([]);

    const total = [...sent.values()].reduce((a, b) => a + b, 0);
    expect(total, 'requests sent in the main run').to.be.at.least(Math.min(MIN_REQUESTS, RUNS * BATCH));
    for (const channel of CHANNELS) expect(sent.get(channel), `requests on ${channel}`).to.be.greaterThan(total / CHANNELS.length / 3);
    // Memory comes back: the release after the main run leaves about what the one after the warm-up did. What
    // differs between two such releases is where live blocks sit in the allocators' arenas: -24% to +30% in 19
    // runs of random seeds (three of them in the full suite); a leak of 30 KB a request would add 35%.
    const { rss: after } = await runtime.rssAfterRelease(await busyTail());
    const releases = runtime.lines.filter((l) => l.event === 'memory_released').map(({ rssMiB, releasedMiB }) => ({ rssMiB, releasedMiB }));
    expect(after, `RSS after the release ${mib(after)} MiB against ${mib(baseline)} MiB after the warm-up's; releases ${JSON.stringify(releases)}`).to.be.at.most(
      baseline * 1.35,
    );
    console.log(
      `      ${total} requests in ${seconds.toFixed(1)} s (${(total / seconds).toFixed(0)}/s); RSS after the releases ${mib(baseline)} -> ${mib(after)} MiB; ` +
        [...sent].map(([c, n]) => `${c} ${n}`).join(', ') +
        `; answers (warm-up included) ${[...statuses].sort().map(([s, n]) => `${s}: ${n}`).join(', ')}`,
    );
  });
});

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);
