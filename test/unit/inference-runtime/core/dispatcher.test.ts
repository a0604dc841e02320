import { expect } from 'chai';
import { NotReady, Overloaded, RequestTimeout } from '../../../../inference-runtime/core/errors.js';
import { Dispatcher, type Lane } from '../../../../inference-runtime/core/executor.js';
import type { NamedTensors } from '../../../../inference-runtime/core/tensor.js';

/** A lane whose runs finish when the test says so: the queue logic is tested without engines. */
class ManualLane implements Lane {
  active = 0;
  alive = true;
  readonly started: { key: string; finish(out?: NamedTensors): void; fail(err: Error): void }[] = [];
  constructor(
    readonly name: string,
    readonly capacity = 1,
  ) {}
  run(key: string): Promise<NamedTensors> {
    return new Promise((resolve, reject) => this.started.push({ key, finish: (out = {}) => resolve(out), fail: reject }));
  }
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('dispatcher', () => {
  it('spreads requests over lanes, least busy first, and queues the rest in order', async () => {
    const a = new ManualLane('a');
    const b = new ManualLane('b');
    const d = new Dispatcher([a, b], 10);
    const results = ['r1', 'r2', 'r3'].map((key) => d.submit(key, {}));
    expect(a.started.map((s) => s.key)).to.deep.equal(['r1']);
    expect(b.started.map((s) => s.key)).to.deep.equal(['r2']);
    expect(d.depth).to.equal(1);
    b.started[0].finish();
    await tick();
    expect(b.started.map((s) => s.key)).to.deep.equal(['r2', 'r3']);
    a.started[0].finish();
    b.started[1].finish();
    await Promise.all(results);
    expect(d.depth).to.equal(0);
    expect(d.active).to.equal(0);
  });

  it('refuses with Overloaded when the queue is full', async () => {
    const lane = new ManualLane('a');
    const d = new Dispatcher([lane], 1);
    const running = d.submit('running', {});
    const queued = d.submit('queued', {});
    const refused = await d.submit('refused', {}).then(
      () => expect.fail('should be refused'),
      (err: Error) => err,
    );
    expect(refused).to.be.instanceOf(Overloaded);
    expect(refused.message).to.contain('queue is full');
    lane.started[0].finish();
    await tick();
    lane.started[1].finish();
    await Promise.all([running, queued]);
  });

  it('drops a queued request whose deadline passes and answers RequestTimeout', async () => {
    const lane = new ManualLane('a');
    const d = new Dispatcher([lane], 5);
    const running = d.submit('running', {});
    const controller = new AbortController();
    const waiting = d.submit('waiting', {}, { signal: controller.signal });
    expect(d.depth).to.equal(1);
    controller.abort(new DOMException('deadline', 'TimeoutError'));
    const err = await waiting.then(
      () => expect.fail('should time out'),
      (e: Error) => e,
    );
    expect(err).to.be.instanceOf(RequestTimeout);
    expect(d.depth).to.equal(0);
    lane.started[0].finish();
    await running;
    expect(lane.started).to.have.length(1);
  });

  it('answers a running request at its deadline and frees the lane only when the work ends', async () => {
    const lane = new ManualLane('a');
    const d = new Dispatcher([lane], 5);
    const controller = new AbortController();
    const running = d.submit('slow', {}, { signal: controller.signal });
    controller.abort();
    expect(await running.then(() => 'resolved', (e: Error) => e.constructor.name)).to.equal('RequestTimeout');
    expect(lane.active).to.equal(1);
    lane.started[0].finish();
    await d.idle();
    expect(lane.active).to.equal(0);
  });

  it('rejects waiting requests on close and refuses new ones', async () => {
    const lane = new ManualLane('a');
    const d = new Dispatcher([lane], 5);
    const running = d.submit('running', {});
    const waiting = d.submit('waiting', {});
    d.close();
    expect(await waiting.then(() => 'resolved', (e: Error) => e)).to.be.instanceOf(NotReady);
    expect(await d.submit('late', {}).then(() => 'resolved', (e: Error) => e)).to.be.instanceOf(NotReady);
    lane.started[0].finish();
    await running;
  });

  it('skips dead lanes and picks work up again when a lane comes back', async () => {
    const lane = new ManualLane('a');
    lane.alive = false;
    const d = new Dispatcher([lane], 5);
    const waiting = d.submit('w', {});
    expect(lane.started).to.have.length(0);
    lane.alive = true;
    d.pump();
    expect(lane.started).to.have.length(1);
    lane.started[0].finish({ y: { dtype: 'float32', shape: [1], data: new Float32Array([1]) } });
    expect((await waiting).y.shape).to.deep.equal([1]);
  });
});
