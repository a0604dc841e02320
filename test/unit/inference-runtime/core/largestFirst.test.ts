import { expect } from 'chai';
import fc from 'fast-check';
import { LargestFirstQueue } from '../../../../inference-runtime/core/largestFirst.js';
import { eventually } from '../../../helpers/eventually.js';

/** A job that runs until told to finish. */
class Job {
  started = false;
  finished = false;
  private finish!: () => void;
  private readonly done = new Promise<void>((resolve) => (this.finish = resolve));

  constructor(readonly size: number) {}

  run = (): Promise<number> => {
    this.started = true;
    return this.done.then(() => this.size);
  };

  end(): void {
    this.finished = true;
    this.finish();
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('largest-first queue', () => {
  it('runs every job, never more than `width` at once, the largest waiting one first', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 8 }), async (width, sizes) => {
        const queue = new LargestFirstQueue(width, sizes.length, 60_000);
        const jobs = sizes.map((size) => new Job(size));
        const startOrder: number[] = [];
        const results = jobs.map((job) =>
          queue.submit(job.size, () => {
            startOrder.push(job.size);
            return job.run();
          }),
        );
        for (let n = 0; n < jobs.length; n++) {
          await tick();
          const running = jobs.filter((j) => j.started && !j.finished);
          expect(running.length).to.be.within(1, width);
          running[0].end();
        }
        expect(await Promise.all(results)).to.deep.equal(sizes);
        expect(startOrder).to.deep.equal([...sizes].sort((a, b) => b - a));
      }),
      { numRuns: 50 },
    );
  });

  it('starts nothing until every expected job arrived or was withdrawn, or the gathering time passed', async () => {
    const queue = new LargestFirstQueue(1, 3, 60_000);
    const small = new Job(1);
    const large = new Job(100);
    const first = queue.submit(small.size, small.run);
    await tick();
    expect(small.started, 'waits for the others').to.equal(false);
    const second = queue.submit(large.size, large.run);
    queue.withdraw();
    await tick();
    expect(large.started && !small.started, 'the largest goes first once all are in').to.equal(true);
    large.end();
    await eventually(() => expect(small.started).to.equal(true), { timeout: 5_000, interval: 5 });
    small.end();
    expect(await Promise.all([first, second])).to.deep.equal([1, 100]);

    const late = new LargestFirstQueue(2, 5, 30);
    const alone = new Job(7);
    const result = late.submit(alone.size, alone.run);
    await eventually(() => expect(alone.started, 'started once the gathering time passed').to.equal(true), { timeout: 5_000, interval: 5 });
    alone.end();
    expect(await result).to.equal(7);
  });

  it('passes a failing job\'s error on and goes on with the rest', async () => {
    const queue = new LargestFirstQueue(1, 2, 60_000);
    const failing = queue.submit(10, () => {
      throw new Error('cannot compile');
    });
    const next = queue.submit(5, () => Promise.resolve('compiled'));
    const error = await failing.then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).to.equal('cannot compile');
    expect(await next).to.equal('compiled');
  });
});
