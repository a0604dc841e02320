import { expect } from 'chai';
import fc from 'fast-check';
import type { MLModel } from '../../../operator/api/types.js';
import { BenchmarkReader, BenchmarkStore, entriesFrom, MAX_BENCHMARK_ENTRIES, MAX_READS_WHILE_MEASURING, MEASURING_RETRY_MS } from '../../../operator/reconcile/benchmarks.js';
import { RuntimeObserver } from '../../../operator/reconcile/runtimeObservation.js';
import type { Logger } from '../../../operator/logger.js';
import { eventually } from '../../helpers/eventually.js';
import type { KubeClient } from '../../../operator/kube/restClient.js';
import { reachableEndpoints, type EndpointPodView, type ServiceView } from '../../../operator/reconcile/endpoints.js';
import { podProxyPath } from '../../../operator/kube/podProxy.js';
import { model, service } from './fixtures.js';

const labels = { 'app.kubernetes.io/name': 'mloffload-inference-runtime', 'app.kubernetes.io/instance': 'faces' };
const pod = (name: string, node: string, hostIP: string, ready = true): EndpointPodView => ({
  metadata: { name, uid: `uid-${name}`, labels },
  spec: { nodeName: node },
  status: { hostIP, podIP: '10.244.0.9', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const nodePort = (name: string, port: number, type = 'NodePort'): ServiceView => ({
  metadata: { name },
  spec: { type, selector: labels, ports: [{ name: 'https', port: 8443, targetPort: 'https', nodePort: port }] },
});

describe('operator: published endpoints of an MLService', () => {
  const svc = service('faces', { tls: { secretName: 'tls' }, port: 8443 });

  it('lists each node with a ready pod at its address and the node port of every NodePort Service selecting the pods', () => {
    const pods = [pod('a', 'edge-1', '192.168.1.10'), pod('b', 'edge-0', '192.168.1.11'), pod('c', 'edge-0', '192.168.1.11'), pod('d', 'edge-2', '192.168.1.12', false)];
    const services = [nodePort('faces-lan', 30443), { metadata: { name: 'faces' }, spec: { type: 'ClusterIP', selector: labels, ports: [{ port: 8443 }] } }, { ...nodePort('other', 31000), spec: { ...nodePort('other', 31000).spec, selector: { app: 'other' } } }];
    expect(reachableEndpoints(svc, pods, services)).to.deep.equal([
      { url: 'https://192.168.1.11:30443', node: 'edge-0', address: '192.168.1.11', port: 30443, kind: 'NodePort', service: 'faces-lan', tier: 'edge' },
      { url: 'https://192.168.1.10:30443', node: 'edge-1', address: '192.168.1.10', port: 30443, kind: 'NodePort', service: 'faces-lan', tier: 'edge' },
    ]);
  });

  it('adds load-balancer addresses (IPv6 in brackets) as cloud endpoints, and nothing without a NodePort or LoadBalancer Service', () => {
    const lb: ServiceView = { ...nodePort('faces-lb', 32000, 'LoadBalancer'), status: { loadBalancer: { ingress: [{ ip: '2001:db8::1' }, { hostname: 'ml.example.com' }] } } };
    const out = reachableEndpoints(svc, [pod('a', 'edge-0', '192.168.1.10')], [lb]);
    expect(out.map((e) => `${e.kind} ${e.url} ${e.tier}`)).to.deep.equal([
      'NodePort https://192.168.1.10:32000 edge',
      'LoadBalancer https://[2001:db8::1]:8443 cloud',
      'LoadBalancer https://ml.example.com:8443 cloud',
    ]);
    expect(reachableEndpoints(svc, [pod('a', 'edge-0', '192.168.1.10')], [])).to.deep.equal([]);
  });

  it('reads pods through the API server proxy path, with https: for TLS runtimes', () => {
    expect(podProxyPath({ namespace: 'edge ml', pod: 'faces-7d9', scheme: 'https', port: 8443 }, '/v1/discovery')).to.equal('/api/v1/namespaces/edge%20ml/pods/https:faces-7d9:8443/proxy/v1/discovery');
    expect(podProxyPath({ namespace: 'edge', pod: 'p', scheme: 'http', port: 8080 }, '/v1/discovery')).to.equal('/api/v1/namespaces/edge/pods/p:8080/proxy/v1/discovery');
  });
});

describe('operator: benchmarks read from runtime pods', () => {
  const svc = service('faces');
  const models: MLModel[] = [model('facial-expression', { version: '2' })];
  const benchmark = (node: string, measuredAt: string) => ({
    backend: 'onnx', runtimeVersion: '0.1.0', node, measuredAt, iterations: 20, latencyMs: { p50: 1.5, p95: 2 }, batchSize: 8, throughputPerSec: 800, threads: 2,
  });

  it('takes entries of the service models at their current version only, and only well-formed ones', () => {
    const doc = {
      models: [
        { name: 'facial-expression', version: '2', benchmark: benchmark('edge-0', '2026-11-30T10:00:00.000Z') },
        { name: 'facial-expression', version: '1', benchmark: benchmark('edge-0', '2026-11-30T09:00:00.000Z') },
        { name: 'face-detector', version: '1', benchmark: benchmark('edge-0', '2026-11-30T10:00:00.000Z') },
        { name: 'facial-expression', version: '2', benchmark: { ...benchmark('edge-0', 'yesterday'), latencyMs: { p50: -1, p95: 1 } } },
      ],
    };
    const out = entriesFrom(doc, svc, models, { metadata: { name: 'faces-abc' } });
    expect(out).to.deep.equal([{ model: 'facial-expression', entry: { ...benchmark('edge-0', '2026-11-30T10:00:00.000Z'), version: '2', service: 'faces', pod: 'faces-abc' } }]);
  });

  it('never throws on what a pod sends, and keeps only conforming entries', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (doc) => {
        for (const { entry } of entriesFrom(doc, svc, models, { metadata: { name: 'p' } })) expect(entry.latencyMs.p50).to.be.a('number');
      }),
    );
  });

  it('keeps the newest entry per node, newest first, for the current version, at most the CRD allows', () => {
    const store = new BenchmarkStore();
    const entry = (node: string, at: string, version = '2') => ({ ...benchmark(node, at), version });
    expect(store.forModel('edge', 'm', '2')).to.equal(undefined);
    expect(store.record('edge', 'm', entry('edge-0', '2026-11-30T10:00:00Z'))).to.equal(true);
    expect(store.record('edge', 'm', entry('edge-0', '2026-11-30T10:00:00Z'))).to.equal(false);
    store.record('edge', 'm', entry('edge-1', '2026-11-30T11:00:00Z'));
    store.record('edge', 'm', entry('edge-2', '2026-11-30T12:00:00Z', '1'));
    expect(store.forModel('edge', 'm', '2')!.map((e) => e.node)).to.deep.equal(['edge-1', 'edge-0']);
    for (let i = 0; i < 40; i++) store.record('edge', 'm', entry(`n-${i}`, `2026-11-29T${String(i % 24).padStart(2, '0')}:00:00Z`));
    expect(store.forModel('edge', 'm', '2')).to.have.length(MAX_BENCHMARK_ENTRIES);
    expect(store.forModel('edge', 'm', '2')![0]!.node).to.equal('edge-1');
  });

  it('reads a pod again after a failure or while it loads (after the pause), and once it is ready never again', async () => {
    const answers: Array<() => unknown> = [
      () => {
        throw new Error('503: error trying to reach service');
      },
      () => ({ ready: false, models: [{ name: 'facial-expression', version: '2', state: 'LOADING' }] }),
      () => ({ ready: true, models: [{ name: 'facial-expression', version: '2', benchmark: benchmark('edge-0', '2026-11-30T10:00:00.000Z') }] }),
    ];
    let calls = 0;
    let now = 0;
    const client = { request: async () => answers[Math.min(calls++, answers.length - 1)]!() } as unknown as KubeClient;
    const changed: string[] = [];
    const reports: boolean[] = [];
    const store = new BenchmarkStore();
    const reader = new BenchmarkReader({ client, store, modelChanged: (k) => changed.push(k), unreachable: (_s, _p, _e, first) => reports.push(first), retryMs: 1000, now: () => now });
    const pods = [{ metadata: { name: 'faces-1', uid: 'u1' }, spec: { nodeName: 'edge-0' } }];
    const readAt = async (t: number) => {
      now = t;
      await reader.read(svc, models, pods);
    };
    await readAt(0);
    await readAt(500);
    expect([calls, reports]).to.deep.equal([1, [true]]);
    await readAt(1500);
    expect([calls, changed]).to.deep.equal([2, []]);
    await readAt(3000);
    expect([calls, changed]).to.deep.equal([3, ['edge/facial-expression']]);
    await readAt(9000);
    expect(calls).to.equal(3);
    expect(store.forModel('edge', 'facial-expression', '2')![0]).to.include({ node: 'edge-0', pod: 'faces-1', service: 'faces' });
  });

  it('reads a ready pod again while an available model has no benchmark yet (the runtime measures after ready), a bounded number of times', async () => {
    const measuring = { ready: true, models: [{ name: 'facial-expression', version: '2', state: 'AVAILABLE' }] };
    const measured = { ready: true, models: [{ name: 'facial-expression', version: '2', state: 'AVAILABLE', benchmark: benchmark('edge-0', '2026-11-30T10:00:00.000Z') }] };
    const run = async (answers: unknown[], reads: number) => {
      let calls = 0;
      let now = 0;
      const client = { request: async () => answers[Math.min(calls++, answers.length - 1)] } as unknown as KubeClient;
      const changed: string[] = [];
      const reader = new BenchmarkReader({ client, store: new BenchmarkStore(), modelChanged: (k) => changed.push(k), unreachable: () => undefined, retryMs: 60_000, measuringRetryMs: 1000, now: () => now });
      for (let i = 0; i < reads; i++) {
        now = i * 1500;
        await reader.read(svc, models, [{ metadata: { name: 'faces-1', uid: 'u1' }, spec: { nodeName: 'edge-0' } }]);
      }
      return { calls, changed };
    };
    expect(await run([measuring, measured], 5)).to.deep.equal({ calls: 2, changed: ['edge/facial-expression'] });
    const neverMeasured = await run([measuring], 20);
    expect(neverMeasured.changed).to.deep.equal([]);
    expect(neverMeasured.calls).to.equal(MAX_READS_WHILE_MEASURING);
  });

  it('asks for the service back after a short pause that doubles while a ready pod measures, and reads it then, long before the refresh period', async () => {
    const measuring = { ready: true, models: [{ name: 'facial-expression', version: '2', state: 'AVAILABLE' }] };
    const measured = { ready: true, models: [{ name: 'facial-expression', version: '2', state: 'AVAILABLE', benchmark: benchmark('edge-0', '2026-11-30T10:00:00.000Z') }] };
    const answers = [measuring, measuring, measured];
    let reads = 0;
    let now = 0;
    const readyPod = pod('faces-1', 'edge-0', '192.168.1.10');
    const client = {
      request: async () => answers[Math.min(reads++, answers.length - 1)],
      list: async (path: string) => ({ items: path.endsWith('/pods') ? [readyPod] : [] }),
    } as unknown as KubeClient;
    const asked: Array<[string, number]> = [];
    const changed: string[] = [];
    const reader = new BenchmarkReader({ client, store: new BenchmarkStore(), modelChanged: (k) => changed.push(k), unreachable: () => undefined, readAgain: (k, ms) => asked.push([k, ms]), now: () => now });
    const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;
    const observer = new RuntimeObserver(client, reader, quiet, 60_000, () => now);
    const observeAt = async (t: number): Promise<void> => {
      now = t;
      await observer.observe('edge/faces', svc, models, 1);
    };
    // Each read runs in the background of observe(): wait for what it leads to.
    await observeAt(0);
    await eventually(() => expect(asked).to.deep.equal([['edge/faces', MEASURING_RETRY_MS]]), { interval: 5 });
    await observeAt(MEASURING_RETRY_MS - 1);
    expect(reads).to.equal(1);
    await observeAt(MEASURING_RETRY_MS);
    await eventually(() => expect(asked).to.deep.equal([['edge/faces', MEASURING_RETRY_MS], ['edge/faces', 2 * MEASURING_RETRY_MS]]), { interval: 5 });
    await observeAt(3 * MEASURING_RETRY_MS);
    await eventually(() => expect(changed).to.deep.equal(['edge/facial-expression']), { interval: 5 });
    expect(3 * MEASURING_RETRY_MS).to.be.lessThan(60_000);
    await observeAt(4 * MEASURING_RETRY_MS);
    expect(reads).to.equal(3);
  });
});
