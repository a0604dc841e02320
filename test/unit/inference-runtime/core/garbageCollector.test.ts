import { expect } from 'chai';
import { fullGarbageCollector } from '../../../../inference-runtime/core/garbageCollector.js';

/** Allocates ~40 MB of small objects that nothing references once it returns; their size as V8 counts it. */
function allocateGarbage(): number {
  const before = process.memoryUsage().heapUsed;
  const objects: object[] = [];
  for (let i = 0; i < 500_000; i++) objects.push({ i, label: `object ${i}` });
  return process.memoryUsage().heapUsed - before;
}

describe('full garbage collection on demand', () => {
  it('frees at once what nothing references any more', () => {
    const collect = fullGarbageCollector();
    collect();
    const before = process.memoryUsage().heapUsed;
    const garbage = allocateGarbage();
    expect(garbage, 'the garbage this test made').to.be.greaterThan(20 * 2 ** 20);
    collect();
    const left = process.memoryUsage().heapUsed - before;
    expect(left, `${(left / 2 ** 20).toFixed(1)} MB of ${(garbage / 2 ** 20).toFixed(1)} MB still in use`).to.be.lessThan(garbage * 0.1);
  });

  it('returns with the memory of dead ArrayBuffers freed, not left to a background thread', () => {
    const collect = fullGarbageCollector();
    // V8 frees dead backing stores concurrently, so one round can happen to free them in time: several must.
    for (let round = 0; round < 8; round++) {
      collect();
      const before = process.memoryUsage().arrayBuffers;
      let buffers: Uint8Array[] | undefined = Array.from({ length: 400 }, () => new Uint8Array(new ArrayBuffer(100 * 1024)).fill(1));
      expect(buffers.length).to.equal(400);
      buffers = undefined;
      collect();
      const left = process.memoryUsage().arrayBuffers - before;
      expect(left, `round ${round}: ${(left / 2 ** 20).toFixed(1)} of 39 MiB of dead ArrayBuffers still allocated`).to.be.lessThan(2 ** 20);
    }
  });
});
