import { expect } from 'chai';
import { Controller } from '../../../operator/controller/controller.js';
import { TerminalError } from '../../../operator/controller/errors.js';
import { ExponentialBackoff } from '../../../operator/controller/rateLimiter.js';
import { WorkQueue } from '../../../operator/controller/workQueue.js';
import { ApiError } from '../../../operator/kube/restClient.js';
import { silentLogger } from '../../../operator/logger.js';
import { createMetrics } from '../../../operator/metrics.js';
import { consistently, eventually } from '../../helpers/eventually.js';

async function counter(metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string>): Promise<number> {
  const family = name.replace(/_(count|sum|bucket)$/, '');
  const m = (await metrics.registry.getSingleMetric(family)!.get()).values.find(
    (v) => ((v as { metricName?: string }).metricName ?? family) === name && Object.entries(labels).every(([k, x]) => v.labels[k] === x),
  );
  return m?.value ?? 0;
}

describe('operator controller', () => {
  let ctrl: Controller | undefined;
  afterEach(async () => {
    await ctrl?.stop();
    ctrl = undefined;
  });

  it('retries a throwing reconcile with backoff until it succeeds, counting errors', async () => {
    const metrics = createMetrics();
    let calls = 0;
    ctrl = new Controller(
      'test',
      async () => {
        if (++calls < 4) throw new Error('API server unavailable');
      },
      { metrics, logger: silentLogger, queue: new WorkQueue(new ExponentialBackoff(5, 1000)) },
    );
    ctrl.start();
    ctrl.enqueue('ns/a');
    await eventually(() => expect(calls).to.equal(4));
    await eventually(async () => expect(await counter(metrics, 'reconcile_total', { controller: 'test', result: 'success' })).to.equal(1));
    expect(await counter(metrics, 'reconcile_errors_total', { controller: 'test', kind: 'error' })).to.equal(3);
    expect(ctrl.queue.rateLimiter.failures('ns/a'), 'success resets the backoff').to.equal(0);
  });

  it('counts a 409 as a conflict and retries it', async () => {
    const metrics = createMetrics();
    let calls = 0;
    ctrl = new Controller(
      'test',
      async () => {
        if (++calls === 1) throw new ApiError(409, 'Conflict', 'the object has been modified');
      },
      { metrics, logger: silentLogger },
    );
    ctrl.start();
    ctrl.enqueue('ns/a');
    await eventually(() => expect(calls).to.equal(2));
    expect(await counter(metrics, 'reconcile_errors_total', { controller: 'test', kind: 'conflict' })).to.equal(1);
  });

  it('does not retry a TerminalError', async () => {
    const metrics = createMetrics();
    let calls = 0;
    ctrl = new Controller(
      'test',
      async () => {
        calls++;
        throw new TerminalError('InvalidSource', 'bad uri');
      },
      { metrics, logger: silentLogger },
    );
    ctrl.start();
    ctrl.enqueue('ns/a');
    await eventually(() => expect(calls).to.equal(1));
    await consistently(() => expect(calls).to.equal(1), { duration: 300 });
    expect(await counter(metrics, 'reconcile_errors_total', { controller: 'test', kind: 'terminal' })).to.equal(1);
  });

  it('requeues after requeueAfter', async () => {
    let calls = 0;
    ctrl = new Controller('test', async () => (++calls === 1 ? { requeueAfter: 30 } : undefined), { metrics: createMetrics(), logger: silentLogger });
    ctrl.start();
    ctrl.enqueue('ns/a');
    await eventually(() => expect(calls).to.equal(2));
  });

  it('runs keys concurrently but one reconcile per key at a time', async () => {
    const running = new Map<string, number>();
    let maxPerKey = 0;
    let maxTotal = 0;
    let done = 0;
    ctrl = new Controller(
      'test',
      async (key) => {
        running.set(key, (running.get(key) ?? 0) + 1);
        maxPerKey = Math.max(maxPerKey, running.get(key)!);
        maxTotal = Math.max(maxTotal, [...running.values()].reduce((a, b) => a + b, 0));
        await new Promise((r) => setTimeout(r, 15));
        running.set(key, running.get(key)! - 1);
        done++;
      },
      { workers: 4, metrics: createMetrics(), logger: silentLogger },
    );
    ctrl.start();
    for (let round = 0; round < 5; round++) {
      for (const k of ['a', 'b', 'c', 'd']) ctrl.enqueue(`ns/${k}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    await eventually(() => expect(done).to.be.at.least(8));
    await eventually(() => expect([...running.values()].every((n) => n === 0)).to.equal(true));
    expect(maxPerKey).to.equal(1);
    expect(maxTotal).to.be.greaterThan(1);
  });

  it('observes reconcile time in a histogram and reports queue depth', async () => {
    const metrics = createMetrics();
    ctrl = new Controller('test', async () => undefined, { metrics, logger: silentLogger });
    ctrl.enqueue('ns/a');
    ctrl.enqueue('ns/b');
    expect(await counter(metrics, 'workqueue_depth', { controller: 'test' })).to.equal(2);
    ctrl.start();
    await eventually(async () => expect(await counter(metrics, 'reconcile_time_seconds_count', { controller: 'test' })).to.equal(2));
    const text = await metrics.registry.metrics();
    expect(text).to.match(/reconcile_time_seconds_bucket\{le="0.005",controller="test"\} \d/);
  });
});
