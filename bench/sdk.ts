/**
 * The client SDK over real network delay: three runtime processes (the FER2013 model only) behind delaying
 * TCP proxies on loopback, two "edges" 5 ms away and a "cloud" 80 ms away.
 *
 *   npx tsx bench/sdk.ts [--calls 300]
 *
 * 1. selection: the SDK given [cloud, edge] in that order; latency through it vs the cloud alone.
 * 2. tail: 1 response in 20 delayed by 500 ms on both edges; hedging off, at the default budget (p95 of the
 *    endpoint's observed latency), at p50 and tied (`afterMs: 0`: both edges at once, the loser cancelled);
 *    p50/p99 and the share of calls that sent a hedge.
 * 3. failover: the edge process SIGKILLed after a third of the calls; errors, p99, and the budget in force.
 * Calls are `POST /v1/vision/facial-expressions?crop=false` with a 96x96 JPEG face, one at a time.
 */
import { parseArgs } from 'node:util';
import { MLOffloadClient, type ClientOptions } from '../clients/typescript/src/index.js';
import { startDelayProxy, type DelayProxy } from '../test/helpers/delayProxy.js';
import { faceCrop, percentileOf, runLoad, startLab, stopLab, type LabSite } from '../test/helpers/edgeLab.js';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '300' } } });
const calls = Number(values.calls);
const EDGE_RTT = 5;
const CLOUD_RTT = 80;

const fmt = (ms: number) => ms.toFixed(1);
const row = (cells: (string | number)[]) => console.log(`| ${cells.join(' | ')} |`);

const lab: LabSite[] = await startLab([
  { name: 'edge-a', rttMs: EDGE_RTT },
  { name: 'edge-b', rttMs: EDGE_RTT },
  { name: 'cloud', rttMs: CLOUD_RTT },
]);
const [edgeA, edgeB, cloud] = lab as [LabSite, LabSite, LabSite];
const proxies: DelayProxy[] = [];
const image = await faceCrop();

async function measure(options: ClientOptions, count: number, onStart?: (i: number) => void | Promise<void>) {
  const client = new MLOffloadClient({ probeIntervalMs: 0, catalogueIntervalMs: 0, ...options });
  await client.ready();
  let hedges = 0;
  client.on('hedge', () => hedges++);
  await runLoad(20, 1, () => client.vision.facialExpressions(image, { crop: false }));
  const budget = client.endpoints()[0]?.hedgeBudgetMs;
  hedges = 0;
  const result = await runLoad(count, 1, () => client.vision.facialExpressions(image, { crop: false }), onStart);
  const views = client.endpoints();
  client.close();
  const p50 = percentileOf(result.latencies, 50);
  const p99 = percentileOf(result.latencies, 99);
  return { ...result, p50, p99, max: Math.max(...result.latencies), hedges, budget, views };
}

try {
  console.log(`load average at start: ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('\n### selection\n');
  row(['client', 'first endpoint', 'probe RTT ms (edge / cloud)', 'p50 ms', 'p99 ms']);
  row(['---', '---', '---', '---', '---']);
  const chosen = await measure({ endpoints: [cloud.url, edgeA.url] }, calls / 3);
  const byUrl = new Map(chosen.views.map((v) => [v.url, v]));
  row(['SDK [cloud, edge]', chosen.views[0]!.node ?? '', `${byUrl.get(edgeA.url)?.rttMs} / ${byUrl.get(cloud.url)?.rttMs}`, fmt(chosen.p50), fmt(chosen.p99)]);
  const cloudOnly = await measure({ endpoints: [cloud.url] }, calls / 3);
  row(['cloud only', 'cloud', `- / ${cloudOnly.views[0]!.rttMs}`, fmt(cloudOnly.p50), fmt(cloudOnly.p99)]);

  console.log('\n### tail: 1 response in 20 delayed by 500 ms on both edges\n');
  row(['hedging', 'budget ms (at start)', 'p50 ms', 'p99 ms', 'p99 / p50', 'max ms', 'calls >= 500 ms', 'hedges sent', 'errors']);
  row(['---', '---', '---', '---', '---', '---', '---', '---', '---']);
  for (const [label, hedge] of [
    ['off', false],
    ['p95 (default)', {}],
    ['p50', { percentile: 50 }],
    ['tied (afterMs 0)', { afterMs: 0 }],
  ] as const) {
    const slowA = await startDelayProxy({ target: { host: '127.0.0.1', port: edgeA.runtime.port }, rttMs: EDGE_RTT, slowEvery: 20, slowExtraMs: 500 });
    const slowB = await startDelayProxy({ target: { host: '127.0.0.1', port: edgeB.runtime.port }, rttMs: EDGE_RTT, slowEvery: 20, slowExtraMs: 500 });
    proxies.push(slowA, slowB);
    const r = await measure({ endpoints: [slowA.url, slowB.url, { url: cloud.url, tier: 'cloud' }], hedge: hedge as ClientOptions['hedge'] }, calls);
    const slow = r.latencies.filter((ms) => ms >= 500).length;
    row([label, r.budget === undefined ? '-' : fmt(r.budget), fmt(r.p50), fmt(r.p99), (r.p99 / r.p50).toFixed(2), fmt(r.max), slow, `${r.hedges} (${((100 * r.hedges) / calls).toFixed(0)} %)`, r.errors.length]);
  }

  console.log('\n### failover: the edge process killed after a third of the calls\n');
  row(['calls', 'errors', 'p50 ms', 'p99 ms', 'max ms', 'budget ms at the kill', 'budget + cloud RTT ms', 'answered by edge / cloud']);
  row(['---', '---', '---', '---', '---', '---', '---', '---']);
  let budgetAtKill = 0;
  let client: MLOffloadClient | undefined;
  const failover = await (async () => {
    client = new MLOffloadClient({ endpoints: [edgeA.url, { url: cloud.url, tier: 'cloud' }], probeIntervalMs: 0, catalogueIntervalMs: 0 });
    await client.ready();
    await runLoad(20, 1, () => client!.vision.facialExpressions(image, { crop: false }));
    return runLoad(calls, 1, () => client!.vision.facialExpressions(image, { crop: false }), async (i) => {
      if (i === Math.floor(calls / 3)) {
        budgetAtKill = client!.endpoints()[0]!.hedgeBudgetMs ?? 0;
        await edgeA.runtime.kill();
      }
    });
  })();
  const answered = new Map(client!.endpoints().map((v) => [v.node, v.answers]));
  client!.close();
  row([calls, failover.errors.length, fmt(percentileOf(failover.latencies, 50)), fmt(percentileOf(failover.latencies, 99)), fmt(Math.max(...failover.latencies)), fmt(budgetAtKill), fmt(budgetAtKill + CLOUD_RTT), `${answered.get('edge-a') ?? 0} / ${answered.get('cloud') ?? 0}`]);
  console.log(`\nload average at end: ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);
} finally {
  await Promise.all(proxies.map((p) => p.close()));
  await stopLab(lab);
}
