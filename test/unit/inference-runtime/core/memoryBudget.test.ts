import { expect } from 'chai';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Overloaded } from '../../../../inference-runtime/core/errors.js';
import { MemoryBudget, resolveMemoryBudget, type Reservation } from '../../../../inference-runtime/core/memoryBudget.js';

const MiB = 2 ** 20;

describe('memory budget', () => {
  describe('container limit from cgroup files', () => {
    let root: string;
    beforeEach(() => {
      root = mkdtempSync(path.join(os.tmpdir(), 'mloffload-cgroup-'));
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it('has no limit outside a container (no cgroup file)', () => {
      expect(resolveMemoryBudget({ cgroupRoot: root })).to.deep.equal({ source: 'no container memory limit' });
    });

    it('defaults the budget to a fraction of the container limit; a configured size wins, 0 turns it off', () => {
      writeFileSync(path.join(root, 'memory.max'), String(2000 * MiB));
      expect(resolveMemoryBudget({ cgroupRoot: root }).limitBytes).to.equal(Math.floor(2000 * MiB * 0.8));
      expect(resolveMemoryBudget({ cgroupRoot: root, fraction: 0.5 }).limitBytes).to.equal(1000 * MiB);
      expect(resolveMemoryBudget({ cgroupRoot: root, bytes: 300 * MiB }).limitBytes).to.equal(300 * MiB);
      expect(resolveMemoryBudget({ cgroupRoot: root, bytes: 0 }).limitBytes).to.equal(undefined);
      expect(() => resolveMemoryBudget({ cgroupRoot: root, fraction: 1.5 })).to.throw(RangeError);
    });
  });

  describe('admission', () => {
    it('admits while RSS plus claims fit, refuses beyond with Overloaded (503, Retry-After) and admits again after a release', () => {
      const budget = new MemoryBudget({ limitBytes: 1000 * MiB, rss: () => 400 * MiB, retryAfterSeconds: 2 });
      const a = budget.admit(500 * MiB, 'decoding the image');
      let refusal: unknown;
      try {
        budget.admit(200 * MiB, 'decoding the image');
      } catch (error) {
        refusal = error;
      }
      expect(refusal).to.be.instanceOf(Overloaded);
      expect((refusal as Overloaded).status).to.equal(503);
      expect((refusal as Overloaded).retryAfterSeconds).to.equal(2);
      expect((refusal as Overloaded).message).to.match(/not enough memory for decoding the image.*1000 MiB budget/);
      a.release();
      a.release();
      expect(budget.admit(200 * MiB, 'decoding the image').bytes).to.equal(200 * MiB);
      expect(budget.refused).to.equal(1);
    });

    it('refuses everything that needs memory while the process is over its budget', () => {
      let rss = 900 * MiB;
      const budget = new MemoryBudget({ limitBytes: 1000 * MiB, rss: () => rss });
      expect(() => budget.admit(200 * MiB, 'inference')).to.throw(Overloaded);
      rss = 700 * MiB;
      expect(budget.admit(200 * MiB, 'inference').bytes).to.equal(200 * MiB);
    });

    it('never lets claims in flight plus RSS exceed the budget, whatever the order of claims and releases', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 4096 }),
          fc.integer({ min: 0, max: 4096 }),
          fc.array(fc.oneof(fc.record({ claim: fc.integer({ min: 0, max: 2048 }) }), fc.record({ release: fc.nat() })), { maxLength: 60 }),
          (limit, rss, steps) => {
            const budget = new MemoryBudget({ limitBytes: limit, rss: () => rss });
            const held: Reservation[] = [];
            for (const step of steps) {
              if ('claim' in step) {
                try {
                  held.push(budget.admit(step.claim, 'work'));
                } catch (error) {
                  expect(error).to.be.instanceOf(Overloaded);
                  expect(rss + budget.snapshot().reservedBytes + step.claim).to.be.greaterThan(limit);
                }
              } else if (held.length > 0) {
                held.splice(step.release % held.length, 1)[0]!.release();
              }
              const reserved = budget.snapshot().reservedBytes;
              expect(reserved).to.equal(held.reduce((n, r) => n + r.bytes, 0));
              if (held.length > 0) expect(rss + reserved).to.be.at.most(limit);
            }
          },
        ),
      );
    });

    it('reclaims unused memory (a garbage collection) before refusing, at most once per interval', () => {
      let rss = 950 * MiB;
      let collections = 0;
      const budget = new MemoryBudget({
        limitBytes: 1000 * MiB,
        rss: () => rss,
        reclaimIntervalMs: 60_000,
        reclaim: () => {
          collections++;
          rss = 400 * MiB;
        },
      });
      expect(budget.admit(200 * MiB, 'inference').bytes).to.equal(200 * MiB);
      expect(collections).to.equal(1);
      rss = 950 * MiB;
      expect(() => budget.admit(200 * MiB, 'inference')).to.throw(Overloaded);
      expect(collections).to.equal(1);
    });

    it('without a limit admits everything and still counts the claims', () => {
      const budget = new MemoryBudget({ rss: () => 10 * 1024 * MiB });
      const r = budget.admit(1024 * MiB, 'work');
      expect(budget.snapshot()).to.deep.include({ reservedBytes: 1024 * MiB, limitBytes: undefined });
      r.release();
      expect(budget.snapshot().reservedBytes).to.equal(0);
    });
  });
});
