// Operator benchmark: 300 MLServices over 3 MLModels created at once on a control plane with 20 kwok
// edge nodes. Measures the time until every MLService is Ready, reconciles per second, p99 reconcile time
// (from the operator's histogram), reconcile errors by kind, and the operator process's RSS.
//
//   npx tsx bench/operator.ts                          # starts its own control plane (20 edge nodes)
//   MLOFFLOAD_KUBECONFIG=<path> npx tsx bench/operator.ts   # reuse `npm run cluster:up -- --edge-nodes 20`
//   options: --services 300 --models 3 --edge-nodes 20 --workers 8 --timeout 300
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cacheLayout } from '../test/env/cacheLayout.js';
import { ControlPlane } from '../test/env/controlPlane.js';
import { loadConnection } from '../operator/kube/connection.js';
import { KubeClient } from '../operator/kube/restClient.js';
import { MLMODELS, MLSERVICES, collectionPath, objectPath } from '../operator/kube/resources.js';
import type { MLService } from '../operator/api/types.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '300' },
    models: { type: 'string', default: '3' },
    'edge-nodes': { type: 'string', default: '20' },
    workers: { type: 'string', default: '8' },
    timeout: { type: 'string', default: '300' },
  },
});
const SERVICES = Number(values.services);
const MODELS = Number(values.models);
const EDGE_NODES = Number(values['edge-nodes']);
const TIMEOUT_MS = Number(values.timeout) * 1000;

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Compiles the operator alone (it must run as built JavaScript: tsx would inflate its RSS). */
function buildOperator(): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mloffload-operator-build-'));
  execFileSync(
    path.join(root, 'node_modules/.bin/tsc'),
    [path.join(root, 'operator/main.ts'), '--outDir', out, '--rootDir', root, '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--skipLibCheck', '--strict', '--esModuleInterop'],
    { stdio: 'inherit' },
  );
  // The build runs from a temporary folder: let its imports resolve the project's node_modules.
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(out, 'node_modules'));
  fs.writeFileSync(path.join(out, 'package.json'), JSON.stringify({ name: 'mloffload', version: JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version, type: 'module' }));
  return path.join(out, 'operator/main.js');
}

/** CPU seconds (user + system) the process has used. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMiB(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const kv of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[kv[1]!] = kv[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** p-quantile from cumulative histogram buckets, interpolating inside the bucket. */
function histogramQuantile(samples: Sample[], name: string, q: number, controller: string): number {
  const buckets = samples
    .filter((s) => s.name === `${name}_bucket` && s.labels.controller === controller)
    .map((s) => ({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), count: s.value }))
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / Math.max(1, b.count - prevCount);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return NaN;
}

async function main(): Promise<void> {
  let plane: ControlPlane | undefined;
  let kubeconfig = process.env.MLOFFLOAD_KUBECONFIG;
  if (!kubeconfig) {
    log(`starting a control plane with ${EDGE_NODES} edge nodes`);
    plane = await ControlPlane.start({ layout: cacheLayout(), edgeNodes: EDGE_NODES, detached: false, timeoutMs: 240_000 });
    kubeconfig = plane.kubeconfig;
  }
  const kubectl = cacheLayout().binary('kubectl');
  execFileSync(kubectl, [`--kubeconfig=${kubeconfig}`, 'apply', '--server-side', '--force-conflicts', '-f', path.join(root, 'crds')], { stdio: 'ignore' });
  execFileSync(kubectl, [`--kubeconfig=${kubeconfig}`, 'wait', '--for', 'condition=Established', 'crd/mlmodels.mloffload.io', 'crd/mlservices.mloffload.io'], { stdio: 'ignore' });
  const conn = await loadConnection(kubeconfig);
  const client = new KubeClient(conn, { userAgent: 'mloffload-bench' });
  const ns = `bench-${Date.now().toString(36)}`;
  await client.create(collectionPath({ group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace' }), { metadata: { name: ns } });

  log('building the operator');
  const main = buildOperator();
  const op = spawn(process.execPath, [main, '--kubeconfig', kubeconfig, '--namespace', ns, '--metrics-port', '0', '--metrics-host', '127.0.0.1', '--workers', values.workers!, '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let port = 0;
  const opLog: string[] = [];
  op.stderr!.setEncoding('utf8');
  op.stderr!.on('data', (c: string) => opLog.push(...c.split('\n').filter(Boolean)));
  const metricsUrl = () => `http://127.0.0.1:${port}/metrics`;
  // --log-level warn hides the start line: find the port from /proc's listening sockets instead.
  for (let i = 0; i < 100 && !port; i++) {
    await sleep(100);
    const inodes = new Set(
      fs.readdirSync(`/proc/${op.pid}/fd`).map((fd) => {
        try {
          return /socket:\[(\d+)\]/.exec(fs.readlinkSync(`/proc/${op.pid}/fd/${fd}`))?.[1];
        } catch {
          return undefined;
        }
      }),
    );
    for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && inodes.has(cols[9])) port = parseInt(cols[1]!.split(':')[1]!, 16);
    }
  }
  if (!port) throw new Error(`operator did not listen: ${opLog.slice(-5).join('\n')}`);
  for (let i = 0; i < 100 && (await fetch(`http://127.0.0.1:${port}/readyz`)).status !== 200; i++) await sleep(100);
  const idle = rssMiB(op.pid!);
  log(`operator pid ${op.pid} on port ${port}, RSS at idle ${idle.rss.toFixed(1)} MiB`);

  let peakRss = idle.rss;
  const sampler = setInterval(() => {
    try {
      peakRss = Math.max(peakRss, rssMiB(op.pid!).rss);
    } catch {
      // the process has gone; the final report says so
    }
  }, 250);

  const models = Array.from({ length: MODELS }, (_, i) => ({
    apiVersion: 'mloffload.io/v1alpha1',
    kind: 'MLModel',
    metadata: { name: `model-${i}`, namespace: ns },
    spec: { task: 'vision/face-detection', framework: 'tfjs-graph', version: '1.0.0', source: { uri: `npm:@vladmandic/human/models/blazeface-${i}.json` } },
  }));
  const services = Array.from({ length: SERVICES }, (_, i) => ({
    apiVersion: 'mloffload.io/v1alpha1',
    kind: 'MLService',
    metadata: { name: `svc-${String(i).padStart(3, '0')}`, namespace: ns },
    spec: { models: [{ name: `model-${i % MODELS}` }], replicas: 1, resources: { requests: { cpu: '100m', memory: '128Mi' } } },
  }));

  const started = Date.now();
  await Promise.all(models.map((m) => client.create(collectionPath(MLMODELS, ns), m)));
  // All at once, bounded only by the client's socket pool.
  await Promise.all(services.map((s) => client.create(collectionPath(MLSERVICES, ns), s)));
  const created = Date.now() - started;
  log(`created ${MODELS} MLModels and ${SERVICES} MLServices in ${(created / 1000).toFixed(1)} s`);

  let ready = 0;
  let allReadyAt = 0;
  let lastProgress = Date.now();
  while (Date.now() - started < TIMEOUT_MS) {
    const { items } = await client.list<MLService>(collectionPath(MLSERVICES, ns));
    ready = items.filter((s) => s.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    if (ready === SERVICES) {
      allReadyAt = Date.now() - started;
      break;
    }
    if (Date.now() - lastProgress > 10_000) {
      lastProgress = Date.now();
      const deployments = (await client.list<{ status?: { readyReplicas?: number } }>(`/apis/apps/v1/namespaces/${ns}/deployments`)).items;
      log(`${((Date.now() - started) / 1000).toFixed(0)} s: ${deployments.length} Deployments (${deployments.filter((d) => d.status?.readyReplicas).length} with a ready pod), ${ready} MLServices Ready`);
    }
    await sleep(500);
  }
  const samples = parseMetrics(await (await fetch(metricsUrl())).text());
  clearInterval(sampler);
  const final = rssMiB(op.pid!);
  const cpu = cpuSeconds(op.pid!);
  const sum = (name: string, filter: (s: Sample) => boolean = () => true) => samples.filter((s) => s.name === name && filter(s)).reduce((a, s) => a + s.value, 0);
  const elapsed = (allReadyAt || Date.now() - started) / 1000;
  const reconciles = sum('reconcile_total');
  const errorsByKind: Record<string, number> = {};
  for (const s of samples.filter((x) => x.name === 'reconcile_errors_total')) errorsByKind[s.labels.kind!] = (errorsByKind[s.labels.kind!] ?? 0) + s.value;
  const result = {
    services: SERVICES,
    models: MODELS,
    edgeNodes: plane ? EDGE_NODES : 'reused cluster',
    allReady: ready === SERVICES,
    readyServices: ready,
    secondsUntilAllReady: allReadyAt ? +(allReadyAt / 1000).toFixed(1) : null,
    reconciles,
    reconcilesPerSecond: +(reconciles / elapsed).toFixed(1),
    reconcilesByController: { mlservice: sum('reconcile_total', (s) => s.labels.controller === 'mlservice'), mlmodel: sum('reconcile_total', (s) => s.labels.controller === 'mlmodel') },
    p99ReconcileMs: { mlservice: +(histogramQuantile(samples, 'reconcile_time_seconds', 0.99, 'mlservice') * 1000).toFixed(1), mlmodel: +(histogramQuantile(samples, 'reconcile_time_seconds', 0.99, 'mlmodel') * 1000).toFixed(1) },
    p50ReconcileMs: { mlservice: +(histogramQuantile(samples, 'reconcile_time_seconds', 0.5, 'mlservice') * 1000).toFixed(1) },
    errorsByKind,
    writes: sum('apply_writes_total'),
    operatorCpuSeconds: +cpu.toFixed(1),
    loadAverage: os.loadavg().map((l) => +l.toFixed(1)),
    rssMiB: { idle: +idle.rss.toFixed(1), peak: +Math.max(peakRss, final.hwm).toFixed(1), end: +final.rss.toFixed(1) },
    machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');

  op.kill('SIGTERM');
  await new Promise((r) => op.once('exit', r));
  await client.delete(objectPath({ group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace' }, '', ns));
  conn.close();
  if (plane) await plane.stop();
  if (!result.allReady) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
