import { expect } from 'chai';
import type { ModelSignature } from '../../../../inference-runtime/core/backend.js';
import { RequestTimeout } from '../../../../inference-runtime/core/errors.js';
import { MicroBatcher } from '../../../../inference-runtime/core/microBatcher.js';
import type { NamedTensors } from '../../../../inference-runtime/core/tensor.js';
import type { CancelSignal } from '../../../../inference-runtime/core/cancelSignal.js';

const sig: ModelSignature = {
  inputs: [{ name: 'x', dtype: 'float32', shape: [-1, 2] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [-1, 2] }],
};

const rows = (...values: number[][]): NamedTensors => ({ x: { dtype: 'float32', shape: [values.length, 2], data: new Float32Array(values.flat()) } });

/** y = 10 * x, recording the batch sizes it was called with. */
function engine() {
  const calls: number[] = [];
  const run = async (inputs: NamedTensors): Promise<NamedTensors> => {
    const x = inputs.x;
    calls.push(x.shape[0]);
    return { y: { dtype: 'float32', shape: x.shape, data: (x.data as Float32Array).map((v) => v * 10) } };
  };
  return { calls, run };
}

describe('micro-batcher', () => {
  it('runs requests arriving together as one batch and gives each its own rows back', async () => {
    const { calls, run } = engine();
    const b = new MicroBatcher('m', sig, { maxBatchSize: 8, maxDelayMs: 50 }, run);
    const [a, c, d] = await Promise.all([b.submit(rows([1, 2])), b.submit(rows([3, 4], [5, 6])), b.submit(rows([7, 8]))]);
    expect(calls).to.deep.equal([4]);
    expect(Array.from(a.y.data as Float32Array)).to.deep.equal([10, 20]);
    expect(c.y.shape).to.deep.equal([2, 2]);
    expect(Array.from(c.y.data as Float32Array)).to.deep.equal([30, 40, 50, 60]);
    expect(Array.from(d.y.data as Float32Array)).to.deep.equal([70, 80]);
  });

  it('runs a full batch at once without waiting for the delay, and never exceeds the maximum', async () => {
    const { calls, run } = engine();
    const b = new MicroBatcher('m', sig, { maxBatchSize: 2, maxDelayMs: 60_000 }, run);
    const results = await Promise.all([b.submit(rows([1, 1])), b.submit(rows([2, 2])), b.submit(rows([3, 3])), b.submit(rows([4, 4]))]);
    expect(calls).to.deep.equal([2, 2]);
    expect(results.map((r) => (r.y.data as Float32Array)[0])).to.deep.equal([10, 20, 30, 40]);
  });

  it('lets a request larger than a batch through on its own', async () => {
    const { calls, run } = engine();
    const b = new MicroBatcher('m', sig, { maxBatchSize: 2, maxDelayMs: 60_000 }, run);
    await b.submit(rows([1, 1], [2, 2], [3, 3]));
    expect(calls).to.deep.equal([3]);
  });

  it('answers a waiting request at its deadline and leaves it out of the batch', async () => {
    const { calls, run } = engine();
    const b = new MicroBatcher('m', sig, { maxBatchSize: 8, maxDelayMs: 60_000 }, run);
    const controller = new AbortController();
    const dropped = b.submit(rows([1, 1]), { signal: controller.signal });
    const kept = b.submit(rows([2, 2]));
    controller.abort();
    expect(await dropped.then(() => 'resolved', (e: Error) => e)).to.be.instanceOf(RequestTimeout);
    b.flush();
    expect(Array.from((await kept).y.data as Float32Array)).to.deep.equal([20, 20]);
    expect(calls).to.deep.equal([1]);
  });

  it('takes a formed batch out of the worker queue once none of its requests waits any more', async () => {
    const seen: CancelSignal[] = [];
    // The engine queue: holds the batch until the test looks at the signal it was given.
    const run = (_inputs: NamedTensors, options: { signal?: CancelSignal }): Promise<NamedTensors> => {
      seen.push(options.signal!);
      return new Promise(() => undefined);
    };
    const b = new MicroBatcher('m', sig, { maxBatchSize: 8, maxDelayMs: 60_000 }, run);
    const first = new AbortController();
    const second = new AbortController();
    const answers = [b.submit(rows([1, 1]), { signal: first.signal }), b.submit(rows([2, 2]), { signal: second.signal })].map((p) => p.then(() => 'resolved', (e: Error) => e));
    b.flush();
    expect(seen).to.have.length(1);
    first.abort();
    expect(seen[0].aborted, 'one request still waits').to.equal(false);
    second.abort();
    expect(seen[0].aborted, 'nobody waits').to.equal(true);
    for (const answer of await Promise.all(answers)) expect(answer).to.be.instanceOf(RequestTimeout);
  });
});
