import { expect } from 'chai';
import fc from 'fast-check';
import { releaseWhenQuiet } from '../../../../inference-runtime/core/quietRelease.js';

/** Drives the checks by hand with a CPU clock the test advances: `usage[i]` is the CPU ms of interval i. */
function run(usage: readonly number[], intervalMs = 5000, busyFraction = 0.05): number[] {
  let cpu = 0;
  const releasedAt: number[] = [];
  let interval = -1;
  const quiet = releaseWhenQuiet({ release: () => releasedAt.push(interval), intervalMs, busyFraction, cpuMs: () => cpu });
  try {
    usage.forEach((ms, i) => {
      interval = i;
      cpu += ms;
      quiet.check();
    });
  } finally {
    quiet.stop();
  }
  return releasedAt;
}

describe('release when quiet', () => {
  it('releases once, at the first quiet interval after busy ones', () => {
    // 5 s intervals: 250 ms of CPU (5% of a core) is the line.
    expect(run([0, 4000, 9000, 3000, 10, 0, 0])).to.deep.equal([4]);
  });

  it('never releases while work goes on, nor for sparse requests under the line', () => {
    expect(run([4000, 4000, 4000, 4000])).to.deep.equal([]);
    expect(run([40, 0, 35, 0, 0, 120, 0])).to.deep.equal([]);
  });

  it('releases at most once per quiet spell, after each busy spell, never during one', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 250 }), fc.integer({ min: 251, max: 10_000 })), { maxLength: 60 }), (usage) => {
        const released = run(usage);
        for (const i of released) {
          expect(usage[i]).to.be.at.most(250);
          expect(i).to.be.greaterThan(0);
          // The interval just before a release was a busy one.
          expect(usage[i - 1]).to.be.greaterThan(250);
        }
        const spells = usage.filter((ms, i) => ms <= 250 && i > 0 && usage[i - 1] > 250).length;
        expect(released).to.have.length(spells);
      }),
    );
  });
});
