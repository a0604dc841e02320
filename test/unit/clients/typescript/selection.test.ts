import { expect } from 'chai';
import fc from 'fast-check';
import { parseDiscovery } from '../../../../clients/typescript/src/discovery.js';
import { DEFAULT_BACKOFF, Endpoint, rankEndpoints } from '../../../../clients/typescript/src/endpoints.js';
import { DEFAULT_HEDGE, hedgeBudget } from '../../../../clients/typescript/src/hedging.js';
import { LatencyWindow } from '../../../../clients/typescript/src/latency.js';

describe('client SDK: latency window, endpoint ranking, discovery parsing', () => {
  it('keeps the most recent samples and gives nearest-rank percentiles over them', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 0, max: 100 }), (samples, p) => {
        const window = new LatencyWindow(64);
        samples.forEach((s) => window.add(s));
        const kept = samples.slice(-64).sort((a, b) => a - b);
        const rank = Math.min(kept.length, Math.max(1, Math.ceil((p / 100) * kept.length)));
        expect(window.count).to.equal(kept.length);
        expect(window.percentile(p)).to.equal(kept[rank - 1]);
      }),
    );
    expect(new LatencyWindow().percentile(50)).to.equal(undefined);
  });

  const endpointArb = fc.record({
    tier: fc.constantFrom('edge' as const, 'cloud' as const),
    rtt: fc.option(fc.double({ min: 0.1, max: 500, noNaN: true }), { nil: undefined }),
    down: fc.boolean(),
    failures: fc.integer({ min: 0, max: 3 }),
    tasks: fc.option(fc.subarray(['vision/face-detection', 'vision/facial-expression']), { nil: undefined }),
  });

  it('ranks endpoints: up before put aside, answering before suspect, edge before cloud, then by RTT; skips those without the task', () => {
    fc.assert(
      fc.property(fc.array(endpointArb, { maxLength: 12 }), fc.option(fc.constant('vision/facial-expression'), { nil: undefined }), (specs, task) => {
        const now = 1_000_000;
        const endpoints = specs.map((s, i) => {
          const e = new Endpoint(`http://10.0.0.${i}:8080`, s.tier);
          if (s.rtt !== undefined) e.rtt.add(s.rtt);
          if (s.down) e.downUntil = now + 1000;
          e.failures = s.down ? Math.max(1, s.failures) : s.failures;
          if (s.tasks) e.discovery = { tasks: s.tasks };
          return e;
        });
        const ranked = rankEndpoints(endpoints, now, task);
        expect(ranked).to.have.length(endpoints.filter((e) => e.serves(task)).length);
        const key = (e: Endpoint) => [e.isUp(now) ? 0 : 1, e.isUp(now) ? (e.failures > 0 ? 1 : 0) : 0, e.isUp(now) ? (e.tier === 'edge' ? 0 : 1) : 0];
        for (let i = 1; i < ranked.length; i++) {
          const [a, b] = [key(ranked[i - 1]!), key(ranked[i]!)];
          expect(a.join() <= b.join(), `${a} before ${b}`).to.equal(true);
          if (a.join() === b.join() && ranked[i]!.isUp(now)) {
            expect(ranked[i - 1]!.rtt.percentile(50) ?? Infinity).to.be.at.most(ranked[i]!.rtt.percentile(50) ?? Infinity);
          }
        }
      }),
    );
  });

  it('puts a failing endpoint aside with exponential backoff, and back at once when it answers', () => {
    const e = new Endpoint('http://edge:8080', 'edge');
    const pauses: number[] = [];
    for (let i = 0; i < 8; i++) {
      e.failed('refused', 0, DEFAULT_BACKOFF);
      pauses.push(e.downUntil);
    }
    expect(pauses[0]).to.be.within(DEFAULT_BACKOFF.baseMs * 0.75, DEFAULT_BACKOFF.baseMs * 1.25);
    expect(pauses[3]).to.be.within(DEFAULT_BACKOFF.baseMs * 8 * 0.75, DEFAULT_BACKOFF.baseMs * 8 * 1.25);
    expect(Math.max(...pauses)).to.be.at.most(DEFAULT_BACKOFF.maxMs * 1.25);
    e.failed('overloaded', 0, DEFAULT_BACKOFF, 20_000);
    expect(e.downUntil).to.be.at.least(20_000);
    e.succeeded();
    expect(e.isUp(0)).to.equal(true);
    expect(e.failures).to.equal(0);
  });

  it('takes the hedging budget from the observed latency, bounded, and a fixed budget when given', () => {
    const e = new Endpoint('http://edge:8080', 'edge');
    expect(hedgeBudget(e, DEFAULT_HEDGE)).to.equal(250);
    e.rtt.add(10);
    expect(hedgeBudget(e, DEFAULT_HEDGE)).to.equal(90);
    expect(hedgeBudget(e, { ...DEFAULT_HEDGE, initialMs: 30 })).to.equal(30);
    for (let i = 1; i <= 100; i++) e.latency.add(i);
    expect(hedgeBudget(e, DEFAULT_HEDGE)).to.equal(95);
    expect(hedgeBudget(e, { ...DEFAULT_HEDGE, percentile: 50 })).to.equal(50);
    expect(hedgeBudget(e, { ...DEFAULT_HEDGE, maxMs: 40 })).to.equal(40);
    expect(hedgeBudget(e, { ...DEFAULT_HEDGE, afterMs: 7 })).to.equal(7);
  });

  it('reads any discovery document without throwing, keeping only http(s) endpoints, at most 64', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (body) => {
        const doc = parseDiscovery(body, 'https://edge.example');
        for (const e of doc.endpoints ?? []) expect(e.url).to.match(/^https?:\/\//);
      }),
    );
    const many = { endpoints: Array.from({ length: 500 }, (_, i) => ({ url: `https://e${i}.example/`, tier: i % 2 ? 'cloud' : 'elsewhere' })) };
    const doc = parseDiscovery({ ...many, node: 'edge-1', models: [{ name: 'm', task: 't', version: '1', state: 'AVAILABLE', benchmark: { latencyMs: { p50: 1, p95: 2 }, throughputPerSec: 9 } }] });
    expect(doc.endpoints).to.have.length(64);
    expect(doc.endpoints![0]).to.deep.equal({ url: 'https://e0.example' });
    expect(doc.endpoints![1]).to.deep.equal({ url: 'https://e1.example', tier: 'cloud' });
    expect(doc.models![0]).to.deep.include({ latencyMs: { p50: 1, p95: 2 }, throughputPerSec: 9 });
    expect(parseDiscovery({ endpoints: [{ url: 'javascript:alert(1)' }, { url: 'file:///etc/passwd' }, { url: '/relative' }] }, 'https://edge.example').endpoints).to.deep.equal([
      { url: 'https://edge.example/relative' },
    ]);
  });
});
