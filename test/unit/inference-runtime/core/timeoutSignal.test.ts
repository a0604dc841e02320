import v8 from 'node:v8';
import vm from 'node:vm';
import { expect } from 'chai';
import fc from 'fast-check';
import { timeoutSignal } from '../../../../inference-runtime/core/timeoutSignal.js';

/** A full garbage collection on demand, whatever flags mocha was started with. */
function collector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

interface Outcome {
  reason: unknown;
  afterMs: number;
}

/**
 * Starts a deadline and keeps nothing of it but an abort listener (as a queue or a download that only listens
 * does), collecting garbage every few milliseconds. An `AbortSignal.any` built the same way is collected and
 * never fires on Node 20; the test's own bound turns that into a failure instead of a hang.
 */
function listenOnly(timeoutMs: number, parent: AbortSignal | undefined, boundMs: number): Promise<Outcome | 'never'> {
  const gc = collector();
  const started = performance.now();
  return new Promise((resolve) => {
    const collecting = setInterval(gc, 5);
    const bound = setTimeout(() => {
      clearInterval(collecting);
      resolve('never');
    }, boundMs);
    const { signal } = timeoutSignal(timeoutMs, parent);
    signal.addEventListener(
      'abort',
      () => {
        clearInterval(collecting);
        clearTimeout(bound);
        resolve({ reason: signal.reason, afterMs: performance.now() - started });
      },
      { once: true },
    );
  });
}

describe('timeout signal', function () {
  this.timeout(60_000);

  it('fires at its deadline, or with the parent\'s reason when the parent aborts first, across garbage collections', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 40 }), fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }), async (timeoutMs, parentAfterMs) => {
        const parent = new AbortController();
        const parentReason = new Error('caller cancelled');
        let parentTimer: NodeJS.Timeout | undefined;
        if (parentAfterMs !== undefined) parentTimer = setTimeout(() => parent.abort(parentReason), parentAfterMs);
        const outcome = await listenOnly(timeoutMs, parent.signal, 2_000);
        clearTimeout(parentTimer);
        expect(outcome, 'the deadline never fired').to.not.equal('never');
        const { reason, afterMs } = outcome as Outcome;
        if (reason === parentReason) {
          expect(parentAfterMs).to.not.equal(undefined);
        } else {
          expect((reason as DOMException).name).to.equal('TimeoutError');
          expect(afterMs).to.be.at.least(timeoutMs - 1);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('aborts at once under an already aborted parent, and stops its timer when cleared or aborted', async () => {
    const parent = new AbortController();
    parent.abort(new Error('gone'));
    const inherited = timeoutSignal(10_000, parent.signal);
    expect(inherited.signal.aborted).to.equal(true);
    expect((inherited.signal.reason as Error).message).to.equal('gone');
    expect(inherited.timedOut).to.equal(false);

    const cleared = timeoutSignal(20);
    cleared.clear();
    const aborted = timeoutSignal(20);
    aborted.abort(new Error('answered'));
    const outcome = await listenOnly(20, undefined, 1_000);
    expect(outcome).to.not.equal('never');
    expect(cleared.signal.aborted, 'a cleared deadline never fires').to.equal(false);
    expect(cleared.timedOut).to.equal(false);
    expect((aborted.signal.reason as Error).message).to.equal('answered');
    expect(aborted.timedOut).to.equal(false);
  });
});
