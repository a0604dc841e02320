import { expect } from 'chai';
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { availableCores, cgroupCpuLimit, cgroupMemoryLimit } from '../../../../inference-runtime/core/containerLimits.js';
import { intraOpThreads } from '../../../../inference-runtime/core/intraOpThreads.js';

const MiB = 2 ** 20;

describe('container limits from cgroup files', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'mloffload-cgroup-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const v1 = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  };

  describe('memory', () => {
    it('reads cgroup v2 memory.max, and "max" means no limit', () => {
      writeFileSync(path.join(root, 'memory.max'), '2147483648\n');
      expect(cgroupMemoryLimit(root)).to.equal(2 * 1024 * MiB);
      writeFileSync(path.join(root, 'memory.max'), 'max\n');
      expect(cgroupMemoryLimit(root)).to.equal(undefined);
    });

    it('reads cgroup v1 memory.limit_in_bytes, and its "unlimited" huge value means no limit', () => {
      v1('memory/memory.limit_in_bytes', '1073741824\n');
      expect(cgroupMemoryLimit(root)).to.equal(1024 * MiB);
      v1('memory/memory.limit_in_bytes', '9223372036854771712\n');
      expect(cgroupMemoryLimit(root)).to.equal(undefined);
    });

    it('has no limit outside a container (no cgroup file)', () => {
      expect(cgroupMemoryLimit(root)).to.equal(undefined);
    });
  });

  describe('CPU', () => {
    it('reads cgroup v2 cpu.max as quota over period, and "max" means no limit', () => {
      writeFileSync(path.join(root, 'cpu.max'), '150000 100000\n');
      expect(cgroupCpuLimit(root)).to.equal(1.5);
      writeFileSync(path.join(root, 'cpu.max'), 'max 100000\n');
      expect(cgroupCpuLimit(root)).to.equal(undefined);
    });

    it('reads cgroup v1 cfs_quota_us over cfs_period_us, and -1 means no limit', () => {
      v1('cpu/cpu.cfs_quota_us', '50000\n');
      v1('cpu/cpu.cfs_period_us', '100000\n');
      expect(cgroupCpuLimit(root)).to.equal(0.5);
      v1('cpu/cpu.cfs_quota_us', '-1\n');
      expect(cgroupCpuLimit(root)).to.equal(undefined);
    });

    it('a pod limited to one CPU on a bigger node counts one core, so a lone session gets one intra-op thread', function () {
      if (os.availableParallelism() < 2) this.skip(); // the quota only shows against more CPUs than it allows; CI machines have 2
      writeFileSync(path.join(root, 'cpu.max'), '100000 100000\n');
      expect(availableCores(root)).to.equal(1);
      expect(intraOpThreads(1, availableCores(root))).to.equal(1);
      rmSync(path.join(root, 'cpu.max'));
      expect(availableCores(root)).to.equal(os.availableParallelism());
    });

    it('counts the quota rounded up, never more than the CPUs the process may run on, never less than 1, whatever the files say', () => {
      const cpus = os.availableParallelism();
      fc.assert(
        fc.property(fc.oneof(fc.string(), fc.tuple(fc.integer({ min: -2, max: 10_000_000 }), fc.integer({ min: -2, max: 1_000_000 })).map(([q, p]) => `${q} ${p}\n`)), (text) => {
          writeFileSync(path.join(root, 'cpu.max'), text);
          const cores = availableCores(root);
          expect(Number.isInteger(cores)).to.equal(true);
          expect(cores).to.be.within(1, cpus);
          const quota = cgroupCpuLimit(root);
          if (quota !== undefined) expect(cores).to.equal(Math.max(1, Math.min(cpus, Math.ceil(quota))));
          else expect(cores).to.equal(cpus);
        }),
        { numRuns: 300 },
      );
    });
  });
});
