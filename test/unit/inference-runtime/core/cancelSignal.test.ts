import { expect } from 'chai';
import fc from 'fast-check';
import { CancelController, type CancelSignal } from '../../../../inference-runtime/core/cancelSignal.js';

type Op = { kind: 'add'; listener: number; once: boolean } | { kind: 'remove'; listener: number } | { kind: 'abort'; reason: number };

const ops = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('add' as const), listener: fc.integer({ min: 0, max: 3 }), once: fc.boolean() }),
    fc.record({ kind: fc.constant('remove' as const), listener: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ kind: fc.constant('abort' as const), reason: fc.integer({ min: 0, max: 9 }) }),
  ),
  { maxLength: 20 },
);

/** Plays `script` on a signal and its abort; returns which listener ran when, and what the signal said. */
function play(script: Op[], signal: CancelSignal, abort: (reason: unknown) => void): string[] {
  const seen: string[] = [];
  const listeners = [0, 1, 2, 3].map((n) => () => seen.push(`ran ${n} (${String(signal.reason)})`));
  for (const op of script) {
    if (op.kind === 'add') signal.addEventListener('abort', listeners[op.listener]!, { once: op.once });
    else if (op.kind === 'remove') signal.removeEventListener('abort', listeners[op.listener]!);
    else abort(op.reason);
    seen.push(`aborted ${signal.aborted} ${String(signal.reason)}`);
  }
  return seen;
}

describe('cancel signal', () => {
  it('behaves as an AbortController\'s signal for any sequence of adds, removes and aborts (generated)', () => {
    fc.assert(
      fc.property(ops, (script) => {
        const real = new AbortController();
        const lean = new CancelController();
        expect(play(script, lean.signal, (r) => lean.abort(r))).to.deep.equal(play(script, real.signal, (r) => real.abort(r)));
      }),
      { numRuns: 500 },
    );
  });

  it('runs every listener when one throws, then throws the first failure', () => {
    const lean = new CancelController();
    const ran: number[] = [];
    lean.addEventListener('abort', () => {
      ran.push(1);
      throw new Error('first');
    });
    lean.addEventListener('abort', () => {
      ran.push(2);
      throw new Error('second');
    });
    lean.addEventListener('abort', () => ran.push(3));
    expect(() => lean.abort('gone')).to.throw('first');
    expect(ran).to.deep.equal([1, 2, 3]);
    expect(lean.aborted).to.equal(true);
  });

  it('gives a real AbortSignal that follows it, made once, aborted already when it is', async () => {
    const lean = new CancelController();
    const signal = lean.toAbortSignal();
    expect(signal).to.be.instanceOf(AbortSignal);
    expect(lean.toAbortSignal()).to.equal(signal);
    const fired = new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    lean.abort(new Error('deadline'));
    await fired;
    expect((signal.reason as Error).message).to.equal('deadline');

    const late = new CancelController();
    late.abort('before');
    expect(late.toAbortSignal().aborted).to.equal(true);
    expect(late.toAbortSignal().reason).to.equal('before');
  });

  it('aborts with an AbortError by default, as AbortController does', () => {
    const lean = new CancelController();
    lean.abort();
    expect((lean.reason as DOMException).name).to.equal('AbortError');
  });
});
