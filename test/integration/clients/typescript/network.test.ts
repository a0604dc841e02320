// The client SDK over real network delay: runtime processes behind delaying TCP proxies on loopback, an
// "edge" ~5 ms away and a "cloud" ~80 ms away. Bounds are generous: this runs on a shared 2-core machine.
import { expect } from 'chai';
import { MLOffloadClient } from '../../../../clients/typescript/src/index.js';
import { startDelayProxy, type DelayProxy } from '../../../helpers/delayProxy.js';
import { faceCrop, percentileOf, runLoad, startLab, stopLab, type LabSite } from '../../../helpers/edgeLab.js';

const EDGE_RTT = 5;
const CLOUD_RTT = 80;

describe('client SDK over delayed links to real runtime processes', function () {
  this.timeout(600_000);
  let lab: LabSite[] | undefined;
  const proxies: DelayProxy[] = [];
  const clients: MLOffloadClient[] = [];
  let image: Uint8Array;
  let edgeA: LabSite;
  let edgeB: LabSite;
  let cloud: LabSite;

  const client = (options: ConstructorParameters<typeof MLOffloadClient>[0]) => {
    const c = new MLOffloadClient({ probeIntervalMs: 0, catalogueIntervalMs: 0, ...options });
    clients.push(c);
    return c;
  };
  const call = (c: MLOffloadClient) => () => c.vision.facialExpressions(image, { crop: false });

  before(async function () {
    this.timeout(600_000);
    image = await faceCrop();
    lab = await startLab([
      { name: 'edge-a', rttMs: EDGE_RTT },
      { name: 'edge-b', rttMs: EDGE_RTT },
      { name: 'cloud', rttMs: CLOUD_RTT },
    ]);
    [edgeA, edgeB, cloud] = lab as [LabSite, LabSite, LabSite];
  });
  after(async () => {
    clients.forEach((c) => c.close());
    await Promise.all(proxies.map((p) => p.close()));
    await stopLab(lab);
  });

  it('measures the RTT of each endpoint and sends calls to the nearest one, whatever order they were given in', async () => {
    const c = client({ endpoints: [cloud.url, edgeA.url] });
    await c.ready();
    for (let i = 0; i < 3; i++) await c.probe();
    const [first, second] = c.endpoints();
    expect(first).to.include({ url: edgeA.url, node: 'edge-a' });
    expect(second).to.include({ url: cloud.url, node: 'cloud' });
    expect(first!.rttMs).to.be.at.least(EDGE_RTT).and.below(second!.rttMs!);
    expect(second!.rttMs).to.be.at.least(CLOUD_RTT);

    // Edge calls through the SDK and cloud-only calls alternate, so both see the same load on this machine.
    const cloudOnly = client({ endpoints: [cloud.url] });
    const viaSdk: number[] = [];
    const viaCloud: number[] = [];
    for (let i = 0; i < 30; i++) {
      for (const [target, into] of [[c, viaSdk], [cloudOnly, viaCloud]] as const) {
        const t0 = performance.now();
        await call(target)();
        into.push(performance.now() - t0);
      }
    }
    const byNode = Object.fromEntries(c.endpoints().map((e) => [e.node, e.answers]));
    // Hedges may send a few to the cloud when the loaded machine stalls the edge; most go to the edge.
    expect(byNode['edge-a']).to.be.at.least(25);
    // Calls through the edge are faster than the same calls through the cloud.
    expect(percentileOf(viaSdk, 50)).to.be.below(percentileOf(viaCloud, 50));
  });

  it('hedges a slow call to the next edge: with 1 response in 20 delayed by 500 ms, no call waits for a delayed one', async () => {
    const slowA = await startDelayProxy({ target: { host: '127.0.0.1', port: edgeA.runtime.port }, rttMs: EDGE_RTT, slowEvery: 20, slowExtraMs: 500 });
    const slowB = await startDelayProxy({ target: { host: '127.0.0.1', port: edgeB.runtime.port }, rttMs: EDGE_RTT, slowEvery: 20, slowExtraMs: 500 });
    proxies.push(slowA, slowB);
    const endpoints = [slowA.url, slowB.url, { url: cloud.url, tier: 'cloud' as const }];

    const plain = client({ endpoints, hedge: false });
    await plain.ready();
    const unhedged = await runLoad(160, 1, call(plain));
    const hedged = client({ endpoints });
    await hedged.ready();
    let hedges = 0;
    hedged.on('hedge', () => hedges++);
    // Warm-up: the budget comes from observed latencies.
    await runLoad(20, 1, call(hedged));
    const run = await runLoad(160, 1, call(hedged));

    expect(unhedged.errors).to.deep.equal([]);
    expect(run.errors).to.deep.equal([]);
    expect(slowA.slowed() + slowB.slowed()).to.be.at.least(10);
    // Without hedging every delayed response makes a call of 500 ms or more; with it, a second edge answers
    // those calls (the odd one may still be slow when this loaded machine stalls both edges at once).
    const slow = (latencies: number[]) => latencies.filter((ms) => ms >= 500).length;
    expect(slow(unhedged.latencies)).to.be.at.least(6);
    expect(slow(run.latencies)).to.be.at.most(3);
    // The tail (slowest 5% of calls) shrinks: at most the budget plus a second edge's latency.
    const tailMean = (latencies: number[]) => {
      const worst = [...latencies].sort((a, b) => b - a).slice(0, Math.ceil(latencies.length / 20));
      return worst.reduce((a, b) => a + b, 0) / worst.length;
    };
    expect(tailMean(unhedged.latencies)).to.be.at.least(500);
    expect(tailMean(run.latencies)).to.be.below(tailMean(unhedged.latencies) * 0.75);
    expect(percentileOf(run.latencies, 99)).to.be.below(percentileOf(unhedged.latencies, 99));
    // Hedging costs extra requests: about the share beyond the budget (p95), not every call.
    expect(hedges).to.be.at.most(run.latencies.length * 0.35);
  });

  it('answers every call when the edge process is killed mid-run: failover to the cloud within the hedging budget plus its RTT', async () => {
    const c = client({ endpoints: [edgeA.url, { url: cloud.url, tier: 'cloud' }] });
    await c.ready();
    await runLoad(20, 2, call(c));
    const budget = c.endpoints()[0]!.hedgeBudgetMs!;
    expect(c.endpoints()[0]!.node).to.equal('edge-a');
    const kill = 40;
    const run = await runLoad(120, 2, call(c), async (i) => {
      if (i === kill) await edgeA.runtime.kill();
    });
    expect(run.errors).to.deep.equal([]);
    expect(run.latencies).to.have.length(120);
    const views = c.endpoints();
    expect(views[0]).to.include({ node: 'cloud' });
    expect(views.find((v) => v.url === edgeA.url)).to.include({ up: false });
    // The worst calls are those in flight at the kill: they waited at most the budget, then went to the cloud.
    const slack = 250;
    expect(percentileOf(run.latencies, 99)).to.be.below(budget + CLOUD_RTT + slack);
  });
});
