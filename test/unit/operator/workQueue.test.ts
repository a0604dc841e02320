import { expect } from 'chai';
import { ExponentialBackoff, MaxOf, TokenBucket } from '../../../operator/controller/rateLimiter.js';
import { WorkQueue } from '../../../operator/controller/workQueue.js';
import { eventually } from '../../helpers/eventually.js';

describe('operator work queue', () => {
  describe('rate limiters', () => {
    it('backs a key off from 5 ms, doubling to the cap, independently of other keys, until forgotten', () => {
      const b = new ExponentialBackoff(5, 100);
      expect([1, 2, 3, 4, 5, 6, 7].map(() => b.when('a'))).to.deep.equal([5, 10, 20, 40, 80, 100, 100]);
      expect(b.when('b')).to.equal(5);
      expect(b.failures('a')).to.equal(7);
      b.forget('a');
      expect(b.when('a')).to.equal(5);
    });

    it('caps the global retry rate with a token bucket after the burst', () => {
      const now = 0;
      const bucket = new TokenBucket(10, 3, () => now);
      const delays = [1, 2, 3, 4, 5].map((i) => bucket.when(`k${i}`));
      expect(delays.slice(0, 3)).to.deep.equal([0, 0, 0]);
      expect(delays[3]).to.be.closeTo(100, 1e-6);
      expect(delays[4]).to.be.closeTo(200, 1e-6);
    });

    it('combines both, taking the longer delay', () => {
      const limiter = new MaxOf(new ExponentialBackoff(5, 1000), new TokenBucket(1, 1, () => 0));
      expect(limiter.when('a')).to.equal(5);
      expect(limiter.when('a')).to.equal(1000);
    });
  });

  it('queues a key once however often it is added', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    q.add('ns/a');
    q.add('ns/b');
    expect(q.len()).to.equal(2);
    expect(await q.get()).to.equal('ns/a');
    expect(await q.get()).to.equal('ns/b');
    expect(q.len()).to.equal(0);
  });

  it('never hands a key being processed to a second worker; an add meanwhile runs after done', async () => {
    const q = new WorkQueue();
    q.add('k');
    const first = await q.get();
    q.add('k');
    expect(q.len(), 'not queued while processing').to.equal(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await new Promise((r) => setImmediate(r));
    expect(second).to.equal(undefined);
    q.done(first!);
    await eventually(() => expect(second).to.equal('k'));
  });

  it('delays keys with addAfter, the earliest deadline winning', async () => {
    const q = new WorkQueue();
    q.addAfter('k', 5_000);
    q.addAfter('k', 20);
    expect(q.waitingCount()).to.equal(1);
    const started = Date.now();
    expect(await q.get()).to.equal('k');
    expect(Date.now() - started).to.be.lessThan(2_000);
  });

  it('retries a failing key with growing delays and resets after forget', async () => {
    const q = new WorkQueue(new ExponentialBackoff(5, 1000));
    const gaps: number[] = [];
    let last = Date.now();
    q.add('k');
    for (let i = 0; i < 5; i++) {
      const key = await q.get();
      const now = Date.now();
      gaps.push(now - last);
      last = now;
      q.done(key!);
      q.addRateLimited(key!);
    }
    // 5, 10, 20, 40 ms between attempts (timers may fire late, never early).
    expect(gaps[2]).to.be.at.least(9);
    expect(gaps[4]).to.be.at.least(39);
    expect(q.rateLimiter.failures('k')).to.equal(5);
    q.forget('k');
    expect(q.rateLimiter.failures('k')).to.equal(0);
    q.shutDown();
  });

  it('drains queued keys on shutDownWithDrain and then refuses new ones', async () => {
    const q = new WorkQueue();
    for (const k of ['a', 'b', 'c']) q.add(k);
    const processed: string[] = [];
    const worker = (async () => {
      for (;;) {
        const k = await q.get();
        if (k === undefined) return;
        await new Promise((r) => setTimeout(r, 10));
        processed.push(k);
        q.done(k);
      }
    })();
    await q.shutDownWithDrain(5_000);
    await worker;
    expect(processed).to.deep.equal(['a', 'b', 'c']);
    q.add('d');
    expect(q.len()).to.equal(0);
    expect(await q.get()).to.equal(undefined);
  });

  it('drops queued keys on shutDown and releases waiting workers', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).to.equal(undefined);
    q.addAfter('x', 1);
    expect(q.waitingCount()).to.equal(0);
  });
});
