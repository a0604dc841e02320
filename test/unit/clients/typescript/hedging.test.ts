import { expect } from 'chai';
import { Endpoint } from '../../../../clients/typescript/src/endpoints.js';
import { NoAnswer, runHedged, type AttemptOutcome } from '../../../../clients/typescript/src/hedging.js';

/** An attempt that settles after `ms` unless aborted; records aborts. */
function timed<T>(ms: number, outcome: AttemptOutcome<T>, aborted: string[], name: string) {
  return (signal: AbortSignal) =>
    new Promise<AttemptOutcome<T>>((resolve, reject) => {
      const timer = setTimeout(() => resolve(outcome), ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        aborted.push(name);
        reject(signal.reason);
      });
    });
}

describe('client SDK: hedged runs over ranked endpoints', () => {
  const a = new Endpoint('http://a', 'edge');
  const b = new Endpoint('http://b', 'edge');
  const c = new Endpoint('http://c', 'cloud');
  const base = {
    hedging: true,
    maxInFlight: 2,
    signal: new AbortController().signal,
    onSuccess: () => undefined,
    onFailure: () => undefined,
    now: () => performance.now(),
  };

  it('sends the call to the next endpoint after the budget, takes the first answer and aborts the loser', async () => {
    const aborted: string[] = [];
    const hedged: string[] = [];
    const plan = new Map([
      [a, timed(300, { kind: 'answer', value: 'a' }, aborted, 'a')],
      [b, timed(10, { kind: 'answer', value: 'b' }, aborted, 'b')],
    ]);
    const t0 = performance.now();
    const value = await runHedged<string>({ ...base, candidates: [a, b, c], budget: () => 30, attempt: (e, s) => plan.get(e)!(s), onHedge: (from, to) => hedged.push(`${from.url}->${to.url}`) });
    expect(value).to.equal('b');
    expect(performance.now() - t0).to.be.below(250);
    expect(hedged).to.deep.equal(['http://a->http://b']);
    expect(aborted).to.deep.equal(['a']);
  });

  it('fails over at once when an endpoint fails, and stops at a final answer', async () => {
    const failures: string[] = [];
    const value = await runHedged<string>({
      ...base,
      candidates: [a, b, c],
      budget: () => 10_000,
      onFailure: (e) => failures.push(e.url),
      attempt: async (e) => (e === c ? { kind: 'answer', value: 'cloud' } : { kind: 'retry', error: 'ECONNREFUSED' }),
    });
    expect(value).to.equal('cloud');
    expect(failures).to.deep.equal(['http://a', 'http://b']);

    const refused = new Error('400: bad image');
    let tried = 0;
    const error = await runHedged<string>({ ...base, candidates: [a, b, c], budget: () => 10_000, attempt: async () => (tried++, { kind: 'final', error: refused }) }).catch((e: unknown) => e);
    expect(error).to.equal(refused);
    expect(tried).to.equal(1);
  });

  it('rejects with every failure when no endpoint answers, and with the caller\'s reason when it gives up first', async () => {
    const error = await runHedged<string>({ ...base, candidates: [a, b], budget: () => 5, attempt: async (e) => ({ kind: 'retry', error: `${e.url} down` }) }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(NoAnswer);
    expect((error as NoAnswer).failures.map((f) => f.error).sort()).to.deep.equal(['http://a down', 'http://b down']);

    const aborted: string[] = [];
    const deadline = AbortSignal.timeout(50);
    const late = await runHedged<string>({ ...base, signal: deadline, candidates: [a, b], budget: () => 20, attempt: (e, s) => timed(5_000, { kind: 'answer', value: 'x' }, aborted, e.url)(s) }).catch((e: unknown) => e);
    expect((late as Error).name).to.equal('TimeoutError');
    expect(aborted.sort()).to.deep.equal(['http://a', 'http://b']);
  });

  it('keeps at most maxInFlight attempts, and none with hedging off', async () => {
    let inFlight = 0;
    let peak = 0;
    const attempt = async (e: Endpoint) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, e === c ? 60 : 200));
      inFlight--;
      return { kind: 'answer' as const, value: e.url };
    };
    expect(await runHedged<string>({ ...base, candidates: [a, b, c], budget: () => 10, attempt })).to.be.oneOf(['http://a', 'http://b']);
    expect(peak).to.equal(2);
    peak = 0;
    inFlight = 0;
    expect(await runHedged<string>({ ...base, hedging: false, candidates: [a, b, c], budget: () => 10, attempt })).to.equal('http://a');
    expect(peak).to.equal(1);
  });

  it('with a budget of 0 sends the call to two endpoints at once, however fast the first answers', async () => {
    const called: string[] = [];
    const hedged: string[] = [];
    const value = await runHedged<string>({
      ...base,
      candidates: [a, b, c],
      budget: () => 0,
      onHedge: (from, to) => hedged.push(`${from.url}->${to.url}`),
      attempt: async (e) => (called.push(e.url), { kind: 'answer', value: e.url }),
    });
    expect(value).to.equal('http://a');
    expect(called).to.deep.equal(['http://a', 'http://b']);
    expect(hedged).to.deep.equal(['http://a->http://b']);
  });
});
