import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';
import type { PoolModel } from '../../../inference-runtime/config/types.js';
import { availableCores } from '../../../inference-runtime/core/containerLimits.js';
import { intraOpThreads } from '../../../inference-runtime/core/intraOpThreads.js';
import { DEFAULT_INFERENCE_NICE, inferenceNiceFor, inferenceNiceOverride } from '../../../inference-runtime/core/threadPriority.js';
import { createModelRegistry, type PoolModelRegistry } from '../../../inference-runtime/dataplane/modelRegistry.js';

const AFFINE: PoolModel = {
  name: 'affine',
  task: 'test/affine',
  framework: 'onnx',
  version: '1',
  source: { uri: pathToFileURL(fileURLToPath(new URL('../../fixtures/models/affine.onnx', import.meta.url))).href },
};

/** The nice value of every thread of this process, as the kernel schedules them (/proc). */
function threadNices(): { tid: number; nice: number }[] {
  const out: { tid: number; nice: number }[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended
    }
    // Fields after the command's closing parenthesis: state is the first, nice the 17th.
    out.push({ tid: Number(tid), nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) });
  }
  return out;
}

describe('inference threads below the event loop', function () {
  this.timeout(120_000);
  let dir: string;
  const registries: PoolModelRegistry[] = [];
  const eventLoopNice = os.getPriority(0);

  const events: { event: string; fields?: Record<string, unknown> }[] = [];

  async function start(workers: number, inferenceNice?: number): Promise<PoolModelRegistry> {
    const registry = createModelRegistry(
      { models: [AFFINE] },
      {
        workers,
        inferenceNice,
        benchmark: false,
        repository: { cacheDir: path.join(dir, `cache-${registries.length}`) },
        logger: { info: (event, fields) => events.push({ event, fields }), warn: () => undefined },
      },
    );
    registries.push(registry);
    await registry.whenSettled();
    expect(registry.isReady(), JSON.stringify(registry.list())).to.equal(true);
    return registry;
  }

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'worker-priority-'));
  });
  afterEach(async () => {
    await Promise.all(registries.splice(0).map((r) => r.close()));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs a worker and the onnxruntime threads it starts the given nice steps below the event loop, which keeps its own', async () => {
    const registry = await start(1, 7);
    const [stats] = await registry.engineStats();
    expect(stats.priority).to.deep.equal({ nice: Math.min(19, eventLoopNice + 7) });
    const lowered = threadNices().filter((t) => t.nice === Math.min(19, eventLoopNice + 7));
    // The worker itself, and onnxruntime's intra-op pool beyond the thread that calls Run.
    expect(lowered.length).to.be.at.least(1 + intraOpThreads(1) - 1);
    expect(threadNices().find((t) => t.tid === process.pid)?.nice).to.equal(eventLoopNice);
    expect(os.getPriority(0)).to.equal(eventLoopNice);

    const out = await registry.resolve('affine').infer({ x: { dtype: 'float32', shape: [1, 4], data: new Float32Array([1, 2, 3, 4]) } });
    expect(Array.from(out.y.data as Float32Array)).to.deep.equal([3, 5, 7, 9]);
  });

  it('leaves the threads it starts at the event loop priority with 0 steps', async () => {
    // onnxruntime keeps one process-wide thread from its first use on, started by an earlier test's worker.
    const earlier = new Set(threadNices().map((t) => t.tid));
    const registry = await start(1, 0);
    const [stats] = await registry.engineStats();
    expect(stats.priority).to.deep.equal({ nice: eventLoopNice });
    const started = threadNices().filter((t) => !earlier.has(t.tid));
    expect(started.length, 'the worker and its threads').to.be.at.least(1);
    expect(started.filter((t) => t.nice !== eventLoopNice)).to.deep.equal([]);
  });

  it('by default lowers a worker per core on several cores, and not a worker whose sessions run several threads', async () => {
    const cores = availableCores();
    events.length = 0;
    const configured = process.env.MLOFFLOAD_INFERENCE_NICE;
    delete process.env.MLOFFLOAD_INFERENCE_NICE;
    try {
      const perCore = await start(cores);
      // On one core there is no idle core to win: the workers stay at the event loop's priority.
      const steps = cores > 1 ? DEFAULT_INFERENCE_NICE : 0;
      const lowered = { nice: Math.min(19, eventLoopNice + steps) };
      expect((await perCore.engineStats()).map((s) => s.priority)).to.deep.equal(Array.from({ length: cores }, () => lowered));
      expect(events.find((e) => e.event === 'inference_threads')?.fields).to.deep.equal({ workers: cores, nice: steps });
      if (cores > 1) {
        const lone = await start(1);
        expect((await lone.engineStats())[0].priority).to.deep.equal({ nice: eventLoopNice });
      }
    } finally {
      if (configured !== undefined) process.env.MLOFFLOAD_INFERENCE_NICE = configured;
    }
  });

  it('takes MLOFFLOAD_INFERENCE_NICE over the default and refuses values outside 0-19', () => {
    expect([inferenceNiceFor(1, 2), inferenceNiceFor(1, 8), inferenceNiceFor(2, 2), inferenceNiceFor(1, 1)]).to.deep.equal([DEFAULT_INFERENCE_NICE, DEFAULT_INFERENCE_NICE, 0, 0]);
    expect(inferenceNiceOverride({})).to.equal(undefined);
    expect(inferenceNiceOverride({ MLOFFLOAD_INFERENCE_NICE: ' 3 ' })).to.equal(3);
    expect(inferenceNiceOverride({ MLOFFLOAD_INFERENCE_NICE: '0' })).to.equal(0);
    for (const bad of ['-1', '20', '2.5', 'low']) expect(() => inferenceNiceOverride({ MLOFFLOAD_INFERENCE_NICE: bad }), bad).to.throw(RangeError, 'MLOFFLOAD_INFERENCE_NICE');
  });
});
