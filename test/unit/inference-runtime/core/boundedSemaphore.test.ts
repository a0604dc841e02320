import { expect } from 'chai';
import fc from 'fast-check';
import { BoundedSemaphore } from '../../../../inference-runtime/core/boundedSemaphore.js';
import { Overloaded, RequestTimeout } from '../../../../inference-runtime/core/errors.js';

async function settle<T>(p: Promise<T>): Promise<{ ok: T } | { error: unknown }> {
  try {
    return { ok: await p };
  } catch (error) {
    return { error };
  }
}

describe('bounded semaphore', () => {
  it('runs at most `permits` at once, queues up to `maxWaiting`, and refuses the rest with 503 + Retry-After', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 16 }), async (permits, maxWaiting, callers) => {
        const gate = new BoundedSemaphore(permits, maxWaiting, 'image decodes');
        let running = 0;
        let peak = 0;
        const results = await Promise.all(
          Array.from({ length: callers }, () =>
            settle(
              gate.acquire().then(async (release) => {
                running++;
                peak = Math.max(peak, running);
                await new Promise((resolve) => setImmediate(resolve));
                running--;
                release();
              }),
            ),
          ),
        );
        const refused = results.filter((r) => 'error' in r);
        expect(peak).to.be.at.most(permits);
        expect(refused).to.have.length(Math.max(0, callers - permits - maxWaiting));
        for (const r of refused) {
          const error = (r as { error: unknown }).error;
          expect(error).to.be.instanceOf(Overloaded);
          expect((error as Overloaded).retryAfterSeconds).to.be.greaterThan(0);
          expect((error as Overloaded).message).to.contain('too many image decodes at once');
        }
        expect([gate.active, gate.queued]).to.deep.equal([0, 0]);
      }),
    );
  });

  it('drops a waiter whose deadline passes with RequestTimeout, and its place goes to the next one', async () => {
    const gate = new BoundedSemaphore(1, 2, 'image decodes');
    const release = await gate.acquire();
    const deadline = new AbortController();
    const late = settle(gate.acquire(deadline.signal));
    const next = gate.acquire();
    deadline.abort();
    const outcome = await late;
    expect('error' in outcome && outcome.error).to.be.instanceOf(RequestTimeout);
    expect(gate.queued).to.equal(1);
    release();
    release();
    (await next)();
    expect([gate.active, gate.queued]).to.deep.equal([0, 0]);
  });
});
