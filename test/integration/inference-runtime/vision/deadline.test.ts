import { performance } from 'node:perf_hooks';
/**
 * The deadline travels with the work: a vision request whose deadline passes (or whose client leaves) while
 * its inference waits in a full worker queue is answered at once and its inference never runs. Real models
 * in a real worker thread; the worker is kept busy by object-detector inferences on tfjs-wasm (about 200 ms
 * each on one core), so the face detector's turn cannot come before the deadline.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { FACE_DETECTOR, OBJECT_DETECTOR } from '../../../../inference-runtime/config/defaultPool.js';
import { Overloaded } from '../../../../inference-runtime/core/errors.js';
import type { NamedTensors } from '../../../../inference-runtime/core/tensor.js';
import { createModelRegistry, type PoolModelRegistry } from '../../../../inference-runtime/dataplane/modelRegistry.js';
import { createApp } from '../../../../inference-runtime/http/app.js';
import { startServer, type RunningServer } from '../../../../inference-runtime/server.js';
import { tasks } from '../../../../inference-runtime/tasks/table.js';
import { faceDetection } from '../../../../inference-runtime/tasks/vision/faceDetection.js';
import { objectDetection } from '../../../../inference-runtime/tasks/vision/objectDetection.js';
import { defaultVisionLimits } from '../../../../inference-runtime/vision/limits.js';
import { eventually } from '../../../helpers/eventually.js';
import { sample } from './samples.js';

/** Requests a worker takes at once (WorkerPoolExecutor's default): more wait in the dispatcher's queue. */
const PER_WORKER = 2;
/** Blocking inferences waiting in the queue; the vision request is the last one the queue takes. */
const QUEUED = 30;
const MAX_QUEUE = QUEUED + 1;
/**
 * The request deadline, set from the measured speed of a blocker so that the runs ahead of the vision request
 * outlast it three times over on any core (WASM centernet takes 60-250 ms a run here, more under load).
 */
let TIMEOUT_MS = 2_000;

describe('vision request deadlines (real models, one worker)', function () {
  this.timeout(180_000);
  let cacheDir: string;
  let registry: PoolModelRegistry;
  let server: RunningServer;
  let metrics: Registry;
  let blockerInputs: NamedTensors;
  let faceInputs: NamedTensors;

  before(async () => {
    cacheDir = mkdtempSync(path.join(os.tmpdir(), 'mloffload-deadline-'));
    registry = createModelRegistry(
      // WASM on purpose: the compiled ONNX detector runs in milliseconds and could not hold the worker.
      { models: [{ ...FACE_DETECTOR, backend: 'tfjs' }, { ...OBJECT_DETECTOR, backend: 'tfjs' }] },
      { workers: 1, maxQueue: MAX_QUEUE, benchmark: false, repository: { cacheDir }, tasks },
    );
    await registry.whenSettled();
    expect(registry.list().map((m) => m.reason ?? m.state)).to.deep.equal(['AVAILABLE', 'AVAILABLE']);
    const detector = registry.resolve(OBJECT_DETECTOR.name);
    blockerInputs = objectDetection.exampleInputs({ config: detector.config, signature: detector.signature() });
    const face = registry.resolve(FACE_DETECTOR.name);
    faceInputs = faceDetection.exampleInputs({ config: face.config, signature: face.signature() });
    const t0 = performance.now();
    await detector.infer(blockerInputs);
    await detector.infer(blockerInputs);
    const blockerMs = (performance.now() - t0) / 2;
    TIMEOUT_MS = Math.round(Math.min(2_000, Math.max(400, ((PER_WORKER + QUEUED) * blockerMs) / 3)));
    metrics = new Registry();
    const app = createApp({
      registry,
      metrics,
      options: { requestTimeoutMs: TIMEOUT_MS },
      tasks: tasks.mount(defaultVisionLimits),
    });
    server = await startServer(app.callback(), { port: 0, host: '127.0.0.1' });
    // The first decode starts libvips: not a cost the requests below should pay inside their deadline.
    expect((await postFaces(sample(1)).done).status).to.equal(200);
  });

  after(async () => {
    await server?.close();
    await registry?.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  const faceKey = `${FACE_DETECTOR.name}@${FACE_DETECTOR.version}`;
  const faceRuns = (): number => registry.executor.runsStarted!(faceKey);

  /** Fills the worker and the queue with object-detector work; resolves when all of it has run. */
  async function busyWorker(): Promise<{ done: Promise<unknown> }> {
    const detector = registry.resolve(OBJECT_DETECTOR.name);
    // Copies, not transfers: the same inputs serve every blocker.
    const work = Promise.all(Array.from({ length: PER_WORKER + QUEUED }, () => detector.infer(blockerInputs)));
    // Awaited by the test later; a failure before then is still reported there.
    work.catch(() => undefined);
    await eventually(() => expect(registry.queueDepth()).to.equal(QUEUED), { timeout: 5_000, interval: 5 });
    // Wrapped: an async function returning the promise itself would wait for it.
    return { done: work };
  }

  function postFaces(body: Buffer): { done: Promise<{ status: number; headers: http.IncomingHttpHeaders; json: Record<string, unknown> }>; request: http.ClientRequest } {
    const url = new URL('/v1/vision/faces', server.url);
    const request = http.request(url, { method: 'POST', headers: { 'content-type': 'image/jpeg', 'content-length': body.length } });
    const done = new Promise<{ status: number; headers: http.IncomingHttpHeaders; json: Record<string, unknown> }>((resolve, reject) => {
      request.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> }));
        res.on('error', reject);
      });
      request.on('error', reject);
    });
    request.end(body);
    return { done, request };
  }

  async function timeoutsCounted(): Promise<number> {
    const text = await (await fetch(new URL('/metrics', server.url))).text();
    const line = text.split('\n').find((l) => l.startsWith(`mloffload_model_inferences_total{model="${FACE_DETECTOR.name}",version="${FACE_DETECTOR.version}",outcome="timeout"}`));
    return line ? Number(line.split(' ').pop()) : 0;
  }

  it('answers 504 when the deadline passes in a full queue and drops the queued inference', async () => {
    const before = faceRuns();
    const timeoutsBefore = await timeoutsCounted();
    const { done: blockers } = await busyWorker();

    const first = postFaces(sample(1));
    // The vision request's inference joins the queue and fills it: the next inference is refused at once.
    await eventually(() => expect(registry.queueDepth()).to.equal(MAX_QUEUE), { timeout: TIMEOUT_MS, interval: 5 });
    const face = registry.resolve(FACE_DETECTOR.name);
    const refused = await face.infer(faceInputs).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(Overloaded).with.property('status', 503);

    const answer = await first.done;
    expect(answer.status).to.equal(504);
    expect(answer.json.error).to.match(/timeout/);
    // The deadline took it out of the queue at once, while the blockers still ran.
    expect(registry.queueDepth()).to.be.lessThan(MAX_QUEUE);

    await blockers;
    await eventually(() => expect(registry.executor.queueDepth()).to.equal(0), { timeout: 5_000 });
    // It reached the engine's queue (the data plane counted its timeout), and the engine never ran it.
    expect(await timeoutsCounted()).to.equal(timeoutsBefore + 1);
    expect(faceRuns()).to.equal(before);
  });

  it('drops the queued inference of a client that left before its answer', async () => {
    const before = faceRuns();
    const { done: blockers } = await busyWorker();
    const { request, done } = postFaces(sample(1));
    done.catch(() => undefined);
    await eventually(() => expect(registry.queueDepth()).to.equal(MAX_QUEUE), { timeout: TIMEOUT_MS, interval: 5 });
    request.destroy();
    // Gone from the queue long before the deadline, while the worker is still busy.
    await eventually(() => expect(registry.queueDepth()).to.equal(QUEUED), { timeout: TIMEOUT_MS / 2, interval: 5 });
    await blockers;
    expect(faceRuns()).to.equal(before);
  });

  it('still answers a vision request once the worker is free', async () => {
    const before = faceRuns();
    const answer = await postFaces(sample(1)).done;
    expect(answer.status).to.equal(200);
    expect(answer.json.faces).to.be.an('array').with.length.greaterThan(0);
    expect(faceRuns()).to.equal(before + 1);
  });
});
